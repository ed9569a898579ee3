"""(f) The main job end to end (`kedro run`, every pipeline), broken down.

`--main-job run` launches `python -m benchmarks.f_main_job` in a fresh process at the project root.
That process runs the Kedro session in-process with timers wrapped around the hooks (Ray start
and stop, every MLflow hook) and the checkpoint upload inside the training nodes; the TimingHook
gives per-node times and each stage's summary its time in optimisation steps. A fresh token-cache
directory and Ray storage path are passed as runtime parameters, so nothing is reused from an
earlier run (a re-run would otherwise reuse the cache and resume finished Ray runs). The
breakdown is saved to `data/08_reporting/benchmarks/main_job.json`; `--main-job latest` reads
that file instead of running the job (the smoke run does this).

Baseline: the main job's own wall time (process start to exit). Orchestration = Ray start-up and
shutdown + Ray Train's share of each stage (stage node time minus its optimisation steps, its
validations, its end-of-stage fits and its MLflow upload, as the stage's run record counts them)
+ MLflow (hooks and uploads) + Kedro (everything outside nodes and hooks: process start, imports,
session, catalog I/O).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.report import Row, Target, not_measured
from benchmarks.workspace import PROJECT, STAGES

RECORD = PROJECT / "data" / "08_reporting" / "benchmarks" / "main_job.json"
KEDRO_ENV = {"tiny": "tiny", "cpu": None, "base": "gpu"}
OVERHEAD_TARGET = Target("<=", 0.10)
WALL_TARGET = Target("<=", 1.0)
WALL_BUDGET_S = 600.0


def _timed(timers: dict, key: str, fn):
    @functools.wraps(fn)  # keeps pluggy's hook marker and (through __wrapped__) the argument names
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timers[key] += time.perf_counter() - started

    return wrapper


def instrumented_run(env: str | None, scratch: Path) -> dict:
    """In the child process: run the whole Kedro pipeline with timers; returns the raw breakdown."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(PROJECT)
    import pipelines.hooks as hooks
    import pipelines.hooks.ray_hook as ray_hook
    import pipelines.training_node as training_node
    from pipelines.settings import HOOKS

    timers: dict[str, float] = defaultdict(float)
    ray_hook.start_ray = _timed(timers, "ray_startup", ray_hook.start_ray)
    ray_hook.stop_ray = _timed(timers, "ray_shutdown", ray_hook.stop_ray)
    for name in ("before_pipeline_run", "after_pipeline_run", "before_node_run", "after_node_run",
                 "on_node_error", "on_pipeline_error"):
        setattr(hooks.MlflowHook, name, _timed(timers, "mlflow_hooks", getattr(hooks.MlflowHook, name)))
    # TimingHook's end-of-run call logs its figures to MLflow; its per-node timers are negligible.
    hooks.TimingHook.after_pipeline_run = _timed(timers, "mlflow_hooks", hooks.TimingHook.after_pipeline_run)
    uploads: dict[str, float] = defaultdict(float)
    original_upload = training_node.log_dir_artifacts

    def upload(path, artifact_path, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original_upload(path, artifact_path, *args, **kwargs)
        finally:
            uploads[artifact_path.split("/")[-1]] += time.perf_counter() - started

    training_node.log_dir_artifacts = upload
    runtime = {"ray": {"storage_path": str(scratch / "ray")}}  # the token cache is the project's (catalog)
    with KedroSession.create(PROJECT, env=env, runtime_params=runtime) as session:
        session.run()
    timing_hook = next(h for h in HOOKS if isinstance(h, hooks.TimingHook))
    stages = {}
    for stage in STAGES:
        # the stage's run record (catalog `{stage}_timings`): its summary no longer holds timings
        record = json.loads((PROJECT / "data" / "08_reporting" / "timings" / f"{stage}.json").read_text())
        stages[stage] = {"train_seconds": record["train_seconds"], "upload_seconds": uploads.get(stage, 0.0),
                         "validation_seconds": record.get("validation_seconds", 0.0),
                         "finish_seconds": record.get("finish_seconds", 0.0)}
    return {"nodes": dict(timing_hook._seconds), "timers": dict(timers), "stages": stages}


INGESTION = ("ingest", "validate", "build_data_docs")  # node names, without the dataset's namespace


def _own_name(node: str) -> str:
    """A node's name without its namespace (`image.validate` -> `validate`)."""
    return node.rsplit(".", 1)[-1]


def breakdown(raw: dict, total: float) -> dict[str, float]:
    """Raw timings + the job's wall time -> seconds per component (they sum to `total`)."""
    nodes, timers = raw["nodes"], raw["timers"]
    parts = {
        "ingestion + validation": sum(v for k, v in nodes.items() if _own_name(k) in INGESTION),
        "tokenization": sum(v for k, v in nodes.items() if _own_name(k) == "tokenize"),
        "Ray start-up + shutdown": timers.get("ray_startup", 0.0) + timers.get("ray_shutdown", 0.0),
    }
    mlflow = timers.get("mlflow_hooks", 0.0)
    for stage, info in raw["stages"].items():
        # the model's work outside its steps: validations and the end-of-stage fits (stage 3)
        other = info.get("validation_seconds", 0.0) + info.get("finish_seconds", 0.0)
        parts[f"{stage}: optimisation steps"] = info["train_seconds"]
        parts[f"{stage}: validation and end-of-stage fits"] = other
        parts[f"{stage}: Ray Train overhead"] = nodes[stage] - info["train_seconds"] - other - info["upload_seconds"]
        mlflow += info["upload_seconds"]
    # Every other node is the evaluation pipeline's; the single-task baselines train 18 small models
    # (stage 3's compute again), so they get their own line.
    counted = {k for k in nodes if _own_name(k) in (*INGESTION, "tokenize")} | set(raw["stages"])
    parts["evaluation: single-task baselines"] = nodes.get("train_single_task_baselines", 0.0)
    parts["evaluation: metrics, curves, report, registry"] = sum(
        v for k, v in nodes.items() if k not in counted and k != "train_single_task_baselines")
    parts["MLflow (hooks, uploads)"] = mlflow
    accounted = sum(nodes.values()) + parts["Ray start-up + shutdown"] + timers.get("mlflow_hooks", 0.0)
    parts["Kedro (start, imports, session, catalog I/O)"] = total - accounted
    return parts


ORCHESTRATION = ("Ray start-up + shutdown", "MLflow (hooks, uploads)", "Kedro (start, imports, session, catalog I/O)")


def run_main_job(preset: str) -> dict:
    """Launch the instrumented main job in a fresh process; save and return its record."""
    env = KEDRO_ENV[preset]
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as scratch:
        out = Path(scratch) / "raw.json"
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "benchmarks.f_main_job", env or "", scratch, str(out)],
                              cwd=PROJECT, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        total = time.perf_counter() - started
        if proc.returncode:
            raise RuntimeError(f"the main job failed (exit {proc.returncode}): {proc.stdout[-1500:]} {proc.stderr[-1500:]}")
        raw = json.loads(out.read_text())
    record = {"preset": preset, "kedro_env": env, "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "total_seconds": total,
              "raw": raw, "breakdown": breakdown(raw, total)}
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=2))
    return record


