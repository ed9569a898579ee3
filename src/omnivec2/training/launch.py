"""The driver side of a training stage on Ray Train: checks before any worker starts, the workers'
resources, the TorchTrainer launch, and the copy of the final checkpoint to the stage's output."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

from omnivec2.checkpoint import MODEL_FILE, read_history, verify_checkpoint, write_dir_atomically
from omnivec2.durable_files import sha256_file
from omnivec2.training.init_checkpoint import publish_checkpoint
from omnivec2.training.stage_launch import StageLaunch
from omnivec2.training.worker import CHECKPOINT_PREFIX, train_loop_per_worker


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


def check_inputs(launch: StageLaunch) -> None:
    """On the driver, before any worker starts: the previous stage's checkpoint is there and intact,
    and every modality's token cache has a readable manifest (a local cache; remote ones are checked
    where they are read). Errors name the file."""
    from omnivec2.tokens.shards import load_manifest, modality_dir

    init = launch.init_checkpoint
    if init:
        if not (Path(init) / MODEL_FILE).is_file():
            raise FileNotFoundError(f"{launch.stage}: the previous stage's checkpoint "
                                    f"{Path(init) / MODEL_FILE} does not exist; run the previous stage first")
        verify_checkpoint(init)
    if "://" not in launch.cache_root:
        for modality in launch.modalities:
            load_manifest(modality_dir(launch.cache_root, modality))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def run_stage_on_ray(launch: StageLaunch, output_dir: str | Path, ray_params: dict) -> dict:
    """Launch one stage with a TorchTrainer of `launch.num_workers` workers; copy its final checkpoint
    to `output_dir` atomically (verified before it replaces the previous one); return a summary.
    ray_params: use_gpu, storage_path, max_failures, num_to_keep, resources_per_worker or
    cpus_per_worker, log_level."""
    from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    check_ray_params(ray_params)
    check_inputs(launch)
    if launch.init_checkpoint:  # workers fetch it from the run storage, not from this machine's disk
        launch = replace(launch, init_storage=publish_checkpoint(launch.init_checkpoint, str(ray_params["storage_path"]),
                                                                 launch.init_checkpoint_sha))
    name = launch.run_name()
    started = time.time()
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config=launch.to_dict(),
        scaling_config=ScalingConfig(num_workers=launch.num_workers,
                                     use_gpu=bool(ray_params.get("use_gpu", False)),
                                     resources_per_worker=worker_resources(ray_params, launch.num_workers)),
        run_config=RunConfig(
            name=name,
            storage_path=str(ray_params["storage_path"]),
            failure_config=FailureConfig(max_failures=int(ray_params.get("max_failures", 0))),
            checkpoint_config=CheckpointConfig(num_to_keep=int(ray_params.get("num_to_keep", 2))),
            # Ray Train logs every report at INFO; the stage's own metrics go to MLflow instead.
            logging_config=LoggingConfig(log_level=launch.log_level),
        ),
    )
    result = trainer.fit()
    if result.checkpoint is None:
        raise RuntimeError(f"stage {launch.stage}: Ray Train finished without a checkpoint (run {name})")

    def copy(tmp: Path) -> None:
        with result.checkpoint.as_directory() as directory:
            for f in Path(directory).iterdir():
                if f.is_file():
                    shutil.copy2(f, tmp / f.name)
        verify_checkpoint(tmp)

    write_dir_atomically(Path(output_dir), copy)
    written = Path(result.checkpoint.path).parent
    if launch.local_mode and written.name.startswith(CHECKPOINT_PREFIX):  # WorkerHooks.report's copy, not storage
        shutil.rmtree(written, ignore_errors=True)
    history, resumes = read_history(output_dir)
    return {
        "stage": launch.stage,
        "ray_run": name,
        "checkpoint": str(output_dir),
        "checkpoint_sha256": sha256_file(Path(output_dir) / MODEL_FILE),
        "steps": history[-1]["step"] if history else 0,
        "final_loss": history[-1]["loss"] if history else None,
        "train_seconds": round(history[-1].get("time/train_seconds", 0.0), 2) if history else 0.0,
        "validation_seconds": round(history[-1].get("time/validation_seconds", 0.0), 2) if history else 0.0,
        "finish_seconds": round(history[-1].get("time/finish_seconds", 0.0), 2) if history else 0.0,
        "wall_seconds": round(time.time() - started, 2),
        "resumed_at_steps": [r["step"] for r in resumes],
        "visits": visits_from(history[-1]) if history else {},
        "history": history,
    }


def visits_from(row: dict) -> dict[str, dict[str, int]]:
    """A history row's `visits/<key>` and `samples/<key>` -> {key: {"visits", "samples"}}."""
    return {key[len("visits/"):]: {"visits": int(value), "samples": int(row[f"samples/{key[len('visits/'):]}"])}
            for key, value in row.items() if key.startswith("visits/")}
