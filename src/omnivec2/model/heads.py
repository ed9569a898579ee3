"""Task heads h_{m,t}: fused features [B, N, D_g] -> task outputs."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from omnivec2.model.config import TaskConfig


class PooledHead(nn.Module):
    """Classification (logits [B, C]), regression ([B]) or embedding (unit vectors [B, E]) from mean-pooled tokens."""

    def __init__(self, task: TaskConfig, dim: int):
        super().__init__()
        self.kind = task.kind
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, task.num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        y = self.out(self.norm(features.mean(dim=1)))
        if self.kind == "regression":
            return y.squeeze(-1)
        if self.kind == "embedding":
            return F.normalize(y, dim=-1)
        return y


class DenseHead(nn.Module):
    """Dense prediction (segmentation): per token, logits for each of its `outputs_per_token` pixels.

    features [B, N, D] -> logits [B, N, outputs_per_token, C]; targets are tokenised the same way.
    """

    def __init__(self, task: TaskConfig, dim: int):
        super().__init__()
        self.outputs, self.classes = task.outputs_per_token, task.num_classes
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, self.outputs * self.classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        b, n, _ = features.shape
        return self.out(self.norm(features)).view(b, n, self.outputs, self.classes)


def build_head(task: TaskConfig, dim: int) -> nn.Module:
    if task.kind == "dense":
        return DenseHead(task, dim)
    if task.kind in ("classification", "regression", "embedding"):
        return PooledHead(task, dim)
    raise ValueError(f"task {task.name!r}: unknown kind {task.kind!r}")


def task_loss(kind: str, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The supervised loss of one task kind (embedding tasks: InfoNCE between paired rows, see training)."""
    if kind == "classification":
        return F.cross_entropy(output, target.long())
    if kind == "dense":
        return F.cross_entropy(output.flatten(0, 2), target.long().flatten())
    if kind == "regression":
        return F.mse_loss(output, target.float())
    if kind == "embedding":
        logits = output @ target.T / 0.07  # target: the paired embeddings [B, E]
        return F.cross_entropy(logits, torch.arange(len(output), device=output.device))
    raise ValueError(f"unknown task kind {kind!r}")
