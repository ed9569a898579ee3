"""The Ray Train worker of a training stage: resume, data, checkpoint reports.

`train_loop_per_worker` is a module-level function (Ray cloudpickles it) that receives the stage's
`StageLaunch` as a dict. Rank 0 prints a progress line (`omnivec2.progress.StageProgress`) and logs
metrics every `log_every` steps, and writes checkpoints (the whole format, history and resume log
included: `checkpoint.save_checkpoint`); every other rank reports its own state files;
every worker reports the same number of times. A restarted worker group (FailureConfig) or a
re-run with the same run name resumes from the latest reported checkpoint, and the resume is
appended to the checkpoint's resume log.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from omnivec2.checkpoint import (load_rank_state, load_trainer_state, load_weights, read_config, read_history,
                                 save_checkpoint, save_rank_state)
from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.progress import StageProgress
from omnivec2.training.contrastive import stage3_paired_rows
from omnivec2.training.data import load_training_data
from omnivec2.training.faults import maybe_inject_fault
from omnivec2.training.init_checkpoint import fetch_checkpoint
from omnivec2.training.stage_launch import StageLaunch
from omnivec2.training.step_loop import Placement, ResumePoint, StepHooks, seed_everything, train_stage
from omnivec2.training.validation import Validation, load_validation_data

CHECKPOINT_PREFIX = "omnivec2-ckpt-"  # a reported checkpoint's temporary directory


def initial_model(launch: StageLaunch) -> OmniVec2:
    """The stage's network before its first step: seeded (the same initial weights on every worker)
    and, after the first stage, loaded with the previous stage's weights (new parts keep theirs),
    fetched from Ray Train's storage where the driver published them (a worker on another machine
    has no copy of the driver's disk); without a published copy (a launch built by hand, in
    process), from the driver's directory."""
    seed_everything(launch.train.seed)
    model = OmniVec2(ModelConfig.from_dict(launch.model))
    if launch.init_storage:
        local = fetch_checkpoint(launch.init_storage, launch.init_checkpoint_sha)
        try:
            load_weights(model, local, strict=False)
        finally:
            shutil.rmtree(local.parent, ignore_errors=True)
    elif launch.init_checkpoint:
        load_weights(model, launch.init_checkpoint, strict=False)
    return model


def train_loop_per_worker(launch_dict: dict) -> None:
    """Ray Train worker entry point; `launch_dict` is `StageLaunch.to_dict()`."""
    import ray.train
    import ray.train.torch

    launch = StageLaunch.from_dict(launch_dict)
    quiet_per_report_logs(launch.log_level)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    model = initial_model(launch)
    resume, resumes = None, []
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            resume, resumes = resume_point(directory, model, launch.stage, rank)
    device = ray.train.torch.get_device()
    model.to(device)
    wrap = None
    if world > 1:
        wrap = lambda module: ray.train.torch.prepare_model(
            module, parallel_strategy_kwargs={"find_unused_parameters": True})
    data = load_training_data(launch.cache_root, launch.modalities)
    hooks = WorkerHooks(launch, rank, world, resumes, resumed=resume is not None,
                        history=resume.history if resume is not None else [])
    validation = None
    if launch.stage == "train_multitask":  # learning curves (`val_every`) and the end-of-stage read-out choice
        validation = Validation(load_validation_data(launch.cache_root, launch.modalities), launch.train.val_every)
    train_stage(model, data, launch.train, Placement(rank, world, wrap, device), resume, hooks, validation,
                stage3_paired_rows(launch.train, launch.cache_root, launch.modalities))


def resume_point(directory: str | Path, model: OmniVec2, stage: str,
                 rank: int) -> tuple[ResumePoint | None, list[dict]]:
    """Load the checkpoint's weights into `model` -> (where the stage continues, or None for weights
    without trainer state; its resume log)."""
    _, meta = read_config(directory)
    if meta.get("stage") != stage:
        raise RuntimeError(f"{stage}: the run's latest checkpoint is from stage {meta.get('stage')!r}; "
                           "refusing to resume from it")
    load_weights(model, directory)
    trainer_state = load_trainer_state(directory)
    rank_state = load_rank_state(directory, rank) if rank > 0 else None
    history, resumes = read_history(directory)
    return (ResumePoint(trainer_state, rank_state, history) if trainer_state is not None else None), resumes


