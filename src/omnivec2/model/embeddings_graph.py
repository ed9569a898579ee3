"""`graph_tokens`: the learnable half of the TokenGT tokenizer (Kim et al., NeurIPS 2022).

Cached tokens `[B, N, P]` (see `omnivec2.tokens.graph`) carry a node/edge/padding one-hot in their
first 3 features and the Laplacian node identifiers (phi_u, phi_v) in their last ones. The
embedding is a linear projection of the features after the type one-hot plus a learned type
embedding (node, edge or padding) selected by the one-hot. No learned position table: a token's
position in the graph comes from its Laplacian identifiers, so the embedding is equivariant to
the order of nodes and edges.
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.config import ModalityConfig

NUM_TYPES = 3  # node, edge, padding
TYPE_PAD = 2  # the padding column of the one-hot (omnivec2.tokens.graph)


class GraphTokenEmbedding(nn.Module):
    sharing = "width"  # Laplacian identifiers, no position table: any number of tokens

    def __init__(self, modality: ModalityConfig, dim: int):
        super().__init__()
        if modality.token_dim <= NUM_TYPES:
            raise ValueError(f"modality {modality.name!r}: graph tokens need more than {NUM_TYPES} features")
        self.proj = nn.Linear(modality.token_dim - NUM_TYPES, dim)
        self.type_embedding = nn.Parameter(torch.zeros(NUM_TYPES, dim))
        nn.init.trunc_normal_(self.type_embedding, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: [B, N, P] -> [B, N, D]."""
        return self.proj(tokens[..., NUM_TYPES:]) + tokens[..., :NUM_TYPES] @ self.type_embedding

    @staticmethod
    def padding(tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B, N, P] -> [B, N] bool, True at padding tokens."""
        return tokens[..., TYPE_PAD] > 0.5
