"""A training stage on Ray Train: the per-worker loop and the driver that launches it.

The loop is a module-level function (Ray cloudpickles it) that receives only plain data: absolute
paths, config dicts and the MLflow run to log to. Rank 0 logs metrics and writes checkpoints; every
worker reports the same number of times. A restarted worker group (FailureConfig) or a re-run with
the same run name resumes from the latest reported checkpoint.

Each checkpoint carries `resumes.json`, the steps at which the stage was resumed (after a worker
failure or a re-run); the stage summary reports them. For tests and drills, a fault can be injected
into the workers (`fault_injection` in the ray parameters, or the environment variable
`OMNIVEC2_FAULT_INJECTION` as JSON; see `maybe_inject_fault`); it fires on the first attempt only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import torch

from omnivec2.checkpoint import (load_rank_state, load_trainer_state, load_weights, read_config, save_checkpoint,
                                 save_rank_state, write_dir_atomically)
from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.training.config import TrainConfig
from omnivec2.training.data import ModalityData
from omnivec2.training.trainer import StageTrainer

HISTORY_FILE = "history.json"
RESUMES_FILE = "resumes.json"
FAULT_ENV = "OMNIVEC2_FAULT_INJECTION"
FAULT_ACTIONS = ("sigkill", "exit", "raise", "pause")


def load_training_data(cache_root: str, modalities: list[str], split: str = "train") -> dict[str, ModalityData]:
    """Read (and verify) the cached tokens of each modality's split; no re-tokenisation."""
    from omnivec2.tokens.cache import read_token_split

    data = {}
    for m in modalities:
        split_data = read_token_split(cache_root, m, split)
        data[m] = ModalityData.from_numpy(split_data.tokens, split_data.targets)
    return data


def run_steps(trainer: StageTrainer, history: list[dict], report, log_every: int, checkpoint_every: int,
              steps: int, on_log=None, after_step=None) -> None:
    """Advance `trainer` to `steps`. At every logging step, append the mean of each metric over the
    steps since the last log (a modality or task appears only on the steps that train it, so
    single-step values would leave gaps) to `history`, and call `report(row, save)`, with
    save=True at checkpoint steps and at the end. `time/train_seconds` accumulates the time spent
    in optimisation steps, which separates compute from orchestration overhead. `after_step(step)`
    runs after each step and its report (the fault-injection point)."""
    window: dict[str, list[float]] = {}
    train_seconds = history[-1].get("time/train_seconds", 0.0) if history else 0.0
    while trainer.step < steps:
        started = time.perf_counter()
        metrics = trainer.train_step()
        elapsed = time.perf_counter() - started
        train_seconds += elapsed
        for key, value in {**metrics, "time/step_ms": 1000 * elapsed}.items():
            window.setdefault(key, []).append(value)
        step = trainer.step
        save = step % checkpoint_every == 0 or step == steps
        if step % log_every == 0 or save:
            metrics = {key: sum(values) / len(values) for key, values in window.items()}
            metrics["time/train_seconds"] = train_seconds
            window = {}
            history.append({"step": step, **metrics})
            if on_log is not None:
                on_log(metrics, step)
            report(history[-1], save)
        if after_step is not None:
            after_step(step)


def seed_everything(seed: int) -> None:
    """torch, numpy and python `random` global generators (a resumed run restores their checkpointed
    states on top, so that code drawing from them continues exactly)."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def quiet_per_report_logs(level: str) -> None:
    """Ray 2.60 logs every report at INFO through a logger named after its source file, outside the
    `ray.train` hierarchy that RunConfig's LoggingConfig controls; apply the configured level to it."""
    try:
        from ray.train.v2._internal.execution import context as execution_context
    except ImportError:  # a Ray without Train V2 internals: nothing to quiet
        return
    logging.getLogger(execution_context.__file__).setLevel(level)


