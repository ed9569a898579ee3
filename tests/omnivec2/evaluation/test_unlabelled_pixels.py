"""Dense tasks with unlabelled pixels (`ignore_index`, e.g. 0 in a hyperspectral ground-truth map):
no loss, no metric, no baseline label comes from them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omnivec2.evaluation.dense_baseline import dense_baseline
from omnivec2.evaluation.metrics import per_class_metrics, task_metrics
from omnivec2.model.heads import task_loss


def one_hot(classes: list[int], count: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(classes), count).float()


def test_unlabelled_pixels_count_in_no_metric():
    target = torch.tensor([[[0, 0, 1, 2]]])  # [S=1, N=1, K=4]; label 0 = unlabelled
    logits = one_hot([1, 2, 1, 1], 3).reshape(1, 1, 4, 3)  # wrong on both unlabelled pixels, half right on the rest
    ignored = task_metrics("dense", logits, target, 3, ignore_index=0)
    # grass: 1 hit, 1 false alarm on a road pixel (those on unlabelled pixels do not count) -> IoU 1/2; road: 0
    assert ignored == {"pixel_accuracy": pytest.approx(0.5), "miou": pytest.approx(0.25)}
    counted = task_metrics("dense", logits, target, 3)
    assert counted["pixel_accuracy"] == pytest.approx(0.25)
    assert per_class_metrics("dense", logits, target, 3, ("none", "grass", "road"), ignore_index=0) == {
        "per_class_iou": {"grass": pytest.approx(0.5), "road": 0.0}}


def test_unlabelled_pixels_add_no_loss():
    logits = torch.randn(2, 3, 4, 5, requires_grad=True)  # [B, N, K, C]
    target = torch.randint(1, 5, (2, 3, 4))
    target[0] = 0
    loss = task_loss("dense", logits, target, ignore_index=0)
    labelled = task_loss("dense", logits[1:], target[1:])
    assert torch.allclose(loss, labelled)
    nothing = task_loss("dense", logits, torch.zeros_like(target), ignore_index=0)
    nothing.backward()
    assert nothing.item() == 0.0 and logits.grad is not None and torch.isfinite(logits.grad).all()


def test_the_dense_baseline_learns_from_labelled_pixels_only():
    rng = np.random.default_rng(0)
    labels = rng.integers(1, 3, size=(40, 6))  # [S, N] one label per token, classes 1 and 2
    tokens = (labels[..., None] * 3.0 + rng.normal(0, 0.3, (40, 6, 4))).astype(np.float32)  # [S, N, P]
    maps = np.repeat(labels[..., None], 4, axis=2)  # [S, N, K=4]
    maps[:, :, :3] = 0  # three pixels of four unlabelled: counting them would make 0 every token's majority
    result = dense_baseline(tokens[:30], maps[:30], tokens[30:], maps[30:], 3, ignore_index=0)
    assert result["pixel_accuracy"] > 0.95
    counted = dense_baseline(tokens[:30], maps[:30], tokens[30:], maps[30:], 3)
    assert counted["pixel_accuracy"] == pytest.approx(0.75)  # "unlabelled" predicted everywhere
