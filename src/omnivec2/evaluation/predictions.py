"""Every classification task's test predictions as a table (actual and predicted class per sample), the
input of `dvc plots`' confusion matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from omnivec2.evaluation.metrics import predict_task
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.tokens.cache import read_token_split


def classification_predictions(model: OmniVec2, cache_root: str | Path) -> dict[str, pd.DataFrame]:
    """-> {"<modality>/<task>": frame[sample_id, actual, predicted]} over the test split, classes by name
    where the task lists them (else by index); samples whose target is the task's ignore label are left out."""
    tables = {}
    for modality in model.config.modalities:
        tasks = [t for t in modality.tasks if t.kind == "classification"]
        if not tasks:
            continue
        test = read_token_split(cache_root, modality.name, "test")
        tokens = torch.from_numpy(np.array(test.tokens))
        for task in tasks:
            predicted = predict_task(model, modality.name, task.name, tokens).argmax(-1).numpy()  # [S]
            actual = np.asarray(test.targets[task.name]).astype(np.int64)  # [S]
            keep = actual != task.ignore_index if task.ignore_index is not None else np.ones(len(actual), bool)
            names = np.asarray(task.classes) if task.classes else None
            tables[f"{modality.name}/{task.name}"] = pd.DataFrame({
                "sample_id": np.asarray(test.sample_ids)[keep],
                "actual": names[actual[keep]] if names is not None else actual[keep],
                "predicted": names[predicted[keep]] if names is not None else predicted[keep],
            })
    return tables
