"""`python -m benchmarks.gpu_check`: the GPU path, end to end, in a few minutes of GPU time.

What `kedro run --env gpu` does on a Ray GPU worker, in this process and without Ray (a GPU machine
lent for minutes has the stack's PyTorch but not Ray, Kedro or MLflow):

1. the three training stages in order at the `base` preset (bf16 autocast, batch 256), each through
   `train_stage`, the function the Ray worker trains with, chained through real checkpoints
   (`save_checkpoint` / `initial_model`), stage 3 with its validation, contrastive pairs and
   end-of-stage refits. Each stage runs `--steps` steps; `--stage3 KEY=VALUE ...` trains stage 3 a
   second time with training overrides, and the sections below then use them;
2. benchmark (b), model FLOPs utilisation at base in bf16 (and fp32 for the ratio);
3. stage 3 wrapped in DistributedDataParallel over NCCL (world size 1: the wrapper, the process
   group and the gradient all-reduce, not a second GPU), with `training.augment` on;
4. resuming stage 3 from its checkpoint (trainer state, CUDA RNG) for 10 more steps;
5. evaluation on the device as `evaluation.device: auto` runs it there: the final model's test
   metrics and two-stream and retrieval figures (`evaluate_checkpoint`), and the single-task
   specialists (`single_task_baselines`), two of them trained for a few steps.

`--anomaly` runs stage 3 under autograd anomaly detection (a NaN gradient names the backward op that
made it); `--deadline-seconds` skips sections 2-5 once that much time has passed.

Every section runs even if an earlier one failed; each failure is printed with its traceback and
the exit status is 1. Results go to `<out>/gpu_check.json`.

Without Kedro (as on a lent machine), pass `--params-json` written beforehand where Kedro is
installed by `--dump-params`, and a `--work-dir` holding the benchmarks' token cache.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch
import yaml

from benchmarks import workspace as ws_module
from benchmarks.workspace import STAGES, Workspace

MANIFESTS = "manifests.json"
# Stage 3's end-of-stage head refit and read-out selection (sklearn fits on the host: about 10 s on the
# H200 machine's 16 cores) runs once, in the stage-3 section; the sections after it leave it out.
NO_FINISH = {"refit_heads": False, "precise_head_norm": False}


def dump_inputs(work_dir: Path, preset: str, params_json: Path, datasets: list[str] | None) -> None:
    """Where Kedro is installed: build the token cache of `datasets` (default: all) in `work_dir`,
    with its manifests, and write the preset's parameters, so that a machine without Kedro can run
    the check (a subset keeps what must travel to a lent machine small)."""
    ws = ws_module.prepare(work_dir, datasets)
    (Path(work_dir) / MANIFESTS).write_text(json.dumps(ws.manifests))
    params_json.write_text(json.dumps(ws_module.parameters(preset), default=str))
    print(f"wrote {params_json} and {Path(work_dir) / MANIFESTS} ({len(ws.manifests)} datasets)")


def load_workspace(work_dir: Path, preset: str, params_json: Path | None) -> Workspace:
    """The workspace of `work_dir` with the preset's parameters: from the files `dump_inputs` wrote
    where they exist, else built and read by Kedro."""
    manifests = Path(work_dir) / MANIFESTS
    ws = (Workspace(Path(work_dir), json.loads(manifests.read_text())) if manifests.exists()
          else ws_module.prepare(work_dir))
    ws.params = json.loads(params_json.read_text()) if params_json is not None else ws_module.parameters(preset)
    return ws


class Timed:
    """A section: prints its start and end, records its result or its traceback."""

    def __init__(self, results: dict, name: str):
        self.results, self.name = results, name

    def __enter__(self):
        self.started = time.perf_counter()
        self.results.setdefault(self.name, {})
        print(f"== {self.name}", flush=True)
        return self

    def __exit__(self, kind, error, tb):
        seconds = time.perf_counter() - self.started
        entry = self.results[self.name]
        entry["seconds"] = round(seconds, 2)
        if error is not None:
            entry["error"] = "".join(traceback.format_exception(kind, error, tb))
            print(entry["error"], flush=True)
        print(f"== {self.name}: {'FAILED' if error else 'ok'} in {seconds:.1f} s", flush=True)
        return True  # the next section runs regardless


def logged(history: list[dict], key: str) -> list[float]:
    """The values of `key` at the history's logging steps that have it."""
    return [h[key] for h in history if key in h]


