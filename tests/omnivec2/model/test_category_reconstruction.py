"""Masked pretraining reconstructs a table's masked category codes: cross-entropy over each categorical
column's own vocabulary, next to the numeric values' squared error; all-numeric tables (the default
suite's) keep their decoder and loss as they were."""

from __future__ import annotations

import math

import pytest
import torch

from omnivec2.model import OmniVec2, preset
from omnivec2.model.config import ModalityConfig, TaskConfig, modality_config_from_spec
from omnivec2.model.decoder import MaskedDecoder, reconstruction_loss, value_weights
from omnivec2.model.masking import make_mask
from omnivec2.model.omnivec2 import Stream
from omnivec2.training.objectives import MaskedItem, StageObjective
from tests.default_suite import DATASETS

VOCAB = (0, 4, 0, 3)  # columns 1 and 3 categorical: 4 and 3 codes; V = 7
TARGET = torch.tensor([[[0.5, 0.0], [3.0, 0.0], [1.0, 1.0], [2.0, 0.0]]])  # column 1: code 3; column 3: code 2


def table_stream(column_vocab=VOCAB) -> ModalityConfig:
    return ModalityConfig(name="shop", modality="tabular", num_tokens=4, token_dim=2, embedding="per_column",
                          column_vocab=tuple(column_vocab), missing_values=True, mask_ratio=0.5,
                          tasks=(TaskConfig("bought", "classification", 2),))


def loss(pred, masked=None):
    masked = torch.ones(1, 4, dtype=torch.bool) if masked is None else masked
    return float(reconstruction_loss(pred, TARGET, masked, False, "mse", value_weights(table_stream()), VOCAB))


def test_the_decoder_adds_each_categorical_column_s_logits_after_the_token_values():
    decoder = MaskedDecoder(table_stream(), dim_in=8, dim=8, depth=1, heads=2)
    assert decoder.codes.out_features == 7
    assert decoder(torch.randn(2, 4, 8), None).shape == (2, 4, 2 + 7)


def test_the_loss_is_cross_entropy_of_the_codes_and_drops_when_the_prediction_matches():
    uniform = torch.cat([TARGET.clone(), torch.zeros(1, 4, 7)], dim=-1)  # values right, logits flat
    assert loss(uniform) == pytest.approx((math.log(4) + math.log(3)) / 4, rel=1e-6)  # 2 of 4 masked cells
    right = uniform.clone()
    right[0, 1, 2 + 3] = 30.0  # column 1's slice is logits 0..3: code 3
    right[0, 3, 2 + 4 + 2] = 30.0  # column 3's slice is logits 4..6: code 2
    assert loss(right) < 1e-6
    wrong = uniform.clone()
    wrong[0, 1, 2 + 0] = wrong[0, 3, 2 + 4 + 0] = 30.0  # both columns' code 0 (missing)
    assert loss(wrong) > loss(uniform) > 0 and math.isfinite(loss(wrong))
    only_column_1 = torch.tensor([[False, True, False, False]])
    assert loss(uniform, only_column_1) == pytest.approx(math.log(4), rel=1e-6)  # unmasked cells count nothing
    flag_wrong = right.clone()
    flag_wrong[0, 3, 1] = 1.0  # the missing flag's squared error still counts, beside the code
    assert loss(flag_wrong) == pytest.approx(1.0 / 4, rel=1e-4)


def test_masked_pretraining_of_a_categorical_table_trains_the_code_logits():
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([table_stream()]))
    tokens = TARGET.repeat(6, 1, 1)
    mask = make_mask("random", 6, 4, 0.5, generator=torch.Generator().manual_seed(0))
    total, _ = StageObjective(model)([MaskedItem("shop", tokens, mask)], use_cross=False)
    total.backward()
    assert torch.isfinite(total) and model.decoders["shop"].codes.weight.grad.abs().sum() > 0


def test_the_default_suite_s_table_keeps_its_decoder_and_its_plain_masked_mse():
    spec = DATASETS["tabular"]  # wine: 13 numeric columns, no categories
    stream = modality_config_from_spec(spec, num_tokens=13, token_dim=2)
    assert stream.column_vocab == ()
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([stream]))
    decoder = model.decoders[spec.name]
    assert decoder.codes is None and not any(name.startswith("codes") for name in decoder.state_dict())
    tokens = torch.randn(8, 13, 2)
    mask = make_mask("random", 8, 13, stream.mask_ratio, generator=torch.Generator().manual_seed(1))
    total, _ = StageObjective(model)([MaskedItem(spec.name, tokens, mask)], use_cross=False)
    torch.manual_seed(0)
    again = OmniVec2(preset("tiny").with_modalities([stream]))
    features = again.forward_streams([Stream(spec.name, tokens, mask)], use_cross=False)[0]
    pred = again.reconstruct(spec.name, features, mask)  # [8, 13, 2]: values only
    assert pred.shape == tokens.shape
    expected = ((pred - tokens) ** 2).mean(dim=-1)[mask.masked].mean()  # the masked MSE as before
    torch.testing.assert_close(total, expected, rtol=1e-6, atol=1e-7)
