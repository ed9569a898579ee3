"""Ingestion nodes: read a dataset's source, then validate it (failing data stops the run).

A task that leaves its classes out of the configuration gets them from the labels read here; the
list is written as `<dataset>_classes` and read back by the next ingestion as
`<dataset>_classes_before`, so it stays fixed while the data changes (`omnivec2.datasets.classes`).
"""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources import read_source
from omnivec2.datasets import infer_class_lists, resolve_dataset, with_class_lists
from omnivec2.validation import validate_sample_table


def ingest(dataset: str, entry: dict, seed: int, classes_before: dict) -> tuple[pd.DataFrame, dict]:
    """The dataset's configured source (`datasets.<dataset>.source`) -> (its sample table, the class
    lists of its tasks that infer them: {task: names in index order}, {} when none does)."""
    spec = resolve_dataset(dataset, entry)
    table, names = read_source(spec, spec.source, seed)
    return infer_class_lists(spec, table, names, classes_before or {})


def validate(dataset: str, entry: dict, samples: pd.DataFrame, classes: dict,
             mode: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """-> (valid samples, quarantined samples with their reasons, the validation report, which names
    every task's classes). In "fail" mode a failure raises ValidationFailed; a hook saves its report
    before the run stops."""
    spec = with_class_lists(resolve_dataset(dataset, entry), classes)
    outcome = validate_sample_table(samples, spec, mode=mode)
    return outcome.valid, outcome.quarantined, outcome.report
