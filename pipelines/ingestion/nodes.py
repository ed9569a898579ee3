"""Ingestion nodes: read a dataset's source, then validate it (failing data stops the run).

A task that leaves its classes out of the configuration gets them from the labels read here; the
list is written as `<dataset>_classes` and read back by the next ingestion as
`<dataset>_classes_before`, so it stays fixed while the data changes (`omnivec2.datasets.classes`).
A table's category names (the vocabulary of each categorical column) are written as
`<dataset>_categories` for tokenization, which gives them to the model's tokenizer statistics.
"""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources import read_source_vocabularies
from omnivec2.datasets import infer_class_lists, resolve_dataset, with_class_lists
from omnivec2.tracking import log_files_artifacts, log_json_artifact
from omnivec2.validation import ValidationFailed, validate_sample_table
from pipelines.hooks import keep_outputs


def ingest(dataset: str, entry: dict, seed: int, classes_before: dict) -> tuple[pd.DataFrame, dict, dict]:
    """The dataset's configured source (`datasets.<dataset>.source`) -> (its sample table, the class
    lists of its tasks that infer them: {task: names in index order}, {} when none does, and its
    category names: {categorical column: names in code order}, {} when it has none)."""
    spec = resolve_dataset(dataset, entry)
    table, names, categories = read_source_vocabularies(spec, spec.source, seed)
    table, classes = infer_class_lists(spec, table, names, classes_before or {})
    return table, classes, categories


def validate(dataset: str, entry: dict, samples: pd.DataFrame, classes: dict,
             mode: str) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict | None]:
    """-> (valid samples, quarantined samples with their reasons, the validation report, which names
    every task's classes, and GX's own result for the Data Docs). The report also goes to the MLflow
    run (`validation/<dataset>.json`). In "fail" mode a failure raises ValidationFailed, and its
    report and GX result are still saved (`keep_outputs`)."""
    spec = with_class_lists(resolve_dataset(dataset, entry), classes)
    try:
        outcome = validate_sample_table(samples, spec, mode=mode)
    except ValidationFailed as failure:
        log_json_artifact(failure.report, f"validation/{dataset}.json")
        raise keep_outputs(failure, {2: failure.report, 3: failure.gx_result})  # the third and fourth outputs
    log_json_artifact(outcome.report, f"validation/{dataset}.json")
    return outcome.valid, outcome.quarantined, outcome.report, outcome.gx_result


def build_data_docs(*gx_results: dict | None, datasets: list[str]) -> dict[str, bytes]:
    """Every dataset's GX result (in `datasets` order) -> the Great Expectations Data Docs site
    (files by relative path), also logged to the MLflow run under `data_docs/`."""
    from omnivec2.validation.data_docs import build_data_docs as build

    site = build(dict(zip(datasets, gx_results, strict=True)))
    log_files_artifacts(site, "data_docs")
    return site
