"""(k) Binary pixel fits by Newton-Cholesky against L-BFGS (`head_refit.logistic_solver`).

Where Newton is used: every end-of-stage binary fit with more rows than columns (up to
`NEWTON_MAX_COLUMNS`) of stage 3 and the specialists; on the default suite those are the depth
masks' dense head and its fitted read-out, one fit per pixel of a token (64 pixels, 20 000 tokens
each), which took about a third of stage 3's end-of-stage work by L-BFGS. The subject is those fits
as `finish` makes them: stage 3 on the depth maps (and the wine table, so that it has a pair of
tasks) for `STEPS` steps, then every binary pixel of every dense head fitted on the head's
normalised features (its refit) and on those features beside the token's standardised values (its
read-out, `FittedDenseReadout.inputs`), rows drawn by `head_refit.pixel_rows`, C = 1, one BLAS thread, each way in
turn (one round each: minutes at cpu).

Both solve one problem. sklearn stops L-BFGS at `tol` on the largest gradient component or at its
iteration limit, and Newton at `tol` on its step; the row reports how many Newton fits end at or
below the L-BFGS objective (C * summed log loss + ||w||² / 2), and how many train predictions agree.
The smoke run (tiny) fits 4 pixels of at most 500 tokens.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks.report import Row, Target
from benchmarks.timing import median, ratio
from benchmarks.workspace import build_trainer, stage_launch

TARGET = Target(">=", 2.0)  # seconds by L-BFGS / seconds by Newton, all fits together
DATASETS = ("depth", "tabular")  # a dense task with binary pixels, and a second modality to pair it with
STEPS, QUICK_STEPS = 100, 10
QUICK_PIXELS, QUICK_ROWS = 4, 500


def binary_pixel_fits(ctx) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """-> (task/input/pixel, x [T, D], y [T] in {0, 1}) for every pixel of a dense head whose train
    labels hold exactly two classes, each on the head's refit inputs and on its read-out's."""
    from dataclasses import replace

    from omnivec2.training.precise_heads import batch_norm_tasks, recalibrate_head_norms

    workspace = replace(ctx.workspace, manifests=[m for m in ctx.workspace.manifests if m["dataset"] in DATASETS])
    steps = QUICK_STEPS if ctx.quick else STEPS
    launch = stage_launch(workspace, ctx.preset, "train_multitask", training={"steps": steps, "val_every": 0})
    trainer = build_trainer(launch)
    for _ in range(steps):
        trainer.train_step()
    model, data = trainer.model, trainer.unsharded
    model.eval()
    with torch.no_grad():
        recalibrate_head_norms(model, data, batch_norm_tasks(model, trainer.tasks))  # as `finish` does first
        return _pixel_fits(model, data, trainer.tasks, QUICK_ROWS if ctx.quick else launch.train.refit_rows,
                           QUICK_PIXELS if ctx.quick else None)


def _pixel_fits(model, data, tasks: list[str], max_rows: int, most: int | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """`binary_pixel_fits` of a trained `model` whose heads' statistics are set, at most `most` of them:
    the inputs `readout_select.select_dense_readouts` builds, rows drawn by `head_refit.pixel_rows`."""
    from omnivec2.model.omnivec2 import head_key
    from omnivec2.training.head_inputs import head_inputs
    from omnivec2.training.head_refit import normalised, pixel_rows

    out = []
    for key in tasks:
        stream, name = key.split("/")
        task = model.config.modality(stream).task(name)
        if task.kind != "dense":
            continue
        features = torch.from_numpy(normalised(model, key, head_inputs(model, data, [key])[key]))  # [S * N, D]
        inputs = {"refit": features.numpy()}
        readout = getattr(model.heads[head_key(stream, name)], "readout", None)  # None without `dense_readout`
        if readout is not None:
            tokens = data[stream].tokens.flatten(0, 1).double()  # [S * N, P]
            readout.set_statistics(tokens.mean(0), tokens.var(0))
            inputs["read-out"] = readout.inputs(features, tokens).numpy()
        y = data[stream].targets[name].numpy().reshape(len(features), -1)
        for k, rows in pixel_rows(y, task.ignore_index, max_rows).items():
            classes = np.unique(y[rows, k])
            if len(classes) == 2:
                out += [(f"{key}/{kind}/{k}", x[rows], (y[rows, k] == classes[1]).astype(np.int64))
                        for kind, x in inputs.items()]
    return out[:most]


def objective(fit, x: np.ndarray, y: np.ndarray) -> float:
    """sklearn's binary L2 logistic objective at C = 1: summed log loss + ||w||² / 2."""
    z = x @ fit.coef_[0] + fit.intercept_[0]
    return float((np.logaddexp(0.0, z) - z * y).sum() + 0.5 * (fit.coef_ ** 2).sum())


