"""Refitting the linear layer of the classification heads on the frozen final features (classifier
re-training, Kang et al., "Decoupling Representation and Classifier", ICLR 2020): at the end of a
supervised stage, each classification head's output layer becomes a multinomial logistic regression
fitted on its whole train split's normalised single-stream features (pooled, or flattened with
`head_pooling: flatten`): the features the head reads at evaluation.

Why: in stage 3 a head sees only the visits its task gets (about 2 x steps / tasks batches of half
a batch), which for 92 identities is a few hundred rows against 92 x D_g weights, while the linear
probe of the same features (report) reads much more of them. The shared layers and the normalisation
are left as they are; dense, embedding and regression heads keep their trained weights. A ridge
refit of the regression head (`REFIT_KINDS`) was measured and is off: on four stage-3 networks the
test RMSE of the diabetes progression went +0.007, -0.001, +0.013 and +0.041 (worse on average).

The fit is the classical baseline's model (L2 logistic regression, C = 1, sklearn's L-BFGS, or its
Newton-Cholesky solver for a binary fit of more rows than columns: the same problem; wide
inputs are fitted in their row space, `row_space_logistic`: the same problem in fewer columns),
deterministic, on the whole train split, so every data-parallel worker computes the same weights.
Unified heads (`head_sharing: unified`) are refitted as one: a logistic regression over the union
of their tasks' classes.

Dense heads (`refit_dense`; on in conf/base since 3 seeds measured depth masks +0.029): a dense head predicts each of a token's K pixels
from the token's features (`[N, K, C]` logits per sample), so its output layer is K blocks of C rows;
block k is refitted as a logistic regression from every labelled token's normalised features to its
pixel k's label (unlabelled pixels, `ignore_index`, left out; at most `DENSE_ROWS` tokens, drawn
with a fixed seed, per fit).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch

from omnivec2.model.omnivec2 import OmniVec2, head_key
from omnivec2.model.unified_head import ClassSlice
from omnivec2.parallel_fits import run_fits
from omnivec2.training.c_choice import best_on_validation
from omnivec2.training.config import TrainConfig
from omnivec2.training.data import ModalityData
from omnivec2.training.head_inputs import head_inputs

REFIT_KINDS = ("classification",)  # "regression" (ridge) is supported; measured no better, so not on
DENSE_ROWS = TrainConfig.refit_rows  # default tokens per pixel fit: keeps a dense refit to seconds per position
# Binary fits up to this many columns use Newton-Cholesky (`logistic_solver`): on the main job's
# seed-0 network a depth-mask pixel fit (20 000 tokens) took 0.17 s against 2.0 s by L-BFGS at 96
# columns and 0.31 s against 1.2 s at 160, each to a lower objective (L-BFGS stops short of the
# optimum both share; benchmark (k)). Its Hessian costs rows x columns² per step, so wide fits keep L-BFGS.
NEWTON_MAX_COLUMNS = 512


def refit_kinds(dense: bool) -> tuple[str, ...]:
    """The task kinds the end-of-stage refit covers: `REFIT_KINDS`, plus "dense" with `refit_dense`."""
    return (*REFIT_KINDS, "dense") if dense else REFIT_KINDS


@torch.no_grad()
def normalised(model: OmniVec2, key: str, rows: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """A head's inputs (`head_inputs`, [S, D']) -> what its output layer reads: their normalisation
    in eval mode, float64."""
    norm = model.heads[head_key(*key.split("/"))].norm
    was_training = norm.training
    norm.eval()
    device = next(iter([*norm.parameters(), *norm.buffers()]), rows).device
    out = torch.cat([norm(rows[i : i + batch_size].to(device)).double().cpu()
                     for i in range(0, len(rows), batch_size)])
    norm.train(was_training)
    return out.numpy()


def refit_tasks(model: OmniVec2, tasks: list[str], kinds: tuple[str, ...] = REFIT_KINDS) -> list[str]:
    """The tasks of `tasks` whose kind is in `kinds`: those `refit_heads` refits."""
    return [k for k in tasks if model.config.modality(k.split("/")[0]).task(k.split("/")[1]).kind in kinds]


def refit_heads(model: OmniVec2, data: dict[str, ModalityData], tasks: list[str], max_iter: int = 2000,
                kinds: tuple[str, ...] = REFIT_KINDS, inputs: dict[str, torch.Tensor] | None = None,
                dense_rows: int = DENSE_ROWS, validation: dict[str, ModalityData] | None = None,
                c_grid: tuple[float, ...] = (1.0,), chosen_c: dict[str, float] | None = None) -> dict[str, int]:
    """Refit the output layers of the heads of `tasks` ("<stream>/<task>") whose kind is in `kinds`
    ("classification": logistic regression, "regression": ridge, "dense": a logistic regression per
    pixel of a token) on `data` ({stream: train rows};
    what the heads read, `head_inputs`, given as `inputs` when already computed; `dense_rows`: at most
    this many tokens per pixel fit) -> {task: rows fitted on}.

    Classification heads are fitted at every inverse L2 strength of `c_grid` and keep the one their
    stream's `validation` rows score best (`c_choice`); without validation rows, or with one C, the
    first C. `chosen_c`, when given, receives {task: the C kept}."""
    keys = refit_tasks(model, tasks, kinds)
    if inputs is None:
        inputs = head_inputs(model, data, keys)
    validation = validation or {}
    choosing = [k for k in keys if len(c_grid) > 1 and len(validation.get(k.split("/")[0], ())) > 0
                and model.config.modality(k.split("/")[0]).task(k.split("/")[1]).kind == "classification"]
    validation_inputs = head_inputs(model, validation, choosing) if choosing else {}
    fitted = {}
    unified = [k for k in keys if isinstance(model.heads[head_key(*k.split("/"))], ClassSlice)]
    if unified:
        fitted.update(_refit_unified(model, data, unified, inputs, max_iter))
    jobs, costs = {}, {}  # (task, C) -> a fit returning (weight, bias, rows), run side by side below; its size
    for key in [k for k in keys if k not in unified]:
        stream, name = key.split("/")
        task = model.config.modality(stream).task(name)
        x = normalised(model, key, inputs[key])
        y = data[stream].targets[name].numpy()
        if task.kind == "dense":  # its per-pixel fits run side by side inside
            fitted[key] = _set_layer(model.heads[head_key(stream, name)].out, *_dense_logistic(
                x, y.reshape(len(x), -1).astype(np.int64), task.num_classes, task.ignore_index, max_iter, dense_rows))
            continue
        if task.kind == "classification":
            for c in c_grid if key in choosing else c_grid[:1]:
                jobs[key, c] = partial(_with_rows, _logistic, x, y.astype(np.int64), task.num_classes, max_iter, c)
                costs[key, c] = x.size * task.num_classes
        else:
            jobs[key, None] = partial(_with_rows, _ridge, x, y.astype(np.float64))
            costs[key, None] = x.size
    results = dict(zip(jobs, run_fits(list(jobs.values()), costs=list(costs.values()))))
    for key in dict.fromkeys(key for key, _ in jobs):
        options = [(c, result) for (k, c), result in results.items() if k == key]
        best = 0
        if key in choosing:
            stream, name = key.split("/")
            best, _ = best_on_validation([result[:2] for _, result in options], normalised(model, key, validation_inputs[key]),
                                         validation[stream].targets[name].numpy())
        c, result = options[best]
        fitted[key] = _set_layer(model.heads[head_key(*key.split("/"))].out, *result)
        if chosen_c is not None and c is not None:
            chosen_c[key] = c
    return {key: fitted[key] for key in keys}


def _with_rows(fit, x: np.ndarray, y: np.ndarray, *args) -> tuple[np.ndarray, np.ndarray, int]:
    """`fit(x, y, *args)` -> its (weight, bias), and the rows fitted on."""
    return (*fit(x, y, *args), len(y))


def _refit_unified(model: OmniVec2, data: dict[str, ModalityData], keys: list[str], inputs: dict[str, torch.Tensor],
                   max_iter: int) -> dict[str, int]:
    """The shared head of `head_sharing: unified`: one logistic regression over the union of its tasks'
    classes, on all their rows (task t's label c is class offset_t + c) -> {task: its rows}."""
    xs, ys, fitted = [], [], {}
    for key in keys:
        stream, name = key.split("/")
        xs.append(normalised(model, key, inputs[key]))
        ys.append(data[stream].targets[name].numpy().astype(np.int64) + model.heads[head_key(stream, name)].offset)
        fitted[key] = len(ys[-1])
    out = model.heads[head_key(*keys[0].split("/"))].out
    [(weight, bias)] = run_fits([partial(_logistic, np.concatenate(xs), np.concatenate(ys), out.out_features, max_iter)])
    _set_layer(out, weight, bias)
    return fitted


def _set_layer(out: torch.nn.Linear, weight: np.ndarray, bias: np.ndarray, rows: int = 0) -> int:
    """Copy a fit into `out` -> `rows` (what it was fitted on), passed through."""
    out.weight.data.copy_(torch.from_numpy(weight).to(out.weight))
    out.bias.data.copy_(torch.from_numpy(bias).to(out.bias))
    return rows


def _dense_logistic(x: np.ndarray, y: np.ndarray, num_classes: int, ignore_index: int | None,
                    max_iter: int, max_rows: int = DENSE_ROWS) -> tuple[np.ndarray, np.ndarray, int]:
    """x: tokens' normalised features `[T, D]`, y: their pixels' labels `[T, K]` -> (weight [K * C, D],
    bias [K * C]) of the dense head's output layer (row k * C + c: pixel k, class c), and the most
    tokens a fit read."""
    k_pixels = y.shape[1]
    weight, bias = np.zeros((k_pixels * num_classes, x.shape[1])), np.zeros(k_pixels * num_classes)
    picked = pixel_rows(y, ignore_index, max_rows)
    fits = run_fits([partial(_pixel_logistic, x, y, rows, k, num_classes, max_iter) for k, rows in picked.items()])
    for k, (block_weight, block_bias) in zip(picked, fits):
        block = slice(k * num_classes, (k + 1) * num_classes)
        weight[block], bias[block] = block_weight, block_bias
    return weight, bias, max((len(rows) for rows in picked.values()), default=0)


def pixel_rows(y: np.ndarray, ignore_index: int | None, max_rows: int = DENSE_ROWS) -> dict[int, np.ndarray]:
    """Pixel labels `[T, K]` -> {pixel k: the sorted tokens its fit reads}: the labelled ones, at most
    `max_rows` drawn with seed 0; a pixel with no labelled token is left out (its block keeps zeros:
    uniform logits)."""
    rng, picked = np.random.default_rng(0), {}
    for k in range(y.shape[1]):  # drawn in pixel order, as one after another, so the fits do not depend on the pool
        rows = np.flatnonzero(y[:, k] != ignore_index) if ignore_index is not None else np.arange(len(y))
        if len(rows) > max_rows:
            rows = np.sort(rng.choice(rows, max_rows, replace=False))
        if len(rows):
            picked[k] = rows
    return picked


def _pixel_logistic(x: np.ndarray, y: np.ndarray, rows: np.ndarray, k: int, num_classes: int,
                    max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel k's fit on the tokens `rows` (sliced here, so only the fits running hold a copy)."""
    return _logistic(x[rows], y[rows, k], num_classes, max_iter)


def logistic_solver(rows: int, columns: int, classes: int) -> str:
    """sklearn's solver for an L2 logistic fit of `rows` x `columns` over `classes` classes present:
    "newton-cholesky" for a binary fit with more rows than columns and at most `NEWTON_MAX_COLUMNS`
    columns (its Hessian is [columns + 1]² and takes a few iterations), else "lbfgs"."""
    binary_tall = classes == 2 and columns < rows and columns <= NEWTON_MAX_COLUMNS
    return "newton-cholesky" if binary_tall else "lbfgs"


def _logistic(x: np.ndarray, y: np.ndarray, num_classes: int, max_iter: int, c: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """-> (weight [C, D], bias [C]) whose softmax is the fitted model's (inverse L2 strength `c`;
    solver: `logistic_solver`). Classes the train split lacks get a zero weight and a bias far below
    the rest (never predicted); with two classes present sklearn fits one logit, split here as
    -w/2, +w/2 (the same softmax)."""
    from omnivec2.row_space_logistic import RowSpaceLogisticRegression

    weight, bias = np.zeros((num_classes, x.shape[1])), np.zeros(num_classes)
    present = np.unique(y)
    if len(present) < 2:  # nothing to separate: always the one class seen
        bias[:] = -30.0
        bias[present] = 0.0
        return weight, bias
    solver = logistic_solver(*x.shape, len(present))
    fit = RowSpaceLogisticRegression(C=c, max_iter=max_iter, solver=solver).fit(x, y)
    coef, intercept = fit.coef_, fit.intercept_
    if len(fit.classes_) == 2:
        coef, intercept = np.concatenate([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    bias[:] = intercept.min() - 30.0
    weight[fit.classes_], bias[fit.classes_] = coef, intercept
    return weight, bias


def _ridge(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """-> (weight [1, D], bias [1]) of a ridge regression (alpha 1)."""
    from sklearn.linear_model import Ridge

    fit = Ridge().fit(x, y)
    return fit.coef_.reshape(1, -1), np.atleast_1d(fit.intercept_)