def train_loop_per_worker(loop_config: dict) -> None:
    """Ray Train worker entry point. loop_config keys: model, train, cache_root, modalities,
    init_checkpoint (or None), tracking (or None)."""
    import ray.train
    import ray.train.torch

    quiet_per_report_logs(loop_config.get("log_level", "WARNING"))
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    train_config = TrainConfig.from_dict(loop_config["train"])
    seed_everything(train_config.seed)  # same initial weights on every worker
    model = OmniVec2(ModelConfig.from_dict(loop_config["model"]))
    if loop_config.get("init_checkpoint"):
        load_weights(model, loop_config["init_checkpoint"], strict=False)

    history: list[dict] = []
    resumes: list[dict] = []
    resume = ray.train.get_checkpoint()
    trainer_state = rank_state = None
    if resume is not None:
        with resume.as_directory() as directory:
            _, resumed_meta = read_config(directory)
            if resumed_meta.get("stage") != train_config.stage:
                raise RuntimeError(f"{train_config.stage}: the run's latest checkpoint is from stage "
                                   f"{resumed_meta.get('stage')!r}; refusing to resume from it")
            load_weights(model, directory)
            trainer_state = load_trainer_state(directory)
            if rank > 0:
                rank_state = load_rank_state(directory, rank)
            history = _json_list(Path(directory) / HISTORY_FILE)
            resumes = _json_list(Path(directory) / RESUMES_FILE)
    device = ray.train.torch.get_device()
    model.to(device)
    wrap = None
    if world > 1:
        wrap = lambda module: ray.train.torch.prepare_model(
            module, parallel_strategy_kwargs={"find_unused_parameters": True})
    data = load_training_data(loop_config["cache_root"], loop_config["modalities"])
    trainer = StageTrainer(model, data, train_config, rank=rank, world_size=world, wrap=wrap, device=device)
    if trainer_state is not None:
        trainer.load_state_dict(trainer_state)
        if rank_state is not None:  # this worker's own streams, masks and RNGs (rank 0's are in trainer_state)
            trainer.load_rank_state_dict(rank_state)
        if trainer.step > train_config.steps:
            raise RuntimeError(f"{train_config.stage}: checkpoint is at step {trainer.step}, past the "
                               f"configured {train_config.steps} steps")
        resumes.append({"step": trainer.step, "time": time.time(), "world_size": world,
                        "attempt": len(resumes) + 1})
        done = " (the stage was already complete)" if trainer.step >= train_config.steps else ""
        print(f"[omnivec2] {train_config.stage}: resumed at step {trainer.step} of {train_config.steps} "
              f"from the latest checkpoint{done}", flush=True)

    logger = None
    if rank == 0 and loop_config.get("tracking"):
        from omnivec2.tracking import WorkerMetricLogger

        logger = WorkerMetricLogger(loop_config["tracking"])

    meta = {"stage": train_config.stage, "train": train_config.to_dict()}

    def report(metrics: dict, save: bool) -> None:
        # Only checkpoints go through Ray: a report can block until Ray Train's controller next polls
        # (up to RAY_TRAIN_HEALTH_CHECK_INTERVAL_S each on Ray 2.60, measured), and log_every=5 meant
        # 240 reports in stage 3. Metrics reach MLflow from rank 0 directly (on_log) and the history file.
        if not save:
            return
        directory = Path(tempfile.mkdtemp(prefix="omnivec2-ckpt-")) / "checkpoint"
        if rank == 0:
            save_checkpoint(directory, model, {**meta, "step": trainer.step}, trainer.state_dict())
            (directory / HISTORY_FILE).write_text(json.dumps(history))
            (directory / RESUMES_FILE).write_text(json.dumps(resumes))
        else:  # Ray Train merges every worker's files into the one checkpoint directory
            save_rank_state(directory, rank, trainer.rank_state_dict())
        checkpoint = ray.train.Checkpoint.from_directory(str(directory))
        ray.train.report(metrics, checkpoint=checkpoint)
        # Reports upload synchronously into the run's storage; in local mode (no workers) the
        # checkpoint stays where it was written, so only then is the directory kept.
        if directory is not None and not loop_config.get("local_mode"):
            shutil.rmtree(directory.parent, ignore_errors=True)

    fault = loop_config.get("fault")
    after_step = (lambda step: maybe_inject_fault(fault, train_config.stage, step, rank)) if fault else None
    try:
        run_steps(trainer, history, report, train_config.log_every, train_config.checkpoint_every,
                  train_config.steps, on_log=logger.log if logger else None, after_step=after_step)
    finally:
        if logger is not None:
            logger.close()


def _json_list(path: Path) -> list:
    if not path.exists():
        return []
    try:
        value = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        from omnivec2.checkpoint import CorruptCheckpointError

        raise CorruptCheckpointError(f"{path}: not valid JSON ({error}); the checkpoint is damaged") from None
    return value if isinstance(value, list) else []


