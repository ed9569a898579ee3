"""Single-task baselines: the same backbone, trained from scratch on one task alone, on what that
task really got inside the multitask run.

Budget: stage 3 counts, per task, the steps that trained it (`visits`) and the rows it saw over all
workers (`samples`); they are in the stage summary. The specialist makes that many optimisation
steps on batches of samples / visits rows, from random weights, with no pretraining. So "OmniVec2 vs
single-task" compares sharing (pretraining, other tasks) against none at equal supervised compute for
the task. (An earlier version derived the budget from dataset sizes, assuming visits proportional to
size; the pair sampler's size weights are far flatter, which biased the comparison both ways.)

Runs without Ray (plain PyTorch): eighteen small stages would pay Ray's start-up eighteen times.
With more than one worker (`specialist_workers`, default one per core this process was given) the
specialists train side by side in spawned one-thread processes, each reading its own stream from
the token cache: a small network at batch 32 keeps a second intra-op thread mostly idle, so two
one-thread processes finish more specialists in the same time (benchmark (j)). A specialist's result
depends only on its task, budget and seed, not on which worker ran it or when, so side by side gives
the bits of one-thread runs in turn; it differs from a two-thread run by float rounding. On a CUDA
`device` (`evaluation.device`, e.g. under `--env gpu`) they train in turn on it, in this process.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from omnivec2.evaluation.metrics import predict_task, task_metrics
from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.process_pool import run_in_processes
from omnivec2.progress import progress_bar
from omnivec2.tokens.cache import read_token_split
from omnivec2.training.config import TrainConfig
from omnivec2.training.data import ModalityData
from omnivec2.training.step_loop import Placement, train_stage
from omnivec2.training.validation import Validation, load_validation_data


def task_budgets(visits: dict[str, dict[str, int]], tasks: list[str]) -> dict[str, tuple[int, int]]:
    """Stage 3's counted {task: {"visits", "samples"}} (every task it trained, visited or not) ->
    {task: (steps, batch size)} for each of `tasks`. A task stage 3 never visited (a short run) gets
    (0, 0): its specialist stays untrained, as its head did. A task stage 3 did not count at all
    means the counts belong to another model: refused. (A stage 3 that was skipped counted nothing:
    every task gets (0, 0).)"""
    missing = [t for t in tasks if t not in visits]
    if visits and missing:
        raise ValueError(f"stage 3's visit counts lack the task(s) {missing}; it counted {sorted(visits)}")
    budgets = {}
    for task in tasks:
        count = visits.get(task, {"visits": 0, "samples": 0})
        steps = int(count["visits"])
        budgets[task] = (steps, max(1, round(count["samples"] / steps)) if steps else 0)
    return budgets


def train_specialist(config: ModelConfig, modality: str, task: str, data: ModalityData, steps: int, batch_size: int,
                     train: TrainConfig, validation: ModalityData | None = None,
                     device: torch.device | str = "cpu") -> tuple[OmniVec2, float, list]:
    """A fresh model with only `modality` and its one `task`, trained `steps` steps on `device` (where
    it is returned) -> (model, seconds, learning curve). The weights are drawn on the CPU, so the
    initialisation is the same on every device. The curve, [[step, validation metric], ...], is
    measured when `validation` (the stream's validation split) is given and stage 3 validated
    (`train.val_every`): at the same fraction of the specialist's steps as stage 3's validations were
    of its steps."""
    single = config.modality(modality)
    single = replace(single, tasks=tuple(t for t in single.tasks if t.name == task))
    torch.manual_seed(train.seed)
    model = OmniVec2(config.with_modalities([single])).to(device)
    if steps == 0:
        return model, 0.0, []
    every = max(1, round(steps * train.val_every / train.steps)) if train.val_every else 0
    settings = TrainConfig.from_dict({**train.to_dict(), "steps": steps, "batch_size": batch_size, "mode": "sequential",
                                      "balancing": "equal", "freeze_shared": False, "val_every": every,
                                      "warmup_steps": min(train.warmup_steps, max(1, steps // 10))})
    # also without learning curves (every = 0), the end-of-stage refit reads it (`head_pooling: select`)
    checks = Validation({modality: validation}, every) if validation is not None else None
    _, history = train_stage(model, {modality: data}, settings, Placement(device=device), validation=checks)
    key = f"val/{modality}/{task}"
    curve = [[entry["step"], entry[key]] for entry in history if key in entry]
    return model, history[-1]["time/train_seconds"], curve  # seconds in optimisation steps (the last step is always logged)


def single_task_baselines(config: ModelConfig, cache_root, train: TrainConfig, visits: dict[str, dict[str, int]],
                          workers: int | None = None, device: torch.device | str = "cpu") -> dict[str, dict]:
    """Every task of `config`, with stage 3's counted `visits` -> {"steps", "batch_size",
    "train_seconds" (in optimisation steps), "seconds" (in all: reading, training, scoring),
    metrics..., "curve" (when stage 3 validated)} on its test split. `workers` (default
    `specialist_workers()`): 1 trains them in turn in this process at its thread count; more, side
    by side in that many one-thread processes (the costliest first, by `specialist_cost`). On a CUDA
    `device` they train in turn on it, in this process (`workers` is ignored)."""
    budgets = task_budgets(visits, [f"{m.name}/{t.name}" for m in config.modalities for t in m.tasks])
    device = torch.device(device)
    workers = 1 if device.type != "cpu" else specialist_workers() if workers is None else max(1, workers)
    results = {}
    with progress_bar(len(budgets), "single-task baselines") as bar:

        def done(key: str, result: dict) -> None:
            results[key] = result
            bar.advance(f"{key}, {budgets[key][0]} steps")

        if workers == 1 or len(budgets) < 2:
            for key, (steps, batch_size) in budgets.items():
                done(key, _score_specialist(config, key, steps, batch_size, train, cache_root, device))
            return results
        # the costliest first, so that no long specialist is left running alone at the end
        order = sorted(budgets, key=lambda k: -specialist_cost(config, k, *budgets[k]))
        run_in_processes([(key, _score_specialist, (config, key, *budgets[key], train, str(cache_root))) for key in order],
                         workers, done, lambda key: f"the single-task baseline of {key} failed",
                         initializer=torch.set_num_threads, initargs=(1,))
    return {key: results[key] for key in budgets}


def specialist_cost(config: ModelConfig, key: str, steps: int, batch_size: int) -> float:
    """A specialist's relative cost, for ordering: the tokens its steps push through the network
    (steps x batch size x tokens per row). On the default suite's main run (2026-12-05), training
    seconds correlate 0.99 with it against 0.81 with steps x batch size, which ranked image/digit
    (16 tokens a row, 10.6 s) above every 64-token stream (20-63 s)."""
    return steps * batch_size * config.modality(key.split("/")[0]).num_tokens


def specialist_workers() -> int:
    """How many specialists train at once by default: one per intra-op thread of this process (its cores)."""
    return max(1, torch.get_num_threads())


def _score_specialist(config: ModelConfig, key: str, steps: int, batch_size: int, train: TrainConfig,
                      cache_root, device: torch.device | str = "cpu") -> dict:
    """Train the specialist of task `key` ("<dataset>/<task>") and score it on its test split (with
    its learning curve on the validation split, when there is one to draw). Reads only its own
    stream from the token cache at `cache_root`, so a worker process can run it alone."""
    started = time.perf_counter()
    modality, task = key.split("/")
    train_split, test_split = (read_token_split(cache_root, modality, split) for split in ("train", "test"))
    data = ModalityData.from_token_split(train_split, tasks=(task,))
    validation = load_validation_data(cache_root, [modality]).get(modality)
    model, seconds, curve = train_specialist(config, modality, task, data, steps, batch_size, train, validation, device)
    spec = next(t for t in config.modality(modality).tasks if t.name == task)
    output = predict_task(model, modality, task, torch.from_numpy(np.array(test_split.tokens)))
    target = torch.from_numpy(np.array(test_split.targets[task]))
    return {**task_metrics(spec.kind, output, target, spec.num_classes, spec.ignore_index),
            "steps": steps, "batch_size": batch_size, "train_seconds": round(seconds, 2),
            "seconds": round(time.perf_counter() - started, 2),
            **({"curve": curve} if curve else {})}
