"""`training.refit_c_grid`: the end-of-stage classification fits try each inverse L2 strength and keep
the one the validation split scores best; one C (the default) fits as before."""

import numpy as np
import pytest
import torch

from omnivec2.model.omnivec2 import head_key
from omnivec2.training.c_choice import best_on_validation
from omnivec2.training.config import TrainConfig
from omnivec2.training.head_refit import refit_heads
from omnivec2.training.readout_select import select_readouts
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data


def test_the_best_validation_accuracy_wins_and_the_first_listed_wins_a_tie():
    x, y = np.eye(2), np.array([0, 1])
    right = (np.eye(2), np.zeros(2))
    wrong = (np.eye(2)[::-1], np.zeros(2))
    assert best_on_validation([wrong, right], x, y) == (1, [0.0, 1.0])
    assert best_on_validation([right, right], x, y)[0] == 0


def _learnable(rows: int, seed: int):
    """Image rows whose digit is carried by the tokens, so a weakly regularised fit generalises."""
    data = fixed_data(rows=rows, seed=seed, modalities=("image",))
    labels = data["image"].targets["digit"]
    data["image"].tokens[:] = data["image"].tokens * 0.1 + labels.float()[:, None, None]
    return data


def test_the_refit_keeps_the_c_validation_prefers_and_says_which():
    train, validation = _learnable(60, 0), _learnable(30, 1)
    model = tiny_model(0, head_norm="batch")
    chosen: dict[str, float] = {}
    # C = 1e-8 shrinks every weight to about zero (a constant answer); validation prefers 1.0 although listed second
    fitted = refit_heads(model, train, ["image/digit"], validation=validation, c_grid=(1e-8, 1.0), chosen_c=chosen)
    assert fitted == {"image/digit": 60} and chosen == {"image/digit": 1.0}
    reference = tiny_model(0, head_norm="batch")
    refit_heads(reference, train, ["image/digit"])  # the default: C = 1 only
    out, ref = model.heads[head_key("image", "digit")].out, reference.heads[head_key("image", "digit")].out
    assert torch.equal(out.weight, ref.weight) and torch.equal(out.bias, ref.bias)


def test_without_validation_rows_the_first_c_is_fitted():
    model = tiny_model(0, head_norm="batch")
    chosen: dict[str, float] = {}
    refit_heads(model, _learnable(60, 0), ["image/digit"], c_grid=(1e-8, 1.0), chosen_c=chosen)
    assert chosen == {"image/digit": 1e-8}
    assert model.heads[head_key("image", "digit")].out.weight.abs().max() < 1e-4


def test_the_flattened_readout_keeps_the_c_validation_prefers():
    train, validation = _learnable(60, 0), _learnable(30, 1)
    model = tiny_model(0, head_norm="batch", head_pooling="select")
    chosen = select_readouts(model, train, validation, ["image/digit"], c_grid=(1e-8, 1.0))
    assert chosen["head_readout_c/image/digit"] == 1.0
    assert "head_readout_c/image/digit" not in select_readouts(model, train, validation, ["image/digit"])


@pytest.mark.parametrize("grid", [[], [0.0], [1.0, -1.0], ["a"], [True]])
def test_a_bad_grid_is_refused_naming_the_parameter(grid):
    with pytest.raises(ValueError, match="refit_c_grid"):
        TrainConfig(stage="train_multitask", refit_c_grid=grid)


def test_a_grid_from_yaml_becomes_a_tuple_of_floats():
    assert TrainConfig(stage="train_multitask", refit_c_grid=[1, 0.1]).refit_c_grid == (1.0, 0.1)
    assert TrainConfig(stage="train_multitask").refit_c_grid == (1.0,)
