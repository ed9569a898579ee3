"""Evaluate a checkpoint on every task's test split, next to a classical baseline on the same split."""

from __future__ import annotations

from pathlib import Path

import torch

from omnivec2.checkpoint import load_model
from omnivec2.evaluation.baselines import classical_baseline
from omnivec2.evaluation.dense_baseline import dense_baseline
from omnivec2.evaluation.metrics import predict_task, task_metrics
from omnivec2.tokens.cache import read_token_split


def evaluate_checkpoint(checkpoint_dir: str | Path, cache_root: str | Path, seed: int = 0) -> dict:
    """-> {"tasks": {"<modality>/<task>": {kind, test_samples, omnivec2: {...}, classical: {...}}}}."""
    model = load_model(checkpoint_dir)
    tasks = {}
    for modality in model.config.modalities:
        train = read_token_split(cache_root, modality.name, "train")
        test = read_token_split(cache_root, modality.name, "test")
        tokens = torch.from_numpy(test.tokens.copy())
        for task in modality.tasks:
            output = predict_task(model, modality.name, task.name, tokens)
            target = torch.from_numpy(test.targets[task.name].copy())
            entry = {
                "kind": task.kind,
                "test_samples": len(test.sample_ids),
                "omnivec2": task_metrics(task.kind, output, target, task.num_classes),
            }
            if task.kind in ("classification", "regression"):
                entry["classical"] = classical_baseline(task.kind, train.tokens, train.targets[task.name],
                                                        test.tokens, test.targets[task.name], seed)
            elif task.kind == "dense":
                entry["classical"] = dense_baseline(train.tokens, train.targets[task.name], test.tokens,
                                                    test.targets[task.name], task.num_classes, seed)
            tasks[f"{modality.name}/{task.name}"] = entry
    return {"tasks": tasks}
