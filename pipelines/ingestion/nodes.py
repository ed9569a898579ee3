"""Ingestion nodes: read a dataset's source, then validate it (failing data stops the run)."""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources import load_source
from omnivec2.datasets import resolve_dataset
from omnivec2.validation import validate_sample_table


def ingest(dataset: str, entry: dict, seed: int) -> pd.DataFrame:
    """The dataset's configured source (`datasets.<dataset>.source`) -> its sample table."""
    spec = resolve_dataset(dataset, entry)
    return load_source(spec, spec.source, seed)


def validate(dataset: str, entry: dict, samples: pd.DataFrame, mode: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """-> (valid samples, quarantined samples with their reasons, the validation report).
    In "fail" mode a failure raises ValidationFailed; a hook saves its report before the run stops."""
    outcome = validate_sample_table(samples, resolve_dataset(dataset, entry), mode=mode)
    return outcome.valid, outcome.quarantined, outcome.report