def maybe_inject_fault(fault: dict, stage: str, step: int, rank: int) -> None:
    """Fault injection for tests and drills; a no-op unless `fault` names this stage, step and rank.

    fault: {"stage": name (optional: any stage), "at_step": k, "rank": r (default 0),
    "action": "sigkill" (the worker process SIGKILLs itself, like the OOM killer) | "exit"
    (os._exit(1)) | "raise" (RuntimeError) | "pause" (sleep `seconds`, default 600, so that a test
    can kill the driver from outside), "marker": a file that is created when the fault fires and
    stops it from firing again (first attempt only), "signal_file": touched just before acting}.
    """
    if fault.get("stage") not in (None, stage) or int(fault["at_step"]) != step or int(fault.get("rank", 0)) != rank:
        return
    marker = Path(fault["marker"])
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"stage": stage, "step": step, "rank": rank, "pid": os.getpid(), "time": time.time()}))
    if fault.get("signal_file"):
        Path(fault["signal_file"]).write_text(str(os.getpid()))
    action = fault.get("action", "sigkill")
    print(f"[omnivec2] fault injection: {action} in {stage} at step {step} (rank {rank}, pid {os.getpid()})", flush=True)
    if action == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "exit":
        os._exit(1)
    elif action == "raise":
        raise RuntimeError(f"injected fault in {stage} at step {step}")
    elif action == "pause":
        time.sleep(float(fault.get("seconds", 600)))


def fault_config(ray_params: dict) -> dict | None:
    """The fault to inject, from ray_params["fault_injection"] or $OMNIVEC2_FAULT_INJECTION (JSON);
    a fresh marker file per launch unless one is given, so it fires once per launch."""
    fault = ray_params.get("fault_injection")
    if not fault and os.environ.get(FAULT_ENV):
        try:
            fault = json.loads(os.environ[FAULT_ENV])
        except json.JSONDecodeError as error:
            raise ValueError(f"${FAULT_ENV} is not valid JSON ({error})") from None
    if not fault:
        return None
    fault = dict(fault)
    if "at_step" not in fault or fault.get("action", "sigkill") not in FAULT_ACTIONS:
        raise ValueError(f"fault_injection needs at_step and an action in {list(FAULT_ACTIONS)}; got {fault}")
    fault.setdefault("marker", str(Path(tempfile.gettempdir()) / f"omnivec2-fault-{uuid.uuid4().hex}"))
    return fault


def run_name(stage: str, loop_config: dict, num_workers: int) -> str:
    """Stable per configuration: a re-run of the same configuration (after a crash, say) resumes from
    its latest checkpoint; a changed configuration, input checkpoint or worker count starts fresh."""
    keys = ("model", "train", "modalities", "init_checkpoint_sha", "cache_key")
    digest = hashlib.sha256(json.dumps(
        {**{k: loop_config.get(k) for k in keys}, "num_workers": num_workers}, sort_keys=True).encode()).hexdigest()
    return f"{stage}-{digest[:12]}"