class WorkerHooks(StepHooks):
    """Rank 0: MLflow metrics and the stage's checkpoints; other ranks: their own state. All ranks:
    the resume log and the fault drill."""

    def __init__(self, launch: StageLaunch, rank: int, world_size: int, resumes: list[dict], resumed: bool,
                 history: list[dict] | None = None):
        self.launch, self.rank, self.world_size = launch, rank, world_size
        self.resumes, self.resumed, self.history = resumes, resumed, list(history or [])
        self.logger = self.progress = None
        self.local_checkpoint: Path | None = None  # local mode: the latest reported copy (see report)

    def started(self, trainer) -> None:
        train = self.launch.train
        if self.resumed:
            self.resumes.append({"step": trainer.step, "time": time.time(), "world_size": self.world_size,
                                 "attempt": len(self.resumes) + 1})
            done = " (the stage was already complete)" if trainer.step >= train.steps else ""
            print(f"[omnivec2] {train.stage}: resumed at step {trainer.step} of {train.steps} "
                  f"from the latest checkpoint{done}", flush=True)
        if self.rank == 0:  # one progress line per logging step, from rank 0 only
            self.progress = StageProgress(train.stage, train.steps, first_step=trainer.step)
        if self.rank == 0 and self.launch.tracking:
            from omnivec2.tracking import WorkerMetricLogger

            self.logger = WorkerMetricLogger(self.launch.tracking)
            if self.resumed:  # each step once in the run: the steps it lacks, then only new ones
                self.logger.resume(self.history)

    def logged(self, metrics: dict[str, float], step: int) -> None:
        if self.progress is not None:
            print(self.progress.line(step, metrics.get("loss")), flush=True)
        if self.logger is not None:
            self.logger.log(metrics, step)

    def report(self, trainer, history: list[dict], save: bool) -> None:
        # Only checkpoints go through Ray: a report can block until Ray Train's controller next polls
        # (up to RAY_TRAIN_HEALTH_CHECK_INTERVAL_S each on Ray 2.60, measured), and log_every=5 meant
        # 240 reports in stage 3. Metrics reach MLflow from rank 0 directly (logged) and the history file.
        import ray.train

        if not save:
            return
        directory = Path(tempfile.mkdtemp(prefix=CHECKPOINT_PREFIX)) / "checkpoint"
        if self.rank == 0:
            meta = {"stage": self.launch.stage, "train": self.launch.train.to_dict(), "step": trainer.step,
                    "world_size": self.world_size}
            save_checkpoint(directory, trainer.model, meta, trainer.state_dict(), history, self.resumes)
        else:  # Ray Train merges every worker's files into the one checkpoint directory
            save_rank_state(directory, self.rank, trainer.rank_state_dict())
        ray.train.report(history[-1], checkpoint=ray.train.Checkpoint.from_directory(str(directory)))
        # Reports upload synchronously into the run's storage, so the copy here can go. In local mode
        # (no workers) Ray 2.60 uploads nothing and keeps a reference to the latest checkpoint only:
        # that one stays (run_stage_on_ray copies it, then deletes it) and the one before it goes.
        if not self.launch.local_mode:
            shutil.rmtree(directory.parent, ignore_errors=True)
            return
        if self.local_checkpoint is not None:
            shutil.rmtree(self.local_checkpoint, ignore_errors=True)
        self.local_checkpoint = directory.parent

    def after_step(self, step: int) -> None:
        if self.launch.fault:
            maybe_inject_fault(self.launch.fault, self.launch.stage, step, self.rank)

    def finished(self) -> None:
        if self.logger is not None:
            self.logger.close()


def quiet_per_report_logs(level: str) -> None:
    """Ray 2.60 logs every report at INFO through a logger named after its source file, outside the
    `ray.train` hierarchy that RunConfig's LoggingConfig controls; apply the configured level to it."""
    try:
        from ray.train.v2._internal.execution import context as execution_context
    except ImportError:  # a Ray without Train V2 internals: nothing to quiet
        return
    logging.getLogger(execution_context.__file__).setLevel(level)
