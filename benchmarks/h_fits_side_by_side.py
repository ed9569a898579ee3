"""(h) The many small scikit-learn fits of the main job, side by side on the process's cores
(`omnivec2.parallel_fits`) against one after another on one core, as they ran before.

Two subjects, each timed both ways in interleaved rounds:

* stage 3's end-of-stage `finish` at the preset (the heads' statistics, the output layers' refits,
  one logistic regression per pixel for the dense heads, the read-outs chosen on validation),
  after a few steps so the heads have trained features;
* the classical baselines of every task (what `evaluate_checkpoint` fits beside OmniVec2; the
  linear probes and the specialists' own refits are the same kind of fits).

The smoke run (tiny) keeps three datasets (`QUICK_DATASETS`) and 500 tokens per pixel fit.

Both ways must give the same bits: the model's weights after `finish`, and every baseline metric,
are compared and the row says so (`identical`). Figure: in-turn seconds / side-by-side seconds.
"""

from __future__ import annotations

import time

import torch

from benchmarks.report import Row, Target
from benchmarks.timing import median, ratio
from benchmarks.workspace import build_trainer, stage_launch

TARGET = Target(">=", 1.5)  # on 2 cores; the fits are the bulk of both subjects, not all of them
STEPS = 20
QUICK_DENSE_ROWS = 500  # the smoke run's tokens per pixel fit (the preset's: training.refit_rows)
QUICK_DATASETS = ("depth", "tabular", "tabular_regression")  # the smoke run's: a dense, a class and a value task


def _workspace(ctx):
    """The benchmark's datasets: every default one, or `QUICK_DATASETS` in the smoke run."""
    from dataclasses import replace

    if not ctx.quick:
        return ctx.workspace
    return replace(ctx.workspace, manifests=[m for m in ctx.workspace.manifests if m["dataset"] in QUICK_DATASETS])


def _in_turn(fn):
    """`fn` with `run_fits` held to one fit at a time (its behaviour before the pool)."""
    import omnivec2.parallel_fits as parallel_fits

    def run():
        default = parallel_fits.fit_workers
        parallel_fits.fit_workers = lambda: 1
        try:
            return fn()
        finally:
            parallel_fits.fit_workers = default

    return run


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _finish_subject(ctx):
    """-> (finish, weights after it): stage 3's trainer after `STEPS` steps, ready to finish again and again."""
    from omnivec2.training.validation import load_validation_data

    training = {"steps": 2 * STEPS, "val_every": 0, **({"refit_rows": QUICK_DENSE_ROWS} if ctx.quick else {})}
    launch = stage_launch(_workspace(ctx), ctx.preset, "train_multitask", training=training)
    trainer = build_trainer(launch)
    for _ in range(STEPS):
        trainer.train_step()
    validation = load_validation_data(launch.cache_root, launch.modalities)
    trained = _state(trainer.model)

    def finish():
        trainer.model.load_state_dict(trained)  # every call starts from the same trained weights
        trainer.finish(validation)
        return _state(trainer.model)

    return finish


def _baselines_subject(ctx):
    """-> a callable fitting and scoring every task's classical baseline as evaluation does."""
    from omnivec2.evaluation.evaluate import classical_fit
    from omnivec2.parallel_fits import run_fits
    from omnivec2.tokens.cache import read_token_split
    from omnivec2.training.stage_runner import model_config_from_manifests

    workspace = _workspace(ctx)
    config = model_config_from_manifests(ctx.params["model"], workspace.manifests)
    max_iter = ctx.params["evaluation"].get("classical_max_iter", 2000)
    fits = []
    for modality in config.modalities:
        train = read_token_split(workspace.cache_root, modality.name, "train")
        test = read_token_split(workspace.cache_root, modality.name, "test")
        fits += [fit for task in modality.tasks if (fit := classical_fit(task, train, test, 0, max_iter)) is not None]
    return lambda: run_fits(fits)


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


def run(ctx) -> list[Row]:
    rows = []
    # rounds: a finish at the cpu preset takes minutes in turn, so one round (each way once) there
    for name, build, rounds in (("stage 3 finish (refits, read-out selection)", _finish_subject, 1),
                                ("classical baselines of every task", _baselines_subject, 1 if ctx.quick else 3)):
        side_by_side = build(ctx)
        subjects = {"in_turn": _in_turn(side_by_side), "side_by_side": side_by_side}
        seconds, results = {key: [] for key in subjects}, []
        for r in range(rounds):  # interleaved, the order rotated; every call's result is checked too
            for key in list(subjects)[r % 2:] + list(subjects)[: r % 2]:
                started = time.perf_counter()
                results.append(subjects[key]())
                seconds[key].append(time.perf_counter() - started)
        identical = all(_same(results[0], other) for other in results[1:])
        turn_s, side_s = median(seconds["in_turn"]), median(seconds["side_by_side"])
        rows.append(Row("h", f"{name}, {torch.get_num_threads()} fits at once", side_s, turn_s, "s",
                        ratio(turn_s, side_s), "in turn s / side by side s", TARGET,
                        note="same bits both ways" if identical else "RESULTS DIFFER between the two ways",
                        extra={"identical": identical, **seconds}))
    return rows
