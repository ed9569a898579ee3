"""Raw labels -> class indices through the source's or the task's class list (near-duplicates refused or
merged first, `labels`), and the range check of integer labels."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from omnivec2.data.sources.class_names import record_class_names
from omnivec2.data.sources.errors import SourceError
from omnivec2.datasets.spec import DatasetSpec


def class_indices(spec: DatasetSpec, labels: Sequence, classes: Sequence | None, where: str,
                  task: str | None = None) -> np.ndarray:
    """Raw labels `[B]` -> class indices `[B]` int64, through `classes` (exact, then case-insensitive match).

    Without `classes` (the source's option), integer labels are kept as they are (they are class
    indices) and names map through the task's declared class list, else the sorted unique names.
    `task` (default: the first) is the task the labels are for; the names it maps through are
    recorded for it (see `class_names`).
    """
    from omnivec2.data.sources.labels import merge_label_variants

    labels = merge_label_variants(spec, np.asarray(labels), where)  # near-duplicates: refused or normalised
    declared = spec.task(task).classes if task else spec.tasks[0].classes
    origin = "the source's 'classes'"
    if classes is None and labels.dtype.kind not in "iu" and declared:
        classes, origin = declared, "the task's declared 'classes'"  # names map through the dataset's declared list
    if classes is None:
        if labels.dtype.kind in "iu":
            return labels.astype(np.int64)
        classes = sorted({str(label) for label in labels})
    record_class_names(task or spec.tasks[0].name, classes)
    exact = {str(name): i for i, name in enumerate(classes)}
    folded = {str(name).casefold(): i for i, name in enumerate(classes)}
    out = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        key = str(label)
        index = exact.get(key, folded.get(key.casefold()))
        if index is None:
            raise SourceError(f"dataset {spec.name!r}, task {task or spec.tasks[0].name!r}: label {key!r} in {where} "
                              f"is not one of the classes {list(classes)} ({origin})")
        out[i] = index
    return out


def check_class_range(spec: DatasetSpec, labels: np.ndarray, where: str) -> None:
    """Refuse class indices outside the first task's classes (a task inferring its classes has no
    count yet: ingestion checks its labels against the inferred list)."""
    task = spec.tasks[0]
    if task.infer_classes:
        return
    outside = labels[(labels < 0) | (labels >= task.num_classes)]
    if outside.size:
        raise SourceError(f"dataset {spec.name!r}: label {int(outside[0])} in {where} is outside the task's "
                          f"{task.num_classes} classes")