def summary(history: list[dict], steps: int, seconds: float, batch: int, device: str) -> dict:
    losses = logged(history, "loss")
    step_ms = logged(history, "time/step_ms")
    return {"steps": steps, "wall_seconds": round(seconds, 2), "batch_size": batch,
            "first_logged_loss": losses[0] if losses else None, "last_logged_loss": losses[-1] if losses else None,
            "all_losses_finite": all(math.isfinite(v) for v in losses),
            "median_step_ms": statistics.median(step_ms) if step_ms else None,
            "train_seconds": round(history[-1]["time/train_seconds"], 2) if history else None,
            "val": {k: v for k, v in (history[-1] if history else {}).items() if k.startswith("val/")},
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None}


def train_one_stage(ws: Workspace, preset: str, stage: str, previous: Path | None, steps: int, device: str,
                    checkpoint: Path, placement=None, resume_from: Path | None = None,
                    training: dict | None = None, anomaly: bool = False) -> tuple[dict, object]:
    from omnivec2.checkpoint import save_checkpoint
    from omnivec2.training.data import load_training_data
    from omnivec2.training.step_loop import Placement, train_stage
    from omnivec2.training.validation import Validation, load_validation_data
    from omnivec2.training.contrastive import stage3_paired_rows
    from omnivec2.training.worker import initial_model, resume_point

    launch = ws_module.stage_launch(ws, preset, stage, {"steps": steps, "log_every": 10,
                                                        "checkpoint_every": 10**9, **(training or {})})
    if previous is not None:
        from dataclasses import replace

        launch = replace(launch, init_checkpoint=str(previous))
    model = initial_model(launch)
    resume = None
    if resume_from is not None:
        resume, _ = resume_point(resume_from, model, stage, 0)
    model.to(device)
    validation = None
    if stage == "train_multitask":
        validation = Validation(load_validation_data(launch.cache_root, launch.modalities), launch.train.val_every)
    torch.cuda.reset_peak_memory_stats() if device == "cuda" else None
    started = time.perf_counter()
    data = load_training_data(launch.cache_root, launch.modalities)
    with torch.autograd.set_detect_anomaly(anomaly and stage == "train_multitask"):
        trainer, history = train_stage(model, data, launch.train, placement or Placement(device=device), resume,
                                       None, validation,
                                       stage3_paired_rows(launch.train, launch.cache_root, launch.modalities))
    torch.cuda.synchronize() if device == "cuda" else None
    seconds = time.perf_counter() - started
    save_checkpoint(checkpoint, trainer.model, {"stage": stage, "step": trainer.step}, trainer.state_dict(), history)
    resumed_at = resume.trainer_state["step"] if resume else 0
    new = [h for h in history if h["step"] > resumed_at]
    return summary(new, trainer.step - resumed_at, seconds, launch.train.batch_size, device), trainer


