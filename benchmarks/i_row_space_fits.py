"""(i) Wide logistic regressions fitted in the row space of their inputs
(`omnivec2.row_space_logistic`) against sklearn's fit on the inputs themselves.

Where the row space is used: every end-of-stage fit of stage 3 and the specialists (`head_refit`),
whose flattened read-outs are wide (N * D_g columns, a few hundred rows). It needs no trained network
to time, so the subject here is a fit of that shape on the classical baselines' inputs: the
standardised raw tokens [S, N * P] of every classification task with more columns than rows, the same
L-BFGS, C = 1, one BLAS thread, each way in turn (interleaved rounds). The classical baseline itself
keeps sklearn's fit on its inputs (issue 13: the baseline stays as it is).

The two fits solve one problem, but they do not stop at the same iterate: sklearn stops L-BFGS when
the largest gradient component is below `tol`, and a gradient spread over N * P columns gets there
sooner than the same gradient over S. So the row reports each fit's objective (C * summed log loss
+ ||W||² / 2, lower is closer to the optimum both fits share), test accuracy and how many test
predictions agree. The smoke run (tiny) keeps the quick tasks and 200 iterations.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.report import Row, Target
from benchmarks.timing import median, ratio

TARGET = Target(">=", 2.0)  # seconds full / seconds in the row space, all fits together
QUICK_DATASETS = ("audio", "image", "xray")
QUICK_MAX_ITER = 200


def wide_tasks(ctx) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """-> (task, standardised train x [S, D], train y, test x, test y) for every classification task
    with D > S, as the classical baseline reads them."""
    from sklearn.preprocessing import StandardScaler

    from omnivec2.tokens.cache import read_token_split
    from omnivec2.training.stage_runner import model_config_from_manifests

    manifests = [m for m in ctx.workspace.manifests if not ctx.quick or m["dataset"] in QUICK_DATASETS]
    config = model_config_from_manifests(ctx.params["model"], manifests)
    out = []
    for modality in config.modalities:
        train = read_token_split(ctx.workspace.cache_root, modality.name, "train")
        test = read_token_split(ctx.workspace.cache_root, modality.name, "test")
        x, x_test = train.tokens.reshape(len(train.tokens), -1), test.tokens.reshape(len(test.tokens), -1)
        if x.shape[1] <= x.shape[0]:
            continue
        scaler = StandardScaler().fit(x)
        for task in (t for t in modality.tasks if t.kind == "classification"):
            out.append((f"{modality.name}/{task.name}", scaler.transform(x), train.targets[task.name].astype(np.int64),
                        scaler.transform(x_test), test.targets[task.name].astype(np.int64)))
    return out


def objective(fit, x: np.ndarray, y: np.ndarray) -> float:
    """sklearn's L2 logistic objective at C = 1: summed log loss + ||W||² / 2."""
    from scipy.special import logsumexp

    z = x @ fit.coef_.T + fit.intercept_
    if z.shape[1] == 1:  # binary: one logit against zero
        z = np.hstack([np.zeros_like(z), z])
    picked = z[np.arange(len(y)), np.searchsorted(fit.classes_, y)]
    return float((logsumexp(z, axis=1) - picked).sum() + 0.5 * (fit.coef_ ** 2).sum())


def run(ctx) -> list[Row]:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from omnivec2.row_space_logistic import RowSpaceLogisticRegression

    max_iter = QUICK_MAX_ITER if ctx.quick else ctx.params["evaluation"].get("classical_max_iter", 2000)
    tasks = wide_tasks(ctx)
    ways = {"full": LogisticRegression, "row_space": RowSpaceLogisticRegression}
    seconds = {way: [] for way in ways}
    fits: dict[str, dict] = {}
    with threadpool_limits(1):
        for r in range(ctx.rounds(2)):
            for way in list(ways)[r % 2:] + list(ways)[: r % 2]:
                started = time.perf_counter()
                fits[way] = {name: ways[way](max_iter=max_iter).fit(x, y) for name, x, y, _, _ in tasks}
                seconds[way].append(time.perf_counter() - started)
    per_task = {}
    for name, x, y, x_test, y_test in tasks:
        full, row = fits["full"][name], fits["row_space"][name]
        pred_full, pred_row = full.predict(x_test), row.predict(x_test)
        per_task[name] = {"rows": x.shape[0], "columns": x.shape[1], "classes": len(full.classes_),
                          "objective_full": objective(full, x, y), "objective_row_space": objective(row, x, y),
                          "accuracy_full": float((pred_full == y_test).mean()),
                          "accuracy_row_space": float((pred_row == y_test).mean()),
                          "agreement": float((pred_full == pred_row).mean())}
    full_s, row_s = median(seconds["full"]), median(seconds["row_space"])
    lower = sum(t["objective_row_space"] <= t["objective_full"] * (1 + 1e-6) for t in per_task.values())
    return [Row("i", f"wide logistic fits ({len(tasks)} classical baselines with more columns than rows), "
                     "row space vs full", row_s, full_s, "s", ratio(full_s, row_s), "full s / row-space s", TARGET,
                note=f"row-space objective at or below the full fit's on {lower} of {len(per_task)} fits",
                extra={"seconds": seconds, "max_iter": max_iter, "tasks": per_task})]
