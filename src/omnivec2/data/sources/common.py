"""Helpers shared by the sources: errors, reading local or `s3://` files, deterministic splits, labels."""

from __future__ import annotations

import io
import os
from typing import Sequence

import numpy as np
from sklearn.model_selection import train_test_split

from omnivec2.modalities.spec import ModalitySpec


class SourceError(ValueError):
    """A source cannot be read or does not make sense; the message names the modality and the path."""


def read_bytes(spec: ModalitySpec, path: str, source: dict) -> bytes:
    """The whole file at a local path or fsspec URI (`s3://bucket/key`), with `source["storage_options"]`."""
    import fsspec  # fsspec picks s3fs for s3:// URIs

    try:
        with fsspec.open(str(path), "rb", **storage_options(path, source)) as handle:
            return handle.read()
    except Exception as error:  # FileNotFoundError, PermissionError, botocore errors, bad URI schemes
        raise SourceError(
            f"modality {spec.name!r}: cannot read {path!r} ({type(error).__name__}: {error})"
        ) from error


# Transient S3 errors (503 SlowDown, 500/502/504, throttling, dropped connections) are retried by botocore
# with exponential back-off and jitter ("standard" mode: sleep ~ U(0, 1) * 2**attempt s, at most 20 s);
# s3fs adds its own retries on SlowDown and timeouts. A source's `storage_options.config_kwargs.retries`
# overrides this default, and so do AWS_MAX_ATTEMPTS / AWS_RETRY_MODE (which set it for every boto client of a
# process: `omnivec2.orchestration.storage` exports them from conf `storage.s3`).
S3_RETRIES = {"max_attempts": 5, "mode": "standard"}


def storage_options(path: str, source: dict) -> dict:
    """`source["storage_options"]` for fsspec, with the default S3 retry policy for `s3://` paths."""
    options = dict(source.get("storage_options") or {})
    if str(path).startswith(("s3://", "s3a://")) and not os.environ.get("AWS_MAX_ATTEMPTS"):
        config = dict(options.get("config_kwargs") or {})
        config.setdefault("retries", dict(S3_RETRIES))
        options["config_kwargs"] = config
    return options


def open_buffer(spec: ModalitySpec, path: str, source: dict) -> io.BytesIO:
    return io.BytesIO(read_bytes(spec, path, source))


def stratified_splits(labels: Sequence, seed: int, val: float = 0.1, test: float = 0.2) -> np.ndarray:
    """Deterministic stratified train/val/test assignment: labels `[B]` -> split names `[B]` (object).

    Stratification falls back to a plain shuffle for regression targets or classes too small to split.
    """
    labels = np.asarray(labels)
    index = np.arange(len(labels))
    splits = np.full(len(labels), "train", dtype=object)
    rest, test_index = _split(index, labels, test, seed)
    splits[test_index] = "test"
    if val > 0:
        _, val_index = _split(rest, labels[rest], val / (1.0 - test), seed)
        splits[val_index] = "val"
    return splits


def _split(index: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    stratify = labels if _stratifiable(labels) else None
    try:
        return train_test_split(index, test_size=fraction, stratify=stratify, random_state=seed)
    except ValueError:  # a class with fewer members than the split needs
        return train_test_split(index, test_size=fraction, stratify=None, random_state=seed)


def _stratifiable(labels: np.ndarray) -> bool:
    return labels.dtype.kind in "iubOU" and len(np.unique(labels)) < len(labels)


def class_indices(spec: ModalitySpec, labels: Sequence, classes: Sequence | None, where: str) -> np.ndarray:
    """Raw labels `[B]` -> class indices `[B]` int64, through `classes` (exact, then case-insensitive match).

    Without `classes`, integer labels are kept as they are and anything else maps through the
    sorted unique labels.
    """
    labels = np.asarray(labels)
    if classes is None:
        if labels.dtype.kind in "iu":
            return labels.astype(np.int64)
        classes = sorted({str(label) for label in labels})
    exact = {str(name): i for i, name in enumerate(classes)}
    folded = {str(name).casefold(): i for i, name in enumerate(classes)}
    out = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        key = str(label)
        index = exact.get(key, folded.get(key.casefold()))
        if index is None:
            raise SourceError(
                f"modality {spec.name!r}: label {key!r} in {where} is not one of the classes {list(classes)}"
            )
        out[i] = index
    return out


def target_name(spec: ModalitySpec) -> str:
    """The target column of single-task sources: the modality's first task."""
    return spec.tasks[0].name


def is_classification(spec: ModalitySpec) -> bool:
    return spec.tasks[0].kind in ("classification", "dense")
