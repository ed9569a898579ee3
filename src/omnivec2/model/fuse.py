"""Fuse: combine g's output with the stream's own f features (a reconstructed, switchable choice)."""

from __future__ import annotations

import torch
from torch import nn


class Fuse(nn.Module):
    """o = Fuse(g(u), z); g_out, z: [B, N, D_g] -> [B, N, D_g].

    add    o = g_out + z                      (default: a second residual path around g)
    concat o = W [g_out; z]
    gate   o = s * g_out + (1 - s) * z,  s = sigmoid(W [g_out; z])
    none   o = g_out                          (ablation: no fusion)
    """

    def __init__(self, kind: str, dim: int):
        super().__init__()
        if kind not in ("add", "concat", "gate", "none"):
            raise ValueError(f"unknown fuse {kind!r}; choose add, concat, gate or none")
        self.kind = kind
        self.proj = nn.Linear(2 * dim, dim) if kind in ("concat", "gate") else None

    def forward(self, g_out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if self.kind == "add":
            return g_out + z
        if self.kind == "none":
            return g_out
        both = torch.cat([g_out, z], dim=-1)
        if self.kind == "concat":
            return self.proj(both)
        gate = torch.sigmoid(self.proj(both))
        return gate * g_out + (1 - gate) * z
