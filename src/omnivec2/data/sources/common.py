"""Helpers shared by the sources: errors, reading local or `s3://` files, deterministic splits, labels."""

from __future__ import annotations

import io
import os
from typing import Sequence

import numpy as np
from sklearn.model_selection import train_test_split

from omnivec2.data.sources.class_names import record_class_names
from omnivec2.data.sources.listing import check_inside
from omnivec2.datasets.spec import DatasetSpec


class SourceError(ValueError):
    """A source cannot be read or does not make sense; the message names the modality and the path."""


def read_bytes(spec: DatasetSpec, path: str, source: dict) -> bytes:
    """The whole file at a local path or fsspec URI (`s3://bucket/key`), with `source["storage_options"]`;
    SourceError past the source's `max_file_bytes` or, over the whole reading, `max_dataset_bytes`
    (`omnivec2.data.sources.limits`)."""
    import fsspec  # fsspec picks s3fs for s3:// URIs

    from omnivec2.data.sources.limits import count_bytes, limit

    try:
        with fsspec.open(str(path), "rb", **storage_options(path, source)) as handle:
            data = handle.read(limit("max_file_bytes") + 1)  # never more than the limit in memory
    except Exception as error:  # FileNotFoundError, PermissionError, botocore errors, bad URI schemes
        raise SourceError(
            f"dataset {spec.name!r}: cannot read {path!r} ({type(error).__name__}: {error})"
        ) from error
    count_bytes(spec.name, repr(str(path)), len(data))  # the source's max_file_bytes / max_dataset_bytes
    return data


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


def open_buffer(spec: DatasetSpec, path: str, source: dict) -> io.BytesIO:
    return io.BytesIO(read_bytes(spec, path, source))


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


def _split(index: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    stratify = labels if _stratifiable(labels) else None
    try:
        return train_test_split(index, test_size=fraction, stratify=stratify, random_state=seed)
    except ValueError:  # a class with fewer members than the split needs
        return train_test_split(index, test_size=fraction, stratify=None, random_state=seed)


def _stratifiable(labels: np.ndarray) -> bool:
    return labels.dtype.kind in "iubOU" and len(np.unique(labels)) < len(labels)


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


def target_name(spec: DatasetSpec) -> str:
    """The target column of single-task sources: the modality's first task."""
    return spec.tasks[0].name


def is_classification(spec: DatasetSpec) -> bool:
    return spec.tasks[0].kind in ("classification", "dense")


# ----- safety at the boundaries: paths named inside users' files, and sizes of what gets decoded -----
# The defaults are far above any payload the modalities keep (at most a few MB). An archive's limit is
# a source parameter (`max_archive_bytes`); the image and audio limits are these module constants.
MAX_IMAGE_PIXELS = 50_000_000  # PIL's own bomb check warns at 89 MP and refuses only at 179 MP
MAX_AUDIO_SECONDS = 3600.0
MAX_ARCHIVE_BYTES = 4 << 30  # decompressed size of all arrays of one .npz


def contained_path(spec: DatasetSpec, root: str, name: str, where: str, allow_outside: bool = False) -> str:
    """`<root>/<name>` for a file that a user's index/label CSV names, refusing names that would leave
    `root`: `..` segments that climb out, absolute paths and URIs (unless `allow_outside`), and files
    that resolve outside it through a symbolic link (`listing.check_inside`, the check folder listings use)."""
    import posixpath

    text = str(name).strip()
    outside = text.startswith(("/", "\\")) or "://" in text or (len(text) > 1 and text[1] == ":")
    if outside:
        if allow_outside:
            return text
        raise SourceError(f"dataset {spec.name!r}: {where} names {text!r}, an absolute path or URI outside "
                          f"{root!r}; list files relative to it")
    normal = posixpath.normpath(text.replace("\\", "/"))
    if normal in (".", "") or normal == ".." or normal.startswith("../"):
        raise SourceError(f"dataset {spec.name!r}: {where} names {text!r}, which is outside {root!r}; "
                          "paths in it must stay inside the dataset folder")
    path = f"{str(root).rstrip('/')}/{normal}"
    check_inside(spec, str(root), path, where)  # a symbolic link out of the folder, too
    return path


def check_image_pixels(name: str, width: int, height: int, limit: int | None = None) -> None:
    """Refuse an image whose header declares more than `limit` pixels (a decompression bomb: a few KB
    of PNG can declare gigapixels), before any pixel is decoded. ValueError naming the file."""
    limit = MAX_IMAGE_PIXELS if limit is None else int(limit)
    if int(width) * int(height) > limit:
        raise ValueError(f"{name}: image of {width}x{height} pixels is over the limit of {limit} pixels "
                         "(a decompression bomb?); raise omnivec2.data.sources.common.MAX_IMAGE_PIXELS if it is genuine")


def open_image_checked(data: bytes, name: str, limit: int | None = None):
    """PIL image from bytes, its declared size checked against `limit` before decoding; use with `with`.
    PIL's own DecompressionBombError/Warning are turned into the same ValueError."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ValueError(f"{name}: refused as a decompression bomb ({error})") from None
    try:
        check_image_pixels(name, *image.size, limit)
    except ValueError:
        image.close()
        raise
    return image


def check_audio_length(name: str, frames: int, rate: int, channels: int, limit_seconds: float | None = None) -> None:
    """Refuse audio whose header declares more than `limit_seconds` (ValueError naming the file)."""
    limit = MAX_AUDIO_SECONDS if limit_seconds is None else float(limit_seconds)
    if rate > 0 and frames / rate > limit:
        raise ValueError(f"{name}: {frames / rate:.0f} s of audio ({channels} channel(s) at {rate} Hz) is over "
                         f"the limit of {limit:.0f} s; raise omnivec2.data.sources.common.MAX_AUDIO_SECONDS if it is genuine")


def check_npz_archive(spec: DatasetSpec, data: bytes, where: str, limit: int | None = None) -> None:
    """Before `np.load`: refuse an .npz whose arrays would decompress to more than `limit` bytes in all
    (zip bomb), judged from each member's declared size and its .npy header's shape and dtype."""
    import zipfile

    limit = MAX_ARCHIVE_BYTES if limit is None else int(limit)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return  # not a zip (a plain .npy or a damaged file): np.load reports it
    total = 0
    with archive:
        for info in archive.infolist():
            declared = info.file_size
            if info.filename.endswith(".npy"):
                try:
                    with archive.open(info) as member:
                        major, _ = np.lib.format.read_magic(member)
                        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                                       else np.lib.format.read_array_header_2_0)
                        shape, _, dtype = read_header(member, max_header_size=1 << 16)
                    declared = max(declared, int(np.prod(shape, dtype=np.float64)) * dtype.itemsize)
                except (ValueError, OSError, zipfile.BadZipFile, EOFError):
                    pass  # np.load reports an unreadable member
            total += declared
            if total > limit:
                raise SourceError(f"dataset {spec.name!r}: {where} would decompress to over {limit} bytes "
                                  f"(member {info.filename!r}); refused (raise the source's max_archive_bytes)")