def directory_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(Path(path).rglob("*")):
        if f.is_file():
            digest.update(f.relative_to(path).as_posix().encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def worker_resources(ray_params: dict, num_workers: int) -> dict | None:
    """CPUs per worker: `resources_per_worker` if given, else `cpus_per_worker`, else the cluster's
    CPUs shared evenly. Ray sets a worker's OMP_NUM_THREADS to its CPU count, so a lone 1-CPU worker
    would leave the other cores idle (measured: 85 -> 70 ms per cpu-preset step with 2 threads)."""
    if ray_params.get("resources_per_worker"):
        return dict(ray_params["resources_per_worker"])
    if num_workers == 0:
        return None
    cpus = ray_params.get("cpus_per_worker")
    if cpus is None:
        import ray

        total = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
        cpus = max(1, total // num_workers)
    return {"CPU": int(cpus)}


def check_ray_params(ray_params: dict) -> None:
    """Refuse values Ray would misread or reject deep inside `fit()`, naming the `ray.<key>`."""
    rules = {
        "num_workers": (lambda v: _is_int(v) and v >= 0, "an integer >= 0 (0 = local mode, no worker actors)"),
        "max_failures": (lambda v: _is_int(v) and v >= -1, "an integer >= -1 (-1 = retry forever)"),
        "num_to_keep": (lambda v: v is None or (_is_int(v) and v >= 1), "an integer >= 1, or null to keep all"),
        "use_gpu": (lambda v: isinstance(v, bool), "true or false"),
        "cpus_per_worker": (lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0),
                            "a number > 0, or null"),
    }
    for key, (ok, expected) in rules.items():
        if key in ray_params and not ok(ray_params[key]):
            raise ValueError(f"ray.{key} = {ray_params[key]!r}: expected {expected}")
    if not ray_params.get("storage_path"):
        raise ValueError("ray.storage_path is empty: give a directory (absolute or relative to the project) or s3://...")


def check_inputs(loop_config: dict) -> None:
    """On the driver, before any worker starts: the previous stage's checkpoint is there and intact,
    and every modality's token cache has a readable manifest (a local cache; remote ones are checked
    where they are read). Errors name the file."""
    from omnivec2.checkpoint import MODEL_FILE, verify_checkpoint
    from omnivec2.tokens.shards import load_manifest, modality_dir

    init = loop_config.get("init_checkpoint")
    if init:
        if not (Path(init) / MODEL_FILE).is_file():
            raise FileNotFoundError(f"{loop_config['train']['stage']}: the previous stage's checkpoint "
                                    f"{Path(init) / MODEL_FILE} does not exist; run the previous stage first")
        verify_checkpoint(init)
    root = str(loop_config["cache_root"])
    if "://" not in root:
        for modality in loop_config["modalities"]:
            load_manifest(modality_dir(root, modality))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def run_stage_on_ray(loop_config: dict, output_dir: str | Path, ray_params: dict) -> dict:
    """Launch one stage with a TorchTrainer; copy its final checkpoint (weights, config, history) to
    `output_dir` atomically; return a summary. ray_params: num_workers, use_gpu, storage_path,
    max_failures, num_to_keep, resources_per_worker or cpus_per_worker, log_level."""
    from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    check_ray_params(ray_params)
    stage = loop_config["train"]["stage"]
    check_inputs(loop_config)
    if loop_config.get("init_checkpoint"):
        loop_config["init_checkpoint_sha"] = directory_sha256(loop_config["init_checkpoint"])
    else:
        loop_config["init_checkpoint_sha"] = None
    num_workers = int(ray_params.get("num_workers", 1))
    name = run_name(stage, loop_config, num_workers)
    loop_config["local_mode"] = num_workers == 0
    loop_config["log_level"] = str(ray_params.get("log_level", "WARNING"))
    loop_config["fault"] = fault_config(ray_params)
    started = time.time()
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config=loop_config,
        scaling_config=ScalingConfig(num_workers=num_workers,
                                     use_gpu=bool(ray_params.get("use_gpu", False)),
                                     resources_per_worker=worker_resources(ray_params, num_workers)),
        run_config=RunConfig(
            name=name,
            storage_path=str(ray_params["storage_path"]),
            failure_config=FailureConfig(max_failures=int(ray_params.get("max_failures", 0))),
            checkpoint_config=CheckpointConfig(num_to_keep=int(ray_params.get("num_to_keep", 2))),
            # Ray Train logs every report at INFO; the stage's own metrics go to MLflow instead.
            logging_config=LoggingConfig(log_level=str(ray_params.get("log_level", "WARNING"))),
        ),
    )
    result = trainer.fit()
    if result.checkpoint is None:
        raise RuntimeError(f"stage {stage}: Ray Train finished without a checkpoint (run {name})")

    def copy(tmp: Path) -> None:
        with result.checkpoint.as_directory() as directory:
            for f in Path(directory).iterdir():
                if f.is_file():
                    shutil.copy2(f, tmp / f.name)

    write_dir_atomically(Path(output_dir), copy)
    history = json.loads((Path(output_dir) / HISTORY_FILE).read_text())
    resumes = _json_list(Path(output_dir) / RESUMES_FILE)
    return {
        "stage": stage,
        "ray_run": name,
        "checkpoint": str(output_dir),
        "checkpoint_sha256": hashlib.sha256((Path(output_dir) / "model.safetensors").read_bytes()).hexdigest(),
        "steps": history[-1]["step"] if history else 0,
        "final_loss": history[-1]["loss"] if history else None,
        "train_seconds": round(history[-1].get("time/train_seconds", 0.0), 2) if history else 0.0,
        "wall_seconds": round(time.time() - started, 2),
        "resumed_at_steps": [r["step"] for r in resumes],
        "history": history,
    }
