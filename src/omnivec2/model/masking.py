"""Token masking for masked pretraining (MAE-style: the encoder sees only the visible tokens).

A `Mask` holds, per sample, which tokens stay visible and how to restore the original order.
Every strategy masks exactly `num_masked(N, ratio)` tokens per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def num_masked(num_tokens: int, ratio: float) -> int:
    """Tokens hidden per sample: round(N * ratio), keeping at least one visible and one masked."""
    return min(max(int(round(num_tokens * ratio)), 1), num_tokens - 1)


@dataclass
class Mask:
    """keep: [B, N_vis] indices of visible tokens; restore: [B, N] inverse permutation;
    masked: [B, N] bool, True where a token is hidden from the encoder."""

    keep: torch.Tensor
    restore: torch.Tensor
    masked: torch.Tensor


def _mask_from_noise(noise: torch.Tensor, n_masked: int) -> Mask:
    """Lowest-noise tokens stay visible (MAE's argsort trick). noise: [B, N]."""
    b, n = noise.shape
    shuffle = torch.argsort(noise, dim=1)
    restore = torch.argsort(shuffle, dim=1)
    keep = shuffle[:, : n - n_masked]
    masked = torch.ones(b, n, dtype=torch.bool, device=noise.device)
    masked.scatter_(1, keep, False)
    return Mask(keep=keep, restore=restore, masked=masked)


def random_mask(batch: int, num_tokens: int, ratio: float, generator: torch.Generator | None = None,
                device: torch.device | str = "cpu") -> Mask:
    noise = torch.rand(batch, num_tokens, generator=generator, device=device)
    return _mask_from_noise(noise, num_masked(num_tokens, ratio))


def tube_mask(batch: int, num_tokens: int, ratio: float, period: int, generator: torch.Generator | None = None,
              device: torch.device | str = "cpu") -> Mask:
    """Video tube masking: tokens laid out [T, S] (S = period spatial tokens per frame); one spatial
    pattern is masked in every frame, so a moving object cannot be copied from a neighbouring frame."""
    if period < 1 or num_tokens % period:
        raise ValueError(f"tube masking needs num_tokens ({num_tokens}) divisible by period ({period})")
    frames = num_tokens // period
    n_masked_spatial = num_masked(period, ratio) if period > 1 else 0
    spatial = torch.rand(batch, period, generator=generator, device=device)
    ranks = torch.argsort(torch.argsort(spatial, dim=1), dim=1)  # rank of each spatial position
    hidden = (ranks >= period - n_masked_spatial).repeat(1, frames)  # [B, N]
    # Visible tokens get noise in [0, 1), hidden ones in [1, 2): the argsort keeps exactly the visible set.
    noise = torch.rand(batch, num_tokens, generator=generator, device=device) + hidden.float()
    return _mask_from_noise(noise, n_masked_spatial * frames)


def span_mask(batch: int, num_tokens: int, ratio: float, span: int = 3, generator: torch.Generator | None = None,
              device: torch.device | str = "cpu") -> Mask:
    """Contiguous spans (SpanBERT-like): random span starts, then exactly round(N*ratio) tokens hidden,
    preferring tokens inside the chosen spans."""
    n_masked = num_masked(num_tokens, ratio)
    n_spans = max(1, n_masked // span)
    starts = torch.randint(0, max(1, num_tokens - span + 1), (batch, n_spans), generator=generator, device=device)
    in_span = torch.zeros(batch, num_tokens, device=device)
    for offset in range(span):
        in_span.scatter_(1, (starts + offset).clamp_max(num_tokens - 1), 1.0)
    noise = torch.rand(batch, num_tokens, generator=generator, device=device) + in_span
    return _mask_from_noise(noise, n_masked)


def make_mask(strategy: str, batch: int, num_tokens: int, ratio: float, *, period: int = 1,
              generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> Mask:
    """Dispatch on the modality's strategy. "token" (BERT-style) picks tokens like "random"; the network
    then replaces them with a mask embedding instead of dropping them."""
    if strategy in ("random", "token"):
        return random_mask(batch, num_tokens, ratio, generator, device)
    if strategy == "tube":
        return tube_mask(batch, num_tokens, ratio, period, generator, device)
    if strategy == "span":
        return span_mask(batch, num_tokens, ratio, generator=generator, device=device)
    raise ValueError(f"unknown mask strategy {strategy!r}; known: random, tube, span, token")


def gather_tokens(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x: [B, N, D], index: [B, K] -> [B, K, D]."""
    return torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
