"""Ingestion nodes: read a modality's source, then validate it (failing data stops the run)."""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources import load_source
from omnivec2.data.sources.common import check_source_modalities
from omnivec2.modalities import get_modality
from omnivec2.validation import validate_sample_table
from pipelines.modalities import modality_names


def ingest(modality: str, sources: dict, seed: int) -> pd.DataFrame:
    """The configured source of `modality` (ingestion.sources.<modality>), else its default source."""
    spec = get_modality(modality)
    check_source_modalities(sources, modality_names())
    return load_source(spec, (sources or {}).get(modality) or spec.default_source, seed)


def validate(modality: str, samples: pd.DataFrame, mode: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """-> (valid samples, quarantined samples with their reasons, the validation report).
    In "fail" mode a failure raises ValidationFailed; a hook saves its report before the run stops."""
    outcome = validate_sample_table(samples, get_modality(modality), mode=mode)
    return outcome.valid, outcome.quarantined, outcome.report
