"""Heads' second read-outs, fitted rather than trained: `FittedReadout` for a classification head
(`head_pooling: select`) and, at the end of this file, `FittedDenseReadout` for a dense one
(`dense_readout: select`).

A classification head trains on the mean over tokens. Beside it sits this read-out of every token side by side
(`[B, N * D]`, padding zeroed), normalised as the head normalises ("layer": per sample; "batch": per
feature with statistics over the train split), then a linear map. At the end of stage 3 it is fitted
by logistic regression on the frozen features and switched on only where it scores higher than the
mean read-out on the validation split (`training.readout_select`). Why: flattened heads trained end
to end win where a token's place carries the label (spectrogram layout, a heater's place in the
frame) and lose where objects move (3-seed screens, README); which case a task is, the validation
split can tell.

Everything here is a buffer: nothing is trained, the optimiser never sees it, and a checkpoint or a
served model carries the fit and the choice with the rest of the state dict.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-5  # as nn.BatchNorm1d / nn.LayerNorm


class FittedLinear(nn.Module):
    """What both fitted read-outs share: a linear map held as buffers (weight [O, W], bias [O]) and
    the `active` flag that says whether the head answers with it."""

    def __init__(self, outputs: int, width: int):
        super().__init__()
        self.register_buffer("weight", torch.zeros(outputs, width))
        self.register_buffer("bias", torch.zeros(outputs))
        self.register_buffer("active", torch.zeros((), dtype=torch.uint8))  # 1: the head answers with this read-out

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def linear(self, x: torch.Tensor) -> torch.Tensor:
        """x [..., W] -> [..., O] through the fitted map."""
        return F.linear(x, self.weight.to(x), self.bias.to(x))

    @torch.no_grad()
    def set_linear(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """The fitted linear map: weight [O, W], bias [O]."""
        self.weight.copy_(weight)
        self.bias.copy_(bias)


class FittedReadout(FittedLinear):
    """features [B, N, D] (+ padding [B, N] bool) -> logits [B, C], once fitted and `active`."""

    def __init__(self, tokens: int, dim: int, classes: int, norm: str):
        if norm not in ("layer", "batch"):
            raise ValueError(f"a fitted read-out normalises 'layer' or 'batch', got {norm!r}")
        super().__init__(classes, tokens * dim)
        self.tokens, self.norm_kind, width = tokens, norm, tokens * dim
        self.register_buffer("mean", torch.zeros(width))  # "batch": per-feature statistics of the train split
        self.register_buffer("var", torch.ones(width))

    def reduce(self, features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """features [B, N, D] -> [B, N * D], padding tokens as zeros."""
        if features.shape[1] != self.tokens:
            raise ValueError(f"this read-out reads {self.tokens} tokens, got {features.shape[1]}")
        return flatten_tokens(features, padding)

    def normalise(self, flat: torch.Tensor) -> torch.Tensor:
        """[B, N * D] -> the same, normalised per sample ("layer") or by the stored statistics ("batch")."""
        if self.norm_kind == "layer":
            return F.layer_norm(flat, flat.shape[-1:], eps=EPS)
        return (flat - self.mean.to(flat)) * torch.rsqrt(self.var.to(flat) + EPS)

    def forward(self, features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(self.normalise(self.reduce(features, padding)))

    @torch.no_grad()
    def set_statistics(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        """The "batch" normalisation's per-feature mean and variance over the train split, [N * D] each."""
        self.mean.copy_(mean)
        self.var.copy_(var)


def flatten_tokens(features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
    """Every token side by side [B, N, D] -> [B, N * D], the padding ones (`padding` [B, N] True) as zeros."""
    if padding is not None:
        features = features * (~padding).unsqueeze(-1).to(features.dtype)
    return features.flatten(1)


class FittedDenseReadout(FittedLinear):
    """A dense head's second read-out, fitted rather than trained (`dense_readout: select`): each
    token's normalised features [B, N, D] beside its input token [B, N, P] (standardised with the train
    split's per-value statistics) -> logits [B, N, K * C] through one linear map.

    Why: a token of g carries D features for K pixels of C classes; where each pixel's class is in its
    own input values (a hyperspectral pixel's spectrum), the shared layers need not keep them all,
    and a read-out that also sees the input token recovers them, as segmentation decoders take
    low-level features beside the deep ones. Buffers only, like `FittedReadout`."""

    def __init__(self, dim: int, token_dim: int, outputs: int):
        super().__init__(outputs, dim + token_dim)
        self.dim, self.token_dim = dim, token_dim
        self.register_buffer("token_mean", torch.zeros(token_dim))
        self.register_buffer("token_var", torch.ones(token_dim))

    def inputs(self, normed: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """normed [..., D] (the head's normalised features), tokens [..., P] -> what the map reads [..., D + P]."""
        if tokens.shape[-1] != self.token_dim:
            raise ValueError(f"this read-out reads input tokens of {self.token_dim} values, got {tokens.shape[-1]}")
        tokens = tokens.to(normed.dtype)
        standard = (tokens - self.token_mean.to(tokens)) * torch.rsqrt(self.token_var.to(tokens) + EPS)
        return torch.cat([normed, standard], dim=-1)

    def forward(self, normed: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        return self.linear(self.inputs(normed, tokens))

    @torch.no_grad()
    def set_statistics(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        """The input tokens' per-value mean and variance over the train split, [P] each."""
        self.token_mean.copy_(mean)
        self.token_var.copy_(var)
