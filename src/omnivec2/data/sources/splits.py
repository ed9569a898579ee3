"""Deterministic stratified train/val/test splits for sources that do not give theirs."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.model_selection import train_test_split

from omnivec2.data.sources.errors import SourceError


def stratified_splits(labels: Sequence, seed: int, val: float = 0.1, test: float = 0.2,
                      dataset: str | None = None) -> np.ndarray:
    """Deterministic stratified train/val/test assignment: labels `[B]` -> split names `[B]` (object).

    Stratification falls back to a plain shuffle for regression targets or classes too small to split.
    Too few samples for a train, a test (and a val, when `val` > 0) part: SourceError naming the
    dataset (`dataset`, default: the one being read) and the counts.
    """
    from omnivec2.data.sources.limits import current_dataset

    labels = np.asarray(labels)
    index = np.arange(len(labels))
    splits = np.full(len(labels), "train", dtype=object)
    try:
        if len(labels) < 2 + (val > 0):
            raise ValueError("too few samples")
        rest, test_index = _split(index, labels, test, seed)
        splits[test_index] = "test"
        if val > 0:
            _, val_index = _split(rest, labels[rest], val / (1.0 - test), seed)
            splits[val_index] = "val"
    except ValueError as error:  # scikit-learn's: an empty train or test part
        parts = "train, val and test" if val > 0 else "train and test"
        raise SourceError(f"dataset {dataset or current_dataset() or '?'!r}: {len(labels)} sample(s) cannot be "
                          f"split into {parts} parts with val_fraction {val} and test_fraction {test} ({error}); "
                          "add samples or give the splits in the data") from None
    return splits


def val_from_train(splits: Sequence[str], labels: Sequence, seed: int, fraction: float) -> np.ndarray:
    """Splits given by the data with no val part (train and test files, test lists) -> the same with a
    stratified `fraction` of the train rows made val (`[B]` object; 0: unchanged)."""
    out = np.asarray(splits, dtype=object).copy()
    train = np.flatnonzero(out == "train")
    if fraction <= 0 or len(train) == 0:
        return out
    inner = stratified_splits(np.asarray(labels)[train], seed, val=0.0, test=fraction)  # its test part becomes val
    out[train] = np.where(inner == "test", "val", "train")
    return out


def _split(index: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    stratify = labels if _stratifiable(labels) else None
    try:
        return train_test_split(index, test_size=fraction, stratify=stratify, random_state=seed)
    except ValueError:  # a class with fewer members than the split needs
        return train_test_split(index, test_size=fraction, stratify=None, random_state=seed)


def _stratifiable(labels: np.ndarray) -> bool:
    return labels.dtype.kind in "iubOU" and len(np.unique(labels)) < len(labels)
