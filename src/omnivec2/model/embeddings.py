"""Learnable halves of the tokenizers: cached tokens [B, N, P] -> embeddings [B, N, D_f].

Every kind declares how far it is shared between the datasets (streams) of one modality:

* `"width"`: shared by every dataset of the modality with the same token width P, whatever N;
* `"shape"`: shared by datasets with the same N and P (the module holds a position table of N);
* `"dataset"`: never shared (tabular columns: column c of one table is not column c of another).

Kinds with `has_positions = False` (the patch projection) leave positions to the network, which
keeps a learned table per dataset: a dataset's token grid is its own (4x4 patches of 8x8 digits
and 8x8 patches of 64x64 renders do not line up), so tables are not interpolated across datasets.
The network adds the modality-type embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.config import ModalityConfig


class PatchLinearEmbedding(nn.Module):
    """One linear projection shared by all tokens of a modality (ViT patch / time-patch embedding);
    positions are the network's, per dataset."""

    sharing, has_positions = "width", False

    def __init__(self, modality: ModalityConfig, dim: int):
        super().__init__()
        self.proj = nn.Linear(modality.token_dim, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, N, P] -> [B, N, D] (no positions)."""
        return self.proj(tokens)


class PerColumnEmbedding(nn.Module):
    """Tabular columns, token c = (value, missing flag) -> [D]; the column identity is in its parameters.

    Numeric column c: value * w_c + b_c, plus flag * m_c when the table may have missing values
    (`modality.missing_values`; m_c: a learned missing embedding, zero at the start). Categorical column c (`modality.column_vocab[c] > 0`; the value is a category code): a
    row of column c's own lookup table of `column_vocab[c]` rows (code 0 is "missing", 1 "unknown").
    """

    sharing = "dataset"

    def __init__(self, modality: ModalityConfig, dim: int):
        super().__init__()
        n = modality.num_tokens
        if modality.token_dim != 2:
            raise ValueError(f"stream {modality.name!r}: per_column expects tokens [B, N, 2] (value, missing flag), "
                             f"not P={modality.token_dim}")
        vocab = torch.tensor(modality.column_vocab or [0] * n, dtype=torch.long)
        if len(vocab) != n:
            raise ValueError(f"stream {modality.name!r}: column_vocab has {len(vocab)} entries for {n} columns")
        self.weight = nn.Parameter(torch.empty(n, dim))
        self.bias = nn.Parameter(torch.zeros(n, dim))
        self.missing = nn.Parameter(torch.zeros(n, dim)) if modality.missing_values else None
        nn.init.trunc_normal_(self.weight, std=0.02 * 10)
        nn.init.trunc_normal_(self.bias, std=0.02)
        categorical = torch.nonzero(vocab).flatten()  # [K] column positions
        self.register_buffer("categorical", categorical, persistent=False)
        # one table for all categorical columns; column k's codes start at offsets[k]
        self.register_buffer("offsets", torch.cumsum(vocab[categorical], 0) - vocab[categorical], persistent=False)
        self.register_buffer("sizes", vocab[categorical], persistent=False)
        self.codes = nn.Embedding(int(vocab.sum()), dim) if len(categorical) else None
        if self.codes is not None:
            nn.init.trunc_normal_(self.codes.weight, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, N, 2] -> [B, N, D]."""
        value, flag = tokens[..., :1], tokens[..., 1:]  # [B, N, 1] each
        x = value * self.weight + self.bias
        if self.missing is not None:
            x = x + flag * self.missing
        if self.codes is None:
            return x
        codes = tokens[:, self.categorical, 0].round().long()  # [B, K]
        codes = torch.minimum(codes.clamp_min(0), self.sizes - 1) + self.offsets
        return x.index_copy(1, self.categorical, self.codes(codes))


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


def _table() -> dict[str, type[nn.Module]]:
    from omnivec2.model.embeddings_graph import GraphTokenEmbedding
    from omnivec2.model.embeddings_pointcloud import MiniPointNetEmbedding
    from omnivec2.model.embeddings_text import TokenIdEmbedding

    return {"patch_linear": PatchLinearEmbedding, "per_column": PerColumnEmbedding, "graph_tokens": GraphTokenEmbedding,
            "mini_pointnet": MiniPointNetEmbedding, "token_ids": TokenIdEmbedding}


EMBEDDINGS: dict[str, type[nn.Module]] = _table()


def register_embedding(kind: str, cls: type[nn.Module]) -> type[nn.Module]:
    """Add a learnable tokenizer kind: cls(modality: ModalityConfig, dim: int), tokens [B, N, P] -> [B, N, dim]."""
    if kind in EMBEDDINGS and EMBEDDINGS[kind] is not cls:
        raise ValueError(f"embedding kind {kind!r} is already registered")
    EMBEDDINGS[kind] = cls
    return cls


def embedding_class(modality: ModalityConfig) -> type[nn.Module]:
    try:
        return EMBEDDINGS[modality.embedding]
    except KeyError:
        raise ValueError(
            f"stream {modality.name!r}: unknown embedding {modality.embedding!r}; known: {sorted(EMBEDDINGS)}"
        ) from None


def embedding_key(modality: ModalityConfig) -> str:
    """The key of the learnable tokenizer half a stream uses; streams with equal keys share one module."""
    sharing = getattr(embedding_class(modality), "sharing", "shape")
    if sharing == "dataset" or modality.own_vocabulary:  # a pruned vocabulary's ids mean its dataset's words
        return f"{modality.name}__{modality.embedding}"
    shape = f"{modality.token_dim}" if sharing == "width" else f"{modality.num_tokens}x{modality.token_dim}"
    return f"{modality.family}__{modality.embedding}__{shape}"


def owns_positions(modality: ModalityConfig) -> bool:
    """Whether the embedding adds positions itself (else the network adds a per-dataset table)."""
    return getattr(embedding_class(modality), "has_positions", True)


def build_embedding(modality: ModalityConfig, dim: int) -> nn.Module:
    return embedding_class(modality)(modality, dim)
