"""Test-split metrics per task with torchmetrics, single-stream inference (A removed) as in the paper."""

from __future__ import annotations

from typing import Sequence

import torch
import torchmetrics.functional as tmf

from omnivec2.evaluation.device import model_device
from omnivec2.model.omnivec2 import OmniVec2, Stream


@torch.no_grad()
def predict_task(model: OmniVec2, modality: str, task: str, tokens: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """tokens [S, N, P] -> head outputs, batched on the model's device, returned on the CPU; model in
    eval mode, no cross-attention."""
    model.eval()
    device, outputs = model_device(model), []
    for i in range(0, len(tokens), batch_size):
        stream = Stream(modality, tokens[i : i + batch_size].to(device))
        outputs.append(model.predict(modality, task, model.forward_stream(stream), model.padding(stream), stream.tokens).cpu())
    return torch.cat(outputs)


def classification_metrics(logits: torch.Tensor, target: torch.Tensor, num_classes: int) -> dict[str, float]:
    """Accuracy and macro-F1 (plus AUROC for binary tasks)."""
    target = target.long()
    metrics = {
        "accuracy": float(tmf.accuracy(logits, target, task="multiclass", num_classes=num_classes)),
        "macro_f1": float(tmf.f1_score(logits, target, task="multiclass", num_classes=num_classes, average="macro")),
    }
    if num_classes == 2:
        metrics["auroc"] = float(tmf.auroc(logits.softmax(-1)[:, 1], target, task="binary"))
    return metrics


def regression_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    target = target.float()
    return {"rmse": float(tmf.mean_squared_error(pred, target).sqrt()), "mae": float(tmf.mean_absolute_error(pred, target))}


def task_metrics(kind: str, output: torch.Tensor, target: torch.Tensor, num_classes: int,
                 ignore_index: int | None = None) -> dict[str, float]:
    """Headline figures of one task. Dense: pixels labelled `ignore_index` count nowhere, and that
    label is left out of the mIoU's class average."""
    if kind == "classification":
        return classification_metrics(output, target, num_classes)
    if kind == "regression":
        return regression_metrics(output, target)
    if kind == "dense":
        logits = output.flatten(0, 2)
        target = target.long().flatten()
        return {
            "pixel_accuracy": float(tmf.accuracy(logits, target, task="multiclass", num_classes=num_classes,
                                                 average="micro", ignore_index=ignore_index)),
            "miou": float(tmf.jaccard_index(logits, target, task="multiclass", num_classes=num_classes,
                                            average="macro", ignore_index=ignore_index)),
        }
    raise ValueError(f"no metrics for task kind {kind!r} yet")


def per_class_metrics(kind: str, output: torch.Tensor, target: torch.Tensor, num_classes: int,
                      names: Sequence[str] = (), ignore_index: int | None = None) -> dict[str, dict[str, float]]:
    """Per-class figures keyed by class name (the index as a string when the task has no names):
    {"per_class_recall": ...} for classification, {"per_class_iou": ...} for dense tasks, {} otherwise.

    A class with no test samples has no recall (no pixels in target nor prediction: no IoU) and is
    left out rather than reported as 0."""
    if kind not in ("classification", "dense"):
        return {}
    logits, target = (output.flatten(0, 2), target.flatten()) if kind == "dense" else (output, target)
    matrix = tmf.confusion_matrix(logits, target.long(), task="multiclass", num_classes=num_classes,
                                  ignore_index=ignore_index).double()
    hits, truths = matrix.diag(), matrix.sum(1)  # rows: true class, columns: predicted class
    if kind == "classification":
        key, denominators = "per_class_recall", truths
    else:
        key, denominators = "per_class_iou", truths + matrix.sum(0) - hits
    return {key: {str(names[c]) if names else str(c): float(hits[c] / denominators[c])
                  for c in range(num_classes) if denominators[c] > 0 and c != ignore_index}}
