"""Light per-modality reconstruction decoder for masked pretraining (MAE's decoder, one per modality)."""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.blocks import Transformer
from omnivec2.model.config import ModalityConfig
from omnivec2.model.masking import Mask, gather_tokens


class MaskedDecoder(nn.Module):
    """Visible features [B, N_vis, D_g] + mask -> reconstructed tokens [B, N, P], or, for
    `reconstruction="token_ce"`, logits over the vocabulary [B, N, vocab_size]. A table with
    categorical columns (`column_vocab`) gets [B, N, P + V], V = sum(column_vocab): the P token values,
    then category logits, column c's own `column_vocab[c]` of them at its slice (see `category_loss`).

    With `centres` (point clouds only, tokens [B, G, k*3 + 3] whose last 3 values are the group's
    centre), each masked group's mask token gets an MLP embedding of its centre (Point-MAE): the
    decoder is told where the hidden groups are and reconstructs only their relative points."""

    def __init__(self, modality: ModalityConfig, dim_in: int, dim: int, depth: int, heads: int,
                 centres: bool = False):
        super().__init__()
        if centres and not gives_centres(modality):
            raise ValueError(f"modality {modality.name!r}: point_centres_to_decoder needs mini_pointnet tokens")
        self.embed = nn.Linear(dim_in, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, modality.num_tokens, dim))
        self.blocks = Transformer(dim, depth, heads)
        if modality.reconstruction not in ("mse", "token_ce"):
            raise ValueError(f"modality {modality.name!r}: unknown reconstruction {modality.reconstruction!r}")
        if modality.reconstruction == "token_ce" and modality.vocab_size < 2:
            raise ValueError(f"modality {modality.name!r}: token_ce reconstruction needs vocab_size >= 2")
        outputs = modality.vocab_size if modality.reconstruction == "token_ce" else modality.token_dim
        self.pred = nn.Linear(dim, outputs)
        # Only tables with categorical columns get it: other streams' parameters (and the random
        # draws that initialise them) are as before.
        self.codes = nn.Linear(dim, sum(modality.column_vocab)) if any(modality.column_vocab) else None
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        nn.init.trunc_normal_(self.pos, std=0.02)
        # Created last and only when on: the default decoder's parameters and random draws are as before.
        self.centre_embed = nn.Sequential(nn.Linear(3, dim), nn.GELU(), nn.Linear(dim, dim)) if centres else None

    def forward(self, visible: torch.Tensor, mask: Mask | None, tokens: torch.Tensor | None = None) -> torch.Tensor:
        """visible [B, N_vis, D_in]; tokens [B, N, P], the stream's cached tokens (read only for the
        masked groups' centres when `centres` is on)."""
        x = self.embed(visible)  # [B, N_vis, d]
        if mask is not None and x.shape[1] < mask.restore.shape[1]:
            b, n = mask.restore.shape
            fill = self.mask_token.expand(b, n - x.shape[1], -1)
            x = gather_tokens(torch.cat([x, fill], dim=1), mask.restore)  # back to the original order [B, N, d]
            if self.centre_embed is not None:
                if tokens is None:
                    raise ValueError("point_centres_to_decoder: the decoder needs the stream's tokens")
                centres = self.centre_embed(tokens[..., -3:].to(x.dtype))  # [B, N, d]
                x = x + mask.masked.unsqueeze(-1).to(x.dtype) * centres  # only the mask tokens get them
        hidden = self.blocks(x + self.pos)  # [B, N, d]
        if self.codes is None:
            return self.pred(hidden)
        return torch.cat([self.pred(hidden), self.codes(hidden)], dim=-1)  # [B, N, P + V]


def gives_centres(modality: ModalityConfig) -> bool:
    """Whether the stream's tokens end with a group centre (mini-PointNet groups [k*3 + 3])."""
    return modality.embedding == "mini_pointnet"


def value_weights(modality: ModalityConfig, centres_given: bool = False) -> torch.Tensor | None:
    """[N, P] weights of the token values in the mse reconstruction, or None (all 1): a table's
    category codes (value 0 of a categorical column's token) are ids, not quantities, and are left out;
    their missing flag is still reconstructed. With `centres_given` (point_centres_to_decoder on a
    point-cloud stream) the centre, the last 3 values, is given to the decoder and not a target."""
    if centres_given and gives_centres(modality):
        weights = torch.ones(modality.num_tokens, modality.token_dim)
        weights[:, -3:] = 0.0
        return weights
    if not any(modality.column_vocab):
        return None
    weights = torch.ones(modality.num_tokens, modality.token_dim)
    weights[torch.tensor(modality.column_vocab) > 0, 0] = 0.0
    return weights


def category_loss(logits: torch.Tensor, target: torch.Tensor, column_vocab: tuple[int, ...]) -> torch.Tensor:
    """Cross-entropy of each categorical column's code: logits [B, N, V] (column c's slice, in column
    order, holds its `column_vocab[c]` logits), target [B, N, P] (code = value 0) -> [B, N] (0 at
    numeric columns). Codes are the tokenizer's, already within the column's vocabulary."""
    columns, offset = [], 0
    for c, size in enumerate(column_vocab):
        if not size:
            columns.append(logits.new_zeros(logits.shape[0]))
            continue
        codes = target[:, c, 0].long().clamp(0, size - 1)
        columns.append(nn.functional.cross_entropy(logits[:, c, offset : offset + size].float(), codes, reduction="none"))
        offset += size
    return torch.stack(columns, dim=1)


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, masked: torch.Tensor, norm_targets: bool,
                        kind: str = "mse", weights: torch.Tensor | None = None,
                        column_vocab: tuple[int, ...] = ()) -> torch.Tensor:
    """Loss over masked tokens only.

    mse: pred, target [B, N, P]; with `norm_targets` each target token is standardised over its P
    values first (MAE's norm_pix_loss); `weights` [N, P] (see `value_weights`) averages each token's
    error over its weighted values only. token_ce: pred [B, N, V] logits, target [B, N, 1] token ids.
    With a table's `column_vocab` (any > 0), pred is [B, N, P + V] (see MaskedDecoder) and a masked
    categorical cell's loss is its missing flag's squared error plus its code's cross-entropy.
    masked: [B, N] bool.
    """
    if kind == "token_ce":
        ids = target[..., 0].long()
        per_token = torch.nn.functional.cross_entropy(pred.transpose(1, 2), ids, reduction="none")  # [B, N]
        weights = masked.float()
        return (per_token * weights).sum() / weights.sum().clamp_min(1.0)
    extra = None
    if any(column_vocab):
        pred, logits = pred[..., : target.shape[-1]], pred[..., target.shape[-1] :]
        extra = category_loss(logits, target, tuple(column_vocab))  # [B, N]
    if norm_targets and target.shape[-1] > 1:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6).sqrt()
    if weights is None:
        per_token = ((pred - target) ** 2).mean(dim=-1)  # [B, N]
    else:
        weights = weights.to(pred.device, pred.dtype)
        per_token = ((pred - target) ** 2 * weights).sum(dim=-1) / weights.sum(dim=-1).clamp_min(1.0)  # [B, N]
    if extra is not None:
        per_token = per_token + extra.to(per_token.dtype)
    hidden = masked.float()
    return (per_token * hidden).sum() / hidden.sum().clamp_min(1.0)
