"""Training one stage in this process: the step loop, and the one function every caller trains with
(the Ray worker, the ablation grid, the single-task specialists, the benchmarks).

`train_stage(model, data, config)` builds the stage's `StageTrainer`, restores a resume point if it
is given one, and steps until `config.steps`, keeping a metric history. What a caller does around
the steps (checkpoints, MLflow, fault drills) goes through `StepHooks`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.training.contrastive import PairedRows
from omnivec2.training.config import TrainConfig
from omnivec2.training.data import ModalityData
from omnivec2.training.trainer import StageTrainer
from omnivec2.training.validation import Validation


@dataclass(frozen=True)
class Placement:
    """Where this copy of the stage runs: its data-parallel rank of `world_size`, `wrap` (e.g. DDP)
    for the objective, and the device."""

    rank: int = 0
    world_size: int = 1
    wrap: object = None
    device: torch.device | str = "cpu"


@dataclass(frozen=True)
class ResumePoint:
    """A checkpoint to continue from: the shared trainer state, this rank's own state (rank > 0;
    rank 0's is inside the trainer state) and the metric history so far."""

    trainer_state: dict
    rank_state: dict | None = None
    history: list[dict] = field(default_factory=list)


class StepHooks:
    """What a caller does around the steps; every method is a no-op here."""

    def started(self, trainer: StageTrainer) -> None:
        """After the trainer is built (and resumed), before the first step."""

    def logged(self, metrics: dict[str, float], step: int) -> None:
        """At every logging step: the window's mean metrics."""

    def report(self, trainer: StageTrainer, history: list[dict], save: bool) -> None:
        """At every logging step, after `logged`; save=True at checkpoint steps and at the end."""

    def after_step(self, step: int) -> None:
        """After each step and its report (the fault-injection point)."""

    def finished(self) -> None:
        """After the last step, or when a step raised."""


def train_stage(model: OmniVec2, data: dict[str, ModalityData], config: TrainConfig,
                placement: Placement = Placement(), resume: ResumePoint | None = None,
                hooks: StepHooks | None = None, validation: Validation | None = None,
                pairs: list[PairedRows] = ()) -> tuple[StageTrainer, list[dict]]:
    """Train `model` on `data` for the stage `config` describes -> (the trainer, its metric history).
    With `validation`, the history's entries at its steps also hold `val/<task>` (see `run_steps`);
    `pairs`: the paired rows the contrastive term draws from (`training.contrastive_weight`)."""
    hooks = hooks or StepHooks()
    trainer = StageTrainer(model, data, config, rank=placement.rank, world_size=placement.world_size,
                           wrap=placement.wrap, device=placement.device, pairs=pairs)
    history: list[dict] = []
    if resume is not None:
        trainer.load_state_dict(resume.trainer_state)
        if resume.rank_state is not None:  # this worker's own streams, masks and RNGs (rank 0's are in trainer_state)
            trainer.load_rank_state_dict(resume.rank_state)
        if trainer.step > config.steps:
            raise RuntimeError(f"{config.stage}: checkpoint is at step {trainer.step}, past the "
                               f"configured {config.steps} steps")
        history = list(resume.history)
    try:
        hooks.started(trainer)
        run_steps(trainer, history, hooks, validation)
    finally:
        hooks.finished()
    return trainer, history


def run_steps(trainer: StageTrainer, history: list[dict], hooks: StepHooks,
              validation: Validation | None = None) -> None:
    """Advance `trainer` to its config's `steps`. At every logging step, append the mean of each
    metric over the steps since the last log (a modality or task appears only on the steps that
    train it, so single-step values would leave gaps) to `history`, then call `hooks.logged` and
    `hooks.report` (save=True at checkpoint steps and at the end). `visits/<key>` and `samples/<key>`
are what each dataset or task has been trained on so far. `time/train_seconds` accumulates
    the time spent in optimisation steps, `time/validation_seconds` the time spent validating, and
    the last entry's `time/finish_seconds` is the end-of-stage work (`trainer.finish`): together they
    separate the model's work from orchestration overhead.
    With `validation`, every task's validation metric is added as `val/<task>` at its steps (which
    are logging steps too)."""
    steps, log_every, checkpoint_every = trainer.config.steps, trainer.config.log_every, trainer.config.checkpoint_every
    window: dict[str, list[float]] = {}
    train_seconds = history[-1].get("time/train_seconds", 0.0) if history else 0.0
    validation_seconds = history[-1].get("time/validation_seconds", 0.0) if history else 0.0
    while trainer.step < steps:
        started = time.perf_counter()
        metrics = trainer.train_step()
        elapsed = time.perf_counter() - started
        train_seconds += elapsed
        for key, value in {**metrics, "time/step_ms": 1000 * elapsed}.items():
            window.setdefault(key, []).append(value)
        step = trainer.step
        if step == steps:  # before the last validation and the final checkpoint, which must include it
            started = time.perf_counter()
            window.update({key: [value] for key, value in trainer.finish(validation.data if validation else None).items()})
            window["time/finish_seconds"] = [time.perf_counter() - started]
        save = step % checkpoint_every == 0 or step == steps
        validate = validation is not None and validation.due(step, steps)
        if step % log_every == 0 or save or validate:
            metrics = {key: sum(values) / len(values) for key, values in window.items()}
            metrics.update(trainer.visit_counts())  # counts so far, not window means
            if validate:
                started = time.perf_counter()
                metrics.update(validation.metrics(trainer.model, trainer.tasks))
                validation_seconds += time.perf_counter() - started
            metrics["time/train_seconds"], metrics["time/validation_seconds"] = train_seconds, validation_seconds
            window = {}
            history.append({"step": step, **metrics})
            hooks.logged(metrics, step)
            hooks.report(trainer, history, save)
        hooks.after_step(step)


def seed_everything(seed: int) -> None:
    """torch, numpy and python `random` global generators (a resumed run restores their checkpointed
    states on top, so that code drawing from them continues exactly)."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
