"""Datasets as configuration: entries of the `datasets:` block resolved into `DatasetSpec`s."""

from omnivec2.datasets.config import resolve_dataset, resolve_datasets
from omnivec2.datasets.spec import DatasetSpec, TaskSpec

__all__ = ["DatasetSpec", "TaskSpec", "resolve_dataset", "resolve_datasets"]
