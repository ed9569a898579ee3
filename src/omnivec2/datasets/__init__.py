"""Datasets as configuration: entries of the `datasets:` block resolved into `DatasetSpec`s."""

from omnivec2.datasets.classes import NewClassesError, infer_class_lists, with_class_lists
from omnivec2.datasets.config import resolve_dataset, resolve_datasets
from omnivec2.datasets.spec import DatasetSpec, TaskSpec

__all__ = ["DatasetSpec", "NewClassesError", "TaskSpec", "infer_class_lists", "resolve_dataset", "resolve_datasets",
           "with_class_lists"]