def rows_from(record: dict, source: str) -> list[Row]:
    total, parts = record["total_seconds"], record["breakdown"]
    rows = [Row("f", f"{name}", seconds, total, "s", seconds / total, "share of the main job", note=source)
            for name, seconds in parts.items()]
    overhead = sum(v for k, v in parts.items() if k in ORCHESTRATION or k.endswith("Ray Train overhead"))
    rows.append(Row("f", "orchestration overhead (Ray, Ray Train, MLflow, Kedro)", overhead, total, "s",
                    overhead / total, "share of the main job", OVERHEAD_TARGET, note=source))
    rows.append(Row("f", f"main job wall time (preset {record['preset']}) vs the 10-minute budget", total,
                    WALL_BUDGET_S, "s", total / WALL_BUDGET_S, "wall / 600 s",
                    WALL_TARGET if record["preset"] == "cpu" else None, note=source))
    return rows


def run(ctx) -> list[Row]:
    if ctx.main_job == "run":
        return rows_from(run_main_job(ctx.preset), "measured in this run")
    if not RECORD.is_file():
        return [not_measured("f", "main job breakdown", f"no recorded main-job run at {RECORD.relative_to(PROJECT)} "
                             "(the smoke run only reads one; `python -m benchmarks --only f` records it)",
                             OVERHEAD_TARGET)]
    record = json.loads(RECORD.read_text())
    record["breakdown"] = breakdown(record["raw"], record["total_seconds"])  # with this version's grouping
    return rows_from(record, f"read from the run of {record['date']} (preset {record['preset']})")


if __name__ == "__main__":
    from omnivec2.env import apply_quiet_environment

    apply_quiet_environment()
    env_arg, scratch_arg, out_arg = sys.argv[1:4]
    Path(out_arg).write_text(json.dumps(instrumented_run(env_arg or None, Path(scratch_arg))))
