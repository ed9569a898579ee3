"""Learnable half of the point-cloud tokenizer: a mini-PointNet per kNN group (Point-BERT / Point-MAE).

Tokens `[B, G, k*3 + 3]` from `omnivec2.tokens.point_groups.PointGroups`: the k group members
relative to the centre, then the centre. Each member goes through a shared MLP, the group is
max-pooled (order-invariant), projected to D, and a positional MLP of the centre is added.
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.config import ModalityConfig


class MiniPointNetEmbedding(nn.Module):
    """tokens `[B, G, k*3 + 3]` -> `[B, G, D]`: max over k of MLP(point), plus MLP(centre)."""

    sharing = "width"  # positions come from the group centres: any number of groups

    def __init__(self, modality: ModalityConfig, dim: int, hidden: int = 64):
        super().__init__()
        if (modality.token_dim - 3) % 3 or modality.token_dim < 6:
            raise ValueError(f"modality {modality.name!r}: mini_pointnet needs tokens of k*3 + 3 values, got {modality.token_dim}")
        self.k = (modality.token_dim - 3) // 3
        self.point_mlp = nn.Sequential(nn.Linear(3, hidden), nn.GELU(), nn.Linear(hidden, 2 * hidden), nn.GELU())
        self.proj = nn.Linear(2 * hidden, dim)
        self.pos = nn.Sequential(nn.Linear(3, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, G, k*3 + 3] -> [B, G, D]."""
        b, g, _ = tokens.shape
        members = tokens[..., : self.k * 3].reshape(b, g, self.k, 3)  # [B, G, k, 3]
        centres = tokens[..., self.k * 3 :]  # [B, G, 3]
        features = self.point_mlp(members).amax(dim=2)  # [B, G, 2*hidden]
        return self.proj(features) + self.pos(centres)

