"""(j) The single-task specialists of evaluation side by side in one-thread worker processes
(`omnivec2.evaluation.specialists`, `workers` = the process's threads) against one after another
in this process at its thread count, as they ran before.

The subject is what the main job's `train_single_task_baselines` node does: every task's specialist,
from scratch, on the budget stage 3 gave the task, then its end-of-stage work and its test score. The
budgets are stage 3's counts at the preset, taken from its pair sampler without training (the
visits a stage-3 run of that many steps plans; `StageTrainer.plan`). The smoke run (tiny) keeps
three datasets and stage 3's tiny step count.

The two ways do not give the same bits: a one-thread specialist differs from a two-thread one by
float rounding (the unit tests check that side by side gives the bits of one-thread runs in turn).
So the row also reports how far apart the two ways' test metrics are, task by task. Figure:
in-turn seconds / side-by-side seconds, one round each way (a round takes minutes at cpu).
"""

from __future__ import annotations

import time

import torch

from benchmarks.report import Row, Target
from benchmarks.h_fits_side_by_side import _workspace  # the smoke run keeps the same three datasets as (h)
from benchmarks.timing import ratio
from benchmarks.workspace import build_trainer, stage_launch

TARGET = Target(">=", 1.3)  # on 2 cores: both ways already use both cores in the fits of each specialist's finish


def planned_visits(launch) -> dict[str, dict[str, int]]:
    """{task: {"visits", "samples"}} that stage 3 of `launch` counts over its steps: its planner run
    without training (what `train_single_task_baselines` reads from the stage summary)."""
    trainer = build_trainer(launch)
    for _ in range(launch.train.steps):
        trainer.plan()
    return {key: {"visits": v, "samples": n} for key, (v, n) in trainer.visits.items()}


def run(ctx) -> list[Row]:
    from omnivec2.evaluation.specialists import single_task_baselines
    from omnivec2.training.stage_runner import model_config_from_manifests

    workspace = _workspace(ctx)
    launch = stage_launch(workspace, ctx.preset, "train_multitask")
    visits = planned_visits(launch)
    config = model_config_from_manifests(ctx.params["model"], workspace.manifests)
    threads = torch.get_num_threads()
    seconds, results = {}, {}
    for way, workers in (("in_turn", 1), ("side_by_side", threads)):
        started = time.perf_counter()
        results[way] = single_task_baselines(config, workspace.cache_root, launch.train, visits, workers=workers)
        seconds[way] = time.perf_counter() - started
    metric = lambda r: next(v for k, v in r.items() if k in ("accuracy", "miou", "rmse", "rank1"))
    differences = {task: round(metric(results["side_by_side"][task]) - metric(results["in_turn"][task]), 4)
                   for task in results["in_turn"]}
    largest = max((abs(d) for d in differences.values()), default=0.0)
    turn_s, side_s = seconds["in_turn"], seconds["side_by_side"]
    return [Row("j", f"single-task specialists ({len(visits)} tasks, stage 3 at {launch.train.steps} steps), "
                     f"{threads} one-thread workers", side_s, turn_s, "s", ratio(turn_s, side_s),
                "in turn s / side by side s", TARGET,
                note=f"float rounding only: largest test-metric difference {largest:.4f} (one-thread vs "
                     f"{threads}-thread specialists)",
                extra={"seconds": seconds, "metric_differences": differences,
                       "steps": {task: v["visits"] for task, v in visits.items()}})]
