"""Helpers shared by the sources, gathered from the modules that hold them (errors, reading files,
splits, class indices, paths named in CSVs, size checks before decoding), and the target column."""

from __future__ import annotations

from omnivec2.data.sources.class_index import check_class_range, class_indices
from omnivec2.data.sources.decode_bounds import (MAX_ARCHIVE_BYTES, MAX_AUDIO_SECONDS, MAX_IMAGE_PIXELS,
                                                 check_audio_length, check_image_pixels, check_npz_archive,
                                                 open_image_checked)
from omnivec2.data.sources.errors import OutsideDatasetError, SourceError
from omnivec2.data.sources.files import S3_RETRIES, open_buffer, read_bytes, storage_options
from omnivec2.data.sources.named_paths import contained_path, is_absolute_name
from omnivec2.data.sources.splits import stratified_splits
from omnivec2.datasets.spec import DatasetSpec


def target_name(spec: DatasetSpec) -> str:
    """The target column of single-task sources: the modality's first task."""
    return spec.tasks[0].name


def is_classification(spec: DatasetSpec) -> bool:
    return spec.tasks[0].kind in ("classification", "dense")


def is_number(text) -> bool:
    """Whether `text` reads as a float (`"3"`, `"1e-3"`, `"NaN"`)."""
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


__all__ = ["MAX_ARCHIVE_BYTES", "MAX_AUDIO_SECONDS", "MAX_IMAGE_PIXELS", "OutsideDatasetError", "S3_RETRIES",
           "SourceError", "check_audio_length", "check_class_range", "check_image_pixels", "check_npz_archive",
           "class_indices", "contained_path", "is_absolute_name", "is_classification", "is_number", "open_buffer",
           "open_image_checked", "read_bytes", "storage_options", "stratified_splits", "target_name"]
