"""Precise BatchNorm for the task heads (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021): at the
end of a supervised stage, each head's normalisation statistics are recomputed over its whole train
split as the network will be evaluated (single stream, eval mode), replacing the running averages.

Why: with `head_norm: batch`, a head's running statistics are an exponential average over the last
few batches of its task, which in stage 3 (a) come every few steps only, while f and g keep moving
under the other tasks, and (b) are taken on `z + A(z, z_other)`, the two-stream features of
training, while evaluation drops A. Both make the statistics at test time differ from those the
head's last layer was trained against.
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.heads import pool
from omnivec2.model.omnivec2 import OmniVec2, Stream, head_key
from omnivec2.training.data import ModalityData


@torch.no_grad()
def recalibrate_head_norms(model: OmniVec2, data: dict[str, ModalityData], tasks: list[str],
                           batch_size: int = 256) -> dict[str, int]:
    """Reset and recompute the BatchNorm statistics of the heads of `tasks` ("<stream>/<task>") from
    `data` ({stream: its train rows}, tokens [S, N, P]): an exact mean and (unbiased) variance over
    every row, features from `forward_stream` in eval mode -> {task: rows it was computed over}.
    Heads with LayerNorm are left as they are. The model is left in the mode it was in."""
    was_training, device = model.training, next(model.parameters()).device
    model.eval()
    norms: dict[str, dict[str, nn.BatchNorm1d]] = {}
    for key in tasks:
        stream, task = key.split("/")
        norm = model.heads[head_key(stream, task)].norm
        if isinstance(norm, nn.BatchNorm1d):
            norms.setdefault(stream, {})[key] = norm
    counted = {}
    for stream, stream_norms in norms.items():
        dense = {key: model.config.modality(stream).task(key.split("/")[1]).kind == "dense" for key in stream_norms}
        sums = {key: _Moments() for key in stream_norms}
        tokens = data[stream].tokens
        for i in range(0, len(tokens), batch_size):
            batch = Stream(stream, tokens[i : i + batch_size].to(device))
            features, padding = model.forward_stream(batch), model.padding(batch)
            pooled = pool(features, padding)
            for key in stream_norms:
                sums[key].add(features.flatten(0, 1) if dense[key] else pooled)
        for key, norm in stream_norms.items():
            norm.running_mean.copy_(sums[key].mean())
            norm.running_var.copy_(sums[key].variance())
            counted[key] = len(tokens)
    model.train(was_training)
    return counted


class _Moments:
    """Running sums for an exact mean and unbiased variance over rows [R, D] added in batches (float64)."""

    def __init__(self) -> None:
        self.n, self.total, self.squares = 0, 0.0, 0.0

    def add(self, rows: torch.Tensor) -> None:
        rows = rows.double()
        self.n += len(rows)
        self.total = self.total + rows.sum(dim=0)
        self.squares = self.squares + (rows * rows).sum(dim=0)

    def mean(self) -> torch.Tensor:
        return (self.total / self.n).float()

    def variance(self) -> torch.Tensor:
        mean = self.total / self.n
        return ((self.squares - self.n * mean * mean) / max(1, self.n - 1)).clamp_min(0).float()