def run(ctx) -> list[Row]:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from omnivec2.training.head_refit import logistic_solver

    fits_in = binary_pixel_fits(ctx)
    if not fits_in:
        from benchmarks.report import not_measured

        return [not_measured("k", "binary pixel fits, Newton vs L-BFGS", "no dense task with a binary pixel", TARGET)]
    max_iter = ctx.params["train_multitask"]["training"].get("refit_max_iter", 2000)
    chosen = {logistic_solver(*x.shape, 2) for _, x, _ in fits_in}
    ways = {"lbfgs": "lbfgs", "newton": "newton-cholesky"}
    seconds = {way: [] for way in ways}
    fits: dict[str, dict] = {}
    with threadpool_limits(1):
        for r in range(ctx.rounds(1)):
            for way in list(ways)[r % 2:] + list(ways)[: r % 2]:
                started = time.perf_counter()
                fits[way] = {name: LogisticRegression(max_iter=max_iter, solver=ways[way]).fit(x, y)
                             for name, x, y in fits_in}
                seconds[way].append(time.perf_counter() - started)
    per_fit = {}
    for name, x, y in fits_in:
        lbfgs, newton = fits["lbfgs"][name], fits["newton"][name]
        pred_lbfgs, pred_newton = lbfgs.predict(x), newton.predict(x)
        per_fit[name] = {"rows": x.shape[0], "columns": x.shape[1],
                         "objective_lbfgs": objective(lbfgs, x, y), "objective_newton": objective(newton, x, y),
                         "iterations_lbfgs": int(lbfgs.n_iter_[0]), "iterations_newton": int(newton.n_iter_[0]),
                         "accuracy_lbfgs": float((pred_lbfgs == y).mean()),
                         "accuracy_newton": float((pred_newton == y).mean()),
                         "agreement": float((pred_lbfgs == pred_newton).mean())}
    lbfgs_s, newton_s = median(seconds["lbfgs"]), median(seconds["newton"])
    lower = sum(f["objective_newton"] <= f["objective_lbfgs"] * (1 + 1e-9) for f in per_fit.values())
    agreement = float(np.mean([f["agreement"] for f in per_fit.values()]))
    at_limit = sum(f["iterations_lbfgs"] >= max_iter for f in per_fit.values())
    return [Row("k", f"binary pixel fits ({len(fits_in)}: dense heads' refits and read-outs after {STEPS if not ctx.quick else QUICK_STEPS} stage-3 steps), Newton-Cholesky vs L-BFGS",
                newton_s, lbfgs_s, "s", ratio(lbfgs_s, newton_s), "L-BFGS s / Newton s", TARGET,
                note=f"Newton objective at or below L-BFGS's on {lower} of {len(per_fit)} fits ({at_limit} L-BFGS "
                     f"fits at their {max_iter}-iteration limit); train predictions agree on {agreement:.4f}; "
                     f"the project's solver for these shapes: {', '.join(sorted(chosen))}",
                extra={"seconds": seconds, "max_iter": max_iter, "fits": per_fit})]
