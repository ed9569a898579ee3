"""Ingestion sources: `load_source(spec, source, seed)` -> a sample table, dispatching on `source["kind"]`.

| kind             | reads                                                   |
|------------------|---------------------------------------------------------|
| `sklearn_digits` | scikit-learn's bundled 8x8 digits (image)               |
| `sklearn_wine`   | scikit-learn's bundled wine table (tabular)             |
| `ts_file`        | UCR/UEA `.ts` files: bundled sktime dataset or paths    |
| `table`          | a user's CSV/Parquet table, local or `s3://`            |
| `npy`            | a user's `.npz` of arrays, local or `s3://`             |
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from omnivec2.data.sources.common import SourceError
from omnivec2.data.sources.digits import load_digits_source
from omnivec2.data.sources.npy import load_npy_source
from omnivec2.data.sources.table import load_table_source
from omnivec2.data.sources.ts_file import load_ts_source, parse_ts
from omnivec2.data.sources.wine import load_wine_source
from omnivec2.modalities.spec import ModalitySpec

SourceLoader = Callable[[ModalitySpec, dict, int], pd.DataFrame]

SOURCES: dict[str, SourceLoader] = {
    "sklearn_digits": load_digits_source,
    "sklearn_wine": load_wine_source,
    "ts_file": load_ts_source,
    "table": load_table_source,
    "npy": load_npy_source,
}


def register_source(kind: str, loader: SourceLoader) -> SourceLoader:
    """Add a source kind (a modality module registers its generator or reader here)."""
    if kind in SOURCES and SOURCES[kind] is not loader:
        raise ValueError(f"source kind {kind!r} is already registered")
    SOURCES[kind] = loader
    return loader


def load_source(spec: ModalitySpec, source: dict, seed: int) -> pd.DataFrame:
    """Read one modality's source into a sample table (see `omnivec2.data.sample_table`)."""
    kind = source.get("kind")
    if kind not in SOURCES:
        from omnivec2.modalities import REGISTRY

        len(REGISTRY)  # imports the modality modules, which register their own source kinds
    if kind not in SOURCES:
        raise SourceError(f"modality {spec.name!r}: unknown source kind {kind!r}; known: {sorted(SOURCES)}")
    return SOURCES[kind](spec, source, seed)


__all__ = ["SOURCES", "SourceError", "load_source", "parse_ts", "register_source"]
