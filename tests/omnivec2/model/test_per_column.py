"""The tabular embedding: numeric tokens value * w_c + b_c (+ m_c where missing), categorical tokens by
per-column lookup tables sized by `column_vocab`; and category codes left out of the reconstruction."""

from __future__ import annotations

import pytest
import torch

from omnivec2.model.config import ModalityConfig
from omnivec2.model.decoder import reconstruction_loss, value_weights
from omnivec2.model.embeddings import PerColumnEmbedding


def table_stream(column_vocab=(0, 4, 0, 3), missing_values=True) -> ModalityConfig:
    return ModalityConfig(name="shop", modality="tabular", num_tokens=4, token_dim=2, embedding="per_column",
                          column_vocab=tuple(column_vocab), missing_values=missing_values)


def test_numeric_and_categorical_columns():
    torch.manual_seed(0)
    embedding = PerColumnEmbedding(table_stream(), dim=8)
    assert embedding.codes.num_embeddings == 7  # column 1: rows 0..3, column 3: rows 4..6
    tokens = torch.tensor([[[0.5, 0.0], [2.0, 0.0], [0.0, 1.0], [9.0, 0.0]]])  # code 9 of column 3: out of range
    x = embedding(tokens)
    assert x.shape == (1, 4, 8)
    torch.testing.assert_close(x[0, 0], 0.5 * embedding.weight[0] + embedding.bias[0])
    torch.testing.assert_close(x[0, 2], embedding.bias[2] + embedding.missing[2])  # missing numeric cell
    torch.testing.assert_close(x[0, 1], embedding.codes.weight[2])
    torch.testing.assert_close(x[0, 3], embedding.codes.weight[4 + 2])  # clamped to the column's last code


def test_a_complete_all_numeric_table_has_no_lookup_table_nor_missing_embedding():
    embedding = PerColumnEmbedding(table_stream((), missing_values=False), dim=8)
    assert embedding.codes is None and embedding.missing is None
    tokens = torch.tensor([[[0.5, 0.0], [2.0, 0.0], [0.0, 0.0], [1.0, 0.0]]])
    torch.testing.assert_close(embedding(tokens), tokens[..., :1] * embedding.weight + embedding.bias)
    with pytest.raises(ValueError, match=r"stream 'shop': per_column expects tokens \[B, N, 2\]"):
        PerColumnEmbedding(ModalityConfig(name="shop", num_tokens=4, token_dim=1, embedding="per_column"), dim=8)
    with pytest.raises(ValueError, match=r"column_vocab has 2 entries for 4 columns"):
        PerColumnEmbedding(table_stream((0, 3)), dim=8)


def test_category_codes_are_not_regressed_in_masked_reconstruction():
    weights = value_weights(table_stream())
    assert weights.tolist() == [[1, 1], [0, 1], [1, 1], [0, 1]]
    assert value_weights(table_stream(())) is None
    target = torch.tensor([[[0.5, 0.0], [3.0, 0.0], [1.0, 1.0], [2.0, 0.0]]])
    pred = target.clone()
    pred[0, 1, 0] = pred[0, 3, 0] = 100.0  # wrong codes only: no loss
    masked = torch.ones(1, 4, dtype=torch.bool)
    assert float(reconstruction_loss(pred, target, masked, False, "mse", weights)) == 0.0
    pred[0, 1, 1] = 1.0  # a wrong missing flag counts: (1 - 0)^2 over the token's 1 weighted value, / 4 tokens
    assert float(reconstruction_loss(pred, target, masked, False, "mse", weights)) == pytest.approx(0.25)
