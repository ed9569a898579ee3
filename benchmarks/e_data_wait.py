"""(e) The fraction of step time spent waiting for data.

In a stage's loop every step first builds its batches (`StageTrainer.plan`: index the cached
tokens, draw masks, move to the device) and only then computes; nothing overlaps, so the time
in `plan` is the time the step waits for data. Both are timed in the same steps of stage 1 and
stage 3 at the preset's batch size: fraction = plan time / step time (medians over steps).
"""

from __future__ import annotations

import time

from benchmarks.report import Row, Target
from benchmarks.timing import median, ratio
from benchmarks.workspace import build_trainer, stage_launch

TARGET = Target("<=", 0.05)


def timed_plan(trainer) -> list[float]:
    """Wrap `trainer.plan` (instance attribute) so each call's seconds are appended to the list returned."""
    seconds: list[float] = []
    plan = trainer.plan

    def wrapped():
        started = time.perf_counter()
        out = plan()
        seconds.append(time.perf_counter() - started)
        return out

    trainer.plan = wrapped
    return seconds


def run(ctx) -> list[Row]:
    rows = []
    for stage in ("pretrain_unimodal", "train_multitask"):
        config = stage_launch(ctx.workspace, ctx.preset, stage)
        trainer = build_trainer(config)
        for _ in range(3):  # warm-up
            trainer.train_step()
        plan_seconds = timed_plan(trainer)
        step_seconds = []
        for _ in range(ctx.rounds(40)):
            started = time.perf_counter()
            trainer.train_step()
            step_seconds.append(time.perf_counter() - started)
        plan_s, step_s = median(plan_seconds), median(step_seconds)
        rows.append(Row("e", f"data wait, {stage} (batch {config.train.batch_size}, {len(step_seconds)} steps)",
                        plan_s * 1e3, step_s * 1e3, "ms per step", ratio(plan_s, step_s),
                        "data time / step time", TARGET,
                        extra={"plan_seconds": plan_seconds, "step_seconds": step_seconds}))
    return rows
