"""`sklearn_wine`: scikit-learn's bundled UCI wine table (178 rows, 13 measurements, 3 cultivars)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import stratified_splits, target_name
from omnivec2.datasets.spec import DatasetSpec


def load_wine_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Rows float32 `[13]`; `sample_id` is `wine-<index in the scikit-learn dataset>`."""
    from sklearn.datasets import load_wine

    data = load_wine()
    rows = data.data.astype(np.float32)  # [178, 13]
    labels = data.target.astype(np.int64)
    ids = [f"wine-{i:05d}" for i in range(len(labels))]
    splits = stratified_splits(labels, seed, val=source.get("val_fraction", 0.1), test=source.get("test_fraction", 0.2))
    return build_sample_table(ids, splits, list(rows), {target_name(spec): labels})