def main(argv: list[str] | None = None) -> int:
    from omnivec2.env import apply_quiet_environment

    apply_quiet_environment()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="base", choices=tuple(ws_module.ENVIRONMENTS))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=300, help="steps per stage")
    parser.add_argument("--stage3", nargs="*", default=[], metavar="KEY=VALUE",
                        help="train stage 3 a second time with these training overrides (YAML values); "
                             "the DDP and resume sections then use them too")
    parser.add_argument("--work-dir", type=Path, default=ws_module.default_work_dir())
    parser.add_argument("--params-json", type=Path, default=None)
    parser.add_argument("--dump-params", action="store_true", help="write --params-json and the cache, then stop")
    parser.add_argument("--datasets", default="", help="with --dump-params: comma-separated subset to cache")
    parser.add_argument("--out", type=Path, default=Path("data/08_reporting/benchmarks"))
    parser.add_argument("--anomaly", action="store_true",
                        help="stage 3 under autograd anomaly detection: a NaN gradient names the backward op "
                             "that made it and the forward line behind it (several times slower)")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: mfu,ddp,resume,evaluation")
    parser.add_argument("--deadline-seconds", type=float, default=float("inf"),
                        help="sections after the stages start only before this many seconds have passed")
    args = parser.parse_args(argv)
    if args.dump_params:
        dump_inputs(args.work_dir, args.preset, args.params_json, [d for d in args.datasets.split(",") if d] or None)
        return 0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"gpu check: --device {args.device}, but this torch ({torch.__version__}) sees no CUDA device; install "
              "a CUDA build (requirements-gpu.txt), or pass --device cpu for a dry run", file=sys.stderr)
        return 2
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    overrides = {key: parse_value(value) for key, value in (item.split("=", 1) for item in args.stage3)}
    device = args.device
    results: dict = {"torch": torch.__version__, "device": device,
                     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                     "preset": args.preset, "sections": {}}
    sections = results["sections"]
    started = time.perf_counter()
    ws = load_workspace(args.work_dir, args.preset, args.params_json)
    checkpoints = Path(tempfile.mkdtemp(prefix="omnivec2-gpu-check-"))

    def run_section(name: str, work) -> None:
        """`work()` -> the section's figures, recorded (or its traceback), printed and saved."""
        with Timed(sections, name):
            sections[name].update(work())
            print(json.dumps(sections[name], default=str), flush=True)
        save(results, args.out)

    previous = None
    for stage in STAGES:
        run_section(stage, lambda: train_one_stage(ws, args.preset, stage, previous, args.steps, device,
                                                   checkpoints / stage, anomaly=args.anomaly)[0])
        if "error" not in sections[stage]:
            previous = checkpoints / stage
    stage3 = "train_multitask"
    if overrides:  # stage 3 again from stage 2's weights, with the overrides; the sections below use it
        stage3 = "train_multitask+" + ",".join(f"{k}={v}" for k, v in overrides.items())
        run_section(stage3, lambda: train_one_stage(ws, args.preset, "train_multitask", previous, args.steps, device,
                                                    checkpoints / stage3, training=overrides,
                                                    anomaly=args.anomaly)[0])
    later = {"mfu": lambda: {"rows": mfu_rows(ws, args.preset, device)},
             "ddp": lambda: ddp_check(ws, args.preset, device, checkpoints, overrides),
             "resume": lambda: resume_check(ws, args.preset, device, checkpoints, checkpoints / stage3, overrides),
             "evaluation": lambda: evaluation_check(ws, args.preset, device, checkpoints / stage3)}
    for name, work in later.items():
        if name in skip:
            continue
        if time.perf_counter() - started > args.deadline_seconds:
            sections[name] = {"skipped": f"past the {args.deadline_seconds:.0f} s deadline"}
            print(f"== {name}: skipped (past the deadline)", flush=True)
            continue
        run_section(name, work)
    shutil.rmtree(checkpoints, ignore_errors=True)
    failed = [name for name, section in sections.items() if "error" in section]
    print(f"gpu check: {len(sections) - len(failed)} of {len(sections)} sections ok"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


def parse_value(text: str):
    """A command-line override's value: a number where it reads as one (YAML reads `5e-4` as a
    string), else YAML (true, fp32, [a, b])."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return yaml.safe_load(text)


def save(results: dict, out: Path) -> None:
    """After every section, so that a run stopped at its time limit still leaves what it measured."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(results, indent=2, default=str))


def resume_check(ws: Workspace, preset: str, device: str, checkpoints: Path, stage3: Path,
                 overrides: dict) -> dict:
    """Stage 3 resumed from its checkpoint `stage3` (trainer state, RNG states) for 10 more steps."""
    done = json.loads((stage3 / "config.json").read_text())["meta"]["step"]
    result, _ = train_one_stage(ws, preset, "train_multitask", checkpoints / "pretrain_multimodal", done + 10,
                                device, checkpoints / "resumed", resume_from=stage3,
                                training={**overrides, **NO_FINISH})
    return {**result, "resumed_at": done}


def evaluation_check(ws: Workspace, preset: str, device: str, stage3: Path, specialist_steps: int = 20) -> dict:
    """The evaluation pipeline's network work on `device`: `evaluate_checkpoint` over the stage-3
    checkpoint `stage3` (its baselines' sklearn fits on the host), then every specialist, the first
    two tasks trained `specialist_steps` steps at stage 3's batch size and the rest left untrained
    (scored at initialisation), as `single_task_baselines` runs them on a GPU (in turn, in this process)."""
    from omnivec2.checkpoint import read_config
    from omnivec2.datasets import resolve_datasets
    from omnivec2.datasets.pairing import dataset_pairs, retrieval_protocols
    from omnivec2.evaluation.evaluate import evaluate_checkpoint
    from omnivec2.evaluation.specialists import single_task_baselines

    launch = ws_module.stage_launch(ws, preset, "train_multitask", {})
    specs = resolve_datasets(ws.params["datasets"])  # load_workspace always sets them
    started = time.perf_counter()
    metrics = evaluate_checkpoint(stage3, launch.cache_root, retrieval=retrieval_protocols(specs, None),
                                  pairs=dataset_pairs(specs), device=device)
    evaluate_seconds = time.perf_counter() - started
    config = read_config(stage3)[0]
    tasks = [f"{m.name}/{t.name}" for m in config.modalities for t in m.tasks]
    batch = launch.train.batch_size
    visits = {t: {"visits": specialist_steps, "samples": specialist_steps * batch} if t in tasks[:2]
              else {"visits": 0, "samples": 0} for t in tasks}
    started = time.perf_counter()
    specialists = single_task_baselines(config, launch.cache_root, launch.train, visits, device=device)
    return {"evaluate_seconds": round(evaluate_seconds, 2), "specialists_seconds": round(time.perf_counter() - started, 2),
            "tasks": {k: v.get("omnivec2") for k, v in metrics["tasks"].items()},
            "two_stream": sorted(k for k, v in metrics["tasks"].items() if "two_stream" in v),
            "specialists": {t: {k: v for k, v in r.items() if k != "curve"} for t, r in specialists.items()
                            if t in tasks[:2]}}


def ddp_check(ws: Workspace, preset: str, device: str, checkpoints: Path, overrides: dict) -> dict:
    """Stage 3 for 20 steps wrapped as a Ray GPU worker wraps it (DDP, find_unused_parameters), over
    NCCL (gloo on CPU), world size 1, with `training.augment` on (its draws are on the host)."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from omnivec2.training.step_loop import Placement

    backend = "nccl" if device == "cuda" else "gloo"
    # a file rendezvous: no port to collide with a test or a job running beside this one
    dist.init_process_group(backend, init_method=f"file://{checkpoints / 'rendezvous'}", rank=0, world_size=1)
    try:
        ids = [0] if device == "cuda" else None
        wrap = lambda module: DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)
        result, _ = train_one_stage(ws, preset, "train_multitask", checkpoints / "pretrain_multimodal", 20, device,
                                    checkpoints / "ddp", placement=Placement(0, 1, wrap, device),
                                    training={**overrides, "augment": True, **NO_FINISH})
        return {**result, "backend": backend}
    finally:
        dist.destroy_process_group()


def mfu_rows(ws: Workspace, preset: str, device: str) -> list[dict]:
    """Benchmark (b) at the preset's model, in bf16 and in fp32, on `device`."""
    from benchmarks import b_model_flops_utilisation as b
    from benchmarks.__main__ import Context

    ctx = Context(preset, ws.params, ws, main_job="latest")
    rows = []
    for precision in ("bf16", "fp32"):
        row = b.measure(ctx, ctx.model_preset, None, precision, device, b.GPU_TARGET, f"{precision} at {preset}, {device}")
        rows.append({k: v for k, v in row.to_dict().items() if k != "extra"}
                    | {"flops_per_step": row.extra["flops_per_step"],
                       "median_step_s": statistics.median(row.extra["seconds"]["step"])})
        print(json.dumps(rows[-1], default=str), flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
