"""Refitting the pooled heads' output layers: the head then predicts what the logistic regression
(ridge) fitted on its normalised features predicts; dense heads and the shared layers are untouched;
stage 3 refits only when switched on."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, Ridge

from omnivec2.evaluation.metrics import predict_task
from omnivec2.model.omnivec2 import head_key
from omnivec2.training.config import TrainConfig
import pytest

from omnivec2.training.head_inputs import head_inputs
from omnivec2.training.head_refit import (NEWTON_MAX_COLUMNS, _dense_logistic, _logistic, logistic_solver, normalised,
                                          refit_heads, refit_kinds, refit_tasks)
from omnivec2.training.step_loop import train_stage
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data


@pytest.mark.parametrize("pooling", ["mean", "flatten"])
def test_a_refitted_head_predicts_what_the_fitted_linear_model_predicts(pooling):
    model = tiny_model(0, head_norm="batch", head_pooling=pooling)
    data = fixed_data(rows=60, modalities=("image", "tabular_regression", "depth"))
    data["tabular_regression"].targets["progression"] = torch.randn(60, generator=torch.Generator().manual_seed(1)) + 3
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tasks = ["image/digit", "tabular_regression/progression", "depth/object_mask"]
    assert refit_heads(tiny_model(0, head_norm="batch", head_pooling=pooling), data, tasks) == {"image/digit": 60}  # the default kinds
    fitted = refit_heads(model, data, tasks, kinds=("classification", "regression"))

    assert fitted == {"image/digit": 60, "tabular_regression/progression": 60}  # the dense head is not refitted
    changed = {k for k, v in model.state_dict().items() if not torch.equal(before[k], v)}
    assert changed == {f"heads.{head_key('image', 'digit')}.out.weight", f"heads.{head_key('image', 'digit')}.out.bias",
                       f"heads.{head_key('tabular_regression', 'progression')}.out.weight",
                       f"heads.{head_key('tabular_regression', 'progression')}.out.bias"}

    model.eval()
    read = lambda key: normalised(model, key, head_inputs(model, data, [key])[key])
    x = read("image/digit")
    assert x.shape == (60, model.config.dim_g * (model.config.modality("image").num_tokens if pooling == "flatten" else 1))
    y = data["image"].targets["digit"].numpy()
    head_says = predict_task(model, "image", "digit", data["image"].tokens).argmax(-1).numpy()
    assert np.array_equal(head_says, LogisticRegression(max_iter=2000).fit(x, y).predict(x))
    x = read("tabular_regression/progression")  # regression heads always average
    target = data["tabular_regression"].targets["progression"].numpy().astype(np.float64)
    head_says = predict_task(model, "tabular_regression", "progression", data["tabular_regression"].tokens).numpy()
    assert np.allclose(head_says, Ridge().fit(x, target).predict(x), atol=1e-4)


def test_two_classes_become_two_logits_and_a_class_the_train_split_lacks_is_never_predicted():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = (x[:, 0] > 0).astype(int) * 2  # classes 0 and 2 of 3: class 1 has no train row
    weight, bias = _logistic(x, y, 3, 1000)
    logits = x @ weight.T + bias
    reference = LogisticRegression(max_iter=1000, solver=logistic_solver(40, 5, 2)).fit(x, y)
    assert np.array_equal(logits.argmax(1), reference.predict(x))
    assert np.allclose(torch.softmax(torch.from_numpy(logits[:, [0, 2]]), 1).numpy(), reference.predict_proba(x))
    assert (logits[:, 1] < logits.max(1) - 20).all()
    one = _logistic(x, np.full(40, 1), 3, 1000)  # a single class: always that class
    assert ((x @ one[0].T + one[1]).argmax(1) == 1).all()


def test_binary_fits_of_more_rows_than_columns_use_newton_cholesky_and_the_rest_lbfgs():
    assert logistic_solver(1000, 96, 2) == "newton-cholesky"
    assert logistic_solver(1000, NEWTON_MAX_COLUMNS, 2) == "newton-cholesky"
    assert logistic_solver(100_000, NEWTON_MAX_COLUMNS + 1, 2) == "lbfgs"  # its Hessian would cost too much
    assert logistic_solver(1000, 96, 3) == "lbfgs"  # multinomial: a Hessian of (96 + 1) x 3 squared
    assert logistic_solver(96, 96, 2) == logistic_solver(50, 96, 2) == "lbfgs"  # wide: row space, L-BFGS


def _objective(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """C = 1: summed log loss + ||w||² / 2 of a binary fit returned as two logits -w/2, +w/2."""
    z = x @ weight.T + bias
    log_loss = np.logaddexp(z[:, 0], z[:, 1]) - z[np.arange(len(y)), y]
    return float(log_loss.sum() + 0.5 * ((weight[1] - weight[0]) ** 2).sum())


def test_the_newton_fit_reaches_the_optimum_a_converged_lbfgs_fit_reaches():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 40)) * rng.uniform(0.1, 10, size=40)  # badly scaled columns slow L-BFGS
    y = (x @ rng.normal(size=40) + rng.logistic(size=3000) * 5 > 0).astype(int)
    weight, bias = _logistic(x, y, 2, 2000)
    tight = LogisticRegression(max_iter=100_000, tol=1e-12).fit(x, y)
    tight_weight = np.concatenate([-tight.coef_ / 2, tight.coef_ / 2])
    tight_bias = np.concatenate([-tight.intercept_ / 2, tight.intercept_ / 2])
    assert logistic_solver(*x.shape, 2) == "newton-cholesky"
    assert _objective(weight, bias, x, y) <= _objective(tight_weight, tight_bias, x, y) * (1 + 1e-6)
    assert np.allclose(weight, tight_weight, atol=1e-3) and np.allclose(bias, tight_bias, atol=1e-3)


def test_stage3_refits_at_its_end_only_when_switched_on():
    def run(refit: bool):
        model = tiny_model(0, head_norm="batch")
        config = TrainConfig(stage="train_multitask", steps=4, batch_size=8, seed=0, log_every=2,
                             precise_head_norm=True, refit_heads=refit)
        _, history = train_stage(model, fixed_data(rows=24, modalities=("image", "tabular")), config)
        return model, history

    plain, plain_history = run(False)
    refitted, history = run(True)
    assert history[-1]["head_refit_rows/image/digit"] == 24 and history[-1]["head_norm_rows/image/digit"] == 24
    assert not any(k.startswith("head_refit_rows/") for entry in plain_history for k in entry)
    out = lambda m: m.heads[head_key("image", "digit")].out.weight
    shared = lambda m: {k: v for k, v in m.state_dict().items() if not k.startswith("heads.")}
    assert not torch.allclose(out(plain), out(refitted))
    assert all(torch.equal(v, shared(refitted)[k]) for k, v in shared(plain).items())


def test_a_refitted_dense_head_predicts_each_pixel_as_its_own_fitted_linear_model():
    model = tiny_model(0, head_norm="batch")
    data = fixed_data(rows=20, modalities=("depth",))
    labels = data["depth"].targets["object_mask"]  # [S, N, K]
    labels[:, :, 0] = 1  # pixel 0 of every token: one class only
    before = {k: v.clone() for k, v in model.state_dict().items()}
    kinds = refit_kinds(dense=True)
    assert refit_tasks(model, ["depth/category", "depth/object_mask"], kinds) == ["depth/category", "depth/object_mask"]
    fitted = refit_heads(model, data, ["depth/object_mask"], kinds=kinds)
    s, n, k = labels.shape
    assert fitted == {"depth/object_mask": s * n}
    key = f"heads.{head_key('depth', 'object_mask')}"
    changed = {name for name, v in model.state_dict().items() if not torch.equal(before[name], v)}
    assert changed == {f"{key}.out.weight", f"{key}.out.bias"}

    model.eval()
    x = normalised(model, "depth/object_mask", head_inputs(model, data, ["depth/object_mask"])["depth/object_mask"])
    head_says = predict_task(model, "depth", "object_mask", data["depth"].tokens).argmax(-1).reshape(s * n, k).numpy()
    y = labels.reshape(s * n, k).numpy()
    assert (head_says[:, 0] == 1).all()
    for pixel in (1, k - 1):
        reference = LogisticRegression(max_iter=2000, solver=logistic_solver(*x.shape, 2))
        assert np.array_equal(head_says[:, pixel], reference.fit(x, y[:, pixel]).predict(x))


def test_a_dense_refit_leaves_unlabelled_pixels_out():
    x = np.random.default_rng(0).normal(size=(30, 4))
    y = np.stack([(x[:, 0] > 0).astype(int), np.full(30, 255)], axis=1)  # pixel 1 never labelled
    y[:5, 0] = 255
    weight, bias, most = _dense_logistic(x, y, 2, 255, 1000)
    assert most == 25 and not weight[2:].any() and not bias[2:].any()
    expected = LogisticRegression(max_iter=1000).fit(x[5:], y[5:, 0]).predict(x)
    assert np.array_equal((x @ weight[:2].T + bias[:2]).argmax(1), expected)
