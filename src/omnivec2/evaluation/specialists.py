"""Single-task baselines: the same backbone, trained from scratch on one task alone, with the step
budget that task got inside the multitask run.

Budget: in stage 3 a task is visited `visits(t)` times with `per_visit` samples each (pairwise:
`steps * 2 * share(t)` visits of half a batch, the share following `pair_sampling`; joint: every
step, batch / T; sequential: steps / T visits of a full batch). The specialist makes the same
number of optimisation steps on the same number of samples per step, from random weights, with
no pretraining. So "OmniVec2 vs single-task" compares sharing (pretraining, other tasks) against
none at equal supervised compute for the task.

Runs in-process (plain PyTorch, no Ray): eighteen small stages would pay Ray's start-up eighteen times.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from omnivec2.evaluation.metrics import predict_task, task_metrics
from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.tokens.cache import read_token_split
from omnivec2.training.config import TrainConfig
from omnivec2.training.data import ModalityData
from omnivec2.training.step_loop import train_stage


def task_budgets(train_sizes: dict[str, int], train: TrainConfig) -> dict[str, tuple[int, int]]:
    """{"<modality>/<task>": train rows of its modality} and stage 3's settings -> {task: (steps, batch)}."""
    tasks = sorted(train_sizes)
    if train.mode == "joint":
        return {t: (train.steps, max(1, train.batch_size // len(tasks))) for t in tasks}
    if train.mode == "sequential":
        return {t: (math.ceil(train.steps / len(tasks)), train.batch_size) for t in tasks}
    if train.pair_sampling == "uniform":
        share = {t: 1 / len(tasks) for t in tasks}
    else:  # size and budget sampling both aim at visits proportional to the modality's size
        total = sum(train_sizes.values())
        share = {t: train_sizes[t] / total for t in tasks}
    return {t: (max(1, round(train.steps * 2 * share[t])), max(1, train.batch_size // 2)) for t in tasks}


def train_specialist(config: ModelConfig, modality: str, task: str, data: ModalityData, steps: int, batch_size: int,
                     train: TrainConfig) -> tuple[OmniVec2, float]:
    """A fresh model with only `modality` and its one `task`, trained `steps` steps -> (model, seconds)."""
    single = config.modality(modality)
    single = replace(single, tasks=tuple(t for t in single.tasks if t.name == task))
    torch.manual_seed(train.seed)
    model = OmniVec2(config.with_modalities([single]))
    settings = TrainConfig.from_dict({**train.to_dict(), "steps": steps, "batch_size": batch_size, "mode": "sequential",
                                      "balancing": "equal", "freeze_shared": False,
                                      "warmup_steps": min(train.warmup_steps, max(1, steps // 10))})
    _, history = train_stage(model, {modality: data}, settings)
    return model, history[-1]["time/train_seconds"]  # seconds in optimisation steps (the last step is always logged)


def single_task_baselines(config: ModelConfig, cache_root, train: TrainConfig) -> dict[str, dict]:
    """Every task of `config` -> {"steps", "batch_size", "train_seconds", metrics...} on its test split."""
    splits = {m.name: (read_token_split(cache_root, m.name, "train"), read_token_split(cache_root, m.name, "test"))
              for m in config.modalities}
    sizes = {f"{m.name}/{t.name}": len(splits[m.name][0].sample_ids) for m in config.modalities for t in m.tasks}
    budgets = task_budgets(sizes, train)
    results = {}
    for key, (steps, batch_size) in budgets.items():
        modality, task = key.split("/")
        train_split, test_split = splits[modality]
        data = ModalityData.from_token_split(train_split, tasks=(task,))
        model, seconds = train_specialist(config, modality, task, data, steps, batch_size, train)
        spec = next(t for t in config.modality(modality).tasks if t.name == task)
        output = predict_task(model, modality, task, torch.from_numpy(np.array(test_split.tokens)))
        target = torch.from_numpy(np.array(test_split.targets[task]))
        results[key] = {**task_metrics(spec.kind, output, target, spec.num_classes, spec.ignore_index),
                        "steps": steps, "batch_size": batch_size, "train_seconds": round(seconds, 2)}
    return results
