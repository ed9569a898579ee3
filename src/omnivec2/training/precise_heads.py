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

from omnivec2.model.omnivec2 import OmniVec2, head_key
from omnivec2.training.data import ModalityData
from omnivec2.training.head_inputs import head_inputs


def batch_norm_tasks(model: OmniVec2, tasks: list[str]) -> list[str]:
    """The tasks of `tasks` whose heads normalise with BatchNorm: those `recalibrate_head_norms` updates."""
    return [k for k in tasks if isinstance(model.heads[head_key(*k.split("/"))].norm, nn.BatchNorm1d)]


@torch.no_grad()
def recalibrate_head_norms(model: OmniVec2, data: dict[str, ModalityData], tasks: list[str],
                           batch_size: int = 256, inputs: dict[str, torch.Tensor] | None = None) -> dict[str, int]:
    """Reset and recompute the BatchNorm statistics of the heads of `tasks` ("<stream>/<task>") from
    `data` ({stream: its train rows}, tokens [S, N, P]): an exact mean and (unbiased) variance over
    every row of what the head reads in eval mode (`head_inputs`; given as `inputs` when already
    computed) -> {task: rows (samples) of its own it was computed over}. Heads that share a
    normalisation (`head_sharing: unified`) get one set of statistics over all their tasks' rows.
    Heads with LayerNorm are left as they are."""
    keys = batch_norm_tasks(model, tasks)
    if inputs is None:
        inputs = head_inputs(model, data, keys, batch_size)
    # heads that share one normalisation (`head_sharing: unified`) get its statistics over all their rows
    groups: dict[int, list[str]] = {}
    for key in keys:
        groups.setdefault(id(model.heads[head_key(*key.split("/"))].norm), []).append(key)
    counted = {}
    for group in groups.values():
        moments = _Moments()
        for key in group:
            rows, samples = inputs[key], len(data[key.split("/")[0]])
            per_sample = len(rows) // samples  # N for a dense head's tokens, else 1
            for i in range(0, samples, batch_size):  # in the batches they were always summed in
                moments.add(rows[i * per_sample : (i + batch_size) * per_sample])
            counted[key] = samples
        norm = model.heads[head_key(*group[0].split("/"))].norm
        norm.running_mean.copy_(moments.mean())
        norm.running_var.copy_(moments.variance())
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
