"""Learnable halves of the tokenizers: cached tokens [B, N, P] -> embeddings [B, N, D_f].

Each adds a learned position embedding and the modality-type embedding (owned by the network).
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.config import ModalityConfig


class PatchLinearEmbedding(nn.Module):
    """One linear projection shared by all tokens of a modality (ViT patch / time-patch embedding)."""

    def __init__(self, modality: ModalityConfig, dim: int):
        super().__init__()
        self.proj = nn.Linear(modality.token_dim, dim)
        self.pos = nn.Parameter(torch.zeros(1, modality.num_tokens, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, N, P] -> [B, N, D]."""
        return self.proj(tokens) + self.pos


class PerColumnEmbedding(nn.Module):
    """Tabular columns: token c (a scalar) -> value * w_c + b_c; the column identity is in w_c, b_c.

    With P > 1 each column gets its own P -> D projection (a grouped linear map).
    """

    def __init__(self, modality: ModalityConfig, dim: int):
        super().__init__()
        n, p = modality.num_tokens, modality.token_dim
        self.weight = nn.Parameter(torch.empty(n, p, dim))
        self.bias = nn.Parameter(torch.zeros(n, dim))
        nn.init.trunc_normal_(self.weight, std=0.02 * (p ** -0.5) * 10)
        nn.init.trunc_normal_(self.bias, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, N, P] -> [B, N, D]."""
        return torch.einsum("bnp,npd->bnd", tokens, self.weight) + self.bias


class UnifiedEmbedding(nn.Module):
    """Ablation (Uni-Perceiver style): one projection and one position table shared by every modality.

    Tokens are zero-padded to the widest token size; modalities differ only by their type embedding.
    """

    def __init__(self, modalities: tuple[ModalityConfig, ...], dim: int):
        super().__init__()
        self.token_dim = max(m.token_dim for m in modalities)
        self.proj = nn.Linear(self.token_dim, dim)
        self.pos = nn.Parameter(torch.zeros(1, max(m.num_tokens for m in modalities), dim))
        nn.init.trunc_normal_(self.pos, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, N, P] -> [B, N, D]."""
        padded = nn.functional.pad(tokens, (0, self.token_dim - tokens.shape[-1]))
        return self.proj(padded) + self.pos[:, : tokens.shape[1]]


EMBEDDINGS: dict[str, type[nn.Module]] = {"patch_linear": PatchLinearEmbedding, "per_column": PerColumnEmbedding}


def register_embedding(kind: str, cls: type[nn.Module]) -> type[nn.Module]:
    """Add a learnable tokenizer kind: cls(modality: ModalityConfig, dim: int), tokens [B, N, P] -> [B, N, dim]."""
    if kind in EMBEDDINGS and EMBEDDINGS[kind] is not cls:
        raise ValueError(f"embedding kind {kind!r} is already registered")
    EMBEDDINGS[kind] = cls
    return cls


def build_embedding(modality: ModalityConfig, dim: int) -> nn.Module:
    if modality.embedding not in EMBEDDINGS:
        from omnivec2.modalities import REGISTRY

        len(REGISTRY)  # imports the modality modules, which register their own kinds
    try:
        return EMBEDDINGS[modality.embedding](modality, dim)
    except KeyError:
        raise ValueError(
            f"modality {modality.name!r}: unknown embedding {modality.embedding!r}; known: {sorted(EMBEDDINGS)}"
        ) from None
