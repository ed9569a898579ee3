"""(c) A training stage under Ray Train (1 and 2 CPU workers) against a plain single-process loop.

Stage 1 (pretrain_unimodal) with the preset's own step count, batch and checkpoint cadence, on
the same token cache. The plain loop builds the model, reads the cache and runs the same steps
with `train_stage` in this process; the Ray runs go through `run_stage_on_ray` exactly as the
pipeline does (one Ray runtime for all fits, started before the timings). Each run uses a fresh
storage directory so that no fit resumes an earlier one. Figure: samples/s, where one step of a
k-worker run trains k * batch samples (the batch is per worker).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.report import Row, Target
from benchmarks.timing import interleaved, median, ratio
from benchmarks.workspace import stage_launch

TARGET_ONE_WORKER = Target(">=", 0.95)
STAGE = "pretrain_unimodal"


def plain_loop(launch):
    from omnivec2.training.data import load_training_data
    from omnivec2.training.step_loop import train_stage
    from omnivec2.training.worker import initial_model

    def run() -> None:
        train_stage(initial_model(launch), load_training_data(launch.cache_root, launch.modalities), launch.train)

    return run


def ray_fit(launch, workers: int, summaries: list):
    from omnivec2.training.launch import run_stage_on_ray

    def run() -> None:
        scratch = Path(tempfile.mkdtemp(prefix=f"bench-ray{workers}-"))
        try:
            params = {"num_workers": workers, "storage_path": str(scratch / "runs"), "max_failures": 0,
                      "num_to_keep": 2, "log_level": "WARNING"}
            summaries.append(run_stage_on_ray(replace(launch, num_workers=workers), scratch / "out", params))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return run


def run(ctx) -> list[Row]:
    from omnivec2.orchestration.ray_runtime import start_ray, stop_ray

    config = stage_launch(ctx.workspace, ctx.preset, STAGE)
    train = config.train.to_dict()
    started = time.perf_counter()
    started_here = start_ray()
    ctx.ray_startup_seconds = time.perf_counter() - started
    summaries = {1: [], 2: []}
    subjects = {"plain": plain_loop(config), "ray1": ray_fit(config, 1, summaries[1]),
                "ray2": ray_fit(config, 2, summaries[2])}
    try:
        seconds = interleaved(subjects, rounds=1 if ctx.quick else 3, warmup=0)
    finally:
        if started_here:  # leave no runtime behind for whoever runs next in this process (tests)
            stop_ray()
    samples = train["steps"] * train["batch_size"]
    plain = samples / median(seconds["plain"])
    rows = []
    for workers in (1, 2):
        rate = workers * samples / median(seconds[f"ray{workers}"])
        inside = median([s["train_seconds"] for s in summaries[workers]])
        rows.append(Row(
            "c", f"stage 1 under Ray Train, {workers} worker(s) ({train['steps']} steps, batch {train['batch_size']})",
            rate, plain, "samples/s", ratio(rate, plain), "Ray / plain loop samples/s",
            TARGET_ONE_WORKER if workers == 1 else None,
            note=(f"fit {median(seconds[f'ray{workers}']):.1f} s vs plain {median(seconds['plain']):.1f} s; "
                  f"{inside:.1f} s of the fit in optimisation steps"),
            extra={"seconds": seconds[f"ray{workers}"], "plain_seconds": seconds["plain"],
                   "worker_train_seconds": [s["train_seconds"] for s in summaries[workers]]}))
    return rows
