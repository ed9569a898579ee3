"""Per-class metrics keyed by class name, in metrics.json next to the metrics it always had."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.metrics import per_class_metrics
from omnivec2.tokens.cache import read_token_split
from tests.omnivec2.evaluation.helpers import CLASSES, named_class_run


def one_hot(classes: list[int], count: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(classes), count).float()


def test_per_class_recall_is_keyed_by_class_name():
    logits = one_hot([0, 0, 1, 2, 2, 2], 4)  # predictions; class 3 has no test sample
    target = torch.tensor([0, 1, 1, 2, 2, 0])
    recall = per_class_metrics("classification", logits, target, 4, ("cat", "dog", "fox", "owl"))
    assert recall == {"per_class_recall": {"cat": 0.5, "dog": 0.5, "fox": 1.0}}
    assert list(per_class_metrics("classification", logits, target, 4)["per_class_recall"]) == ["0", "1", "2"]
    assert per_class_metrics("regression", logits[:, 0], target.float(), 1) == {}


def test_per_class_iou_of_a_dense_task_is_keyed_by_class_name():
    target = torch.tensor([[[0, 0, 1, 1]]])  # [S=1, N=1, K=4]
    logits = one_hot([0, 1, 1, 1], 3).reshape(1, 1, 4, 3)
    iou = per_class_metrics("dense", logits, target, 3, ("floor", "object", "sky"))
    assert iou == {"per_class_iou": {"floor": pytest.approx(0.5), "object": pytest.approx(2 / 3)}}


def test_metrics_json_keeps_its_keys_and_adds_recall_per_class_name_and_the_chance_level(tmp_path):
    _, cache_root, checkpoint = named_class_run(tmp_path)
    entry = evaluate_checkpoint(checkpoint, cache_root)["tasks"]["wine/cultivar"]
    assert {"kind", "test_samples", "omnivec2", "classical"} <= set(entry)
    test = read_token_split(cache_root, "wine", "test").targets["cultivar"]
    assert entry["chance"] == {"accuracy": pytest.approx(np.bincount(test).max() / len(test))}
    assert {"accuracy", "macro_f1"} <= set(entry["omnivec2"])
    assert set(entry["per_class_recall"]) == set(CLASSES)
    assert all(0.0 <= value <= 1.0 for value in entry["per_class_recall"].values())
