"""Learnable half of the text tokenizer: WordPiece ids [B, N, 1] -> embeddings [B, N, D].

Registered as the embedding kind `token_ids`. The id table is factorised as in ALBERT (ids ->
`FACTOR`-wide vectors -> a linear map to D): a full 30 522 x D table would outweigh the whole
CPU-preset network (30 522 x 128 = 3.9 M parameters against 1.3 M), the factorised one is 2.0 M.
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.config import ModalityConfig

FACTOR = 64
PAD_ID = 0  # WordPiece's [PAD] (omnivec2.tokens.wordpiece)


class TokenIdEmbedding(nn.Module):
    """ids (float32 holding exact integers) [B, N, 1] -> lookup + projection + learned positions [B, N, D].

    The vocabulary size comes from `modality.vocab_size` (declared by the modality spec).
    """

    sharing = "shape"  # a learned position table of N

    def __init__(self, modality: ModalityConfig, dim: int):
        super().__init__()
        if modality.vocab_size < 2:
            raise ValueError(f"modality {modality.name!r}: the token_ids embedding needs vocab_size >= 2")
        if modality.token_dim != 1:
            raise ValueError(f"modality {modality.name!r}: token_ids expects tokens [B, N, 1], not P={modality.token_dim}")
        self.ids = nn.Embedding(modality.vocab_size, FACTOR)
        self.proj = nn.Linear(FACTOR, dim)
        self.pos = nn.Parameter(torch.zeros(1, modality.num_tokens, dim))
        nn.init.trunc_normal_(self.ids.weight, std=0.02)
        nn.init.trunc_normal_(self.pos, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, N, 1] -> [B, N, D]."""
        ids = tokens[..., 0].round().long()  # round: a float id is exact, but be safe under autocast
        return self.proj(self.ids(ids)) + self.pos

    @staticmethod
    def padding(tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B, N, 1] -> [B, N] bool, True at [PAD]."""
        return tokens[..., 0].round().long() == PAD_ID
