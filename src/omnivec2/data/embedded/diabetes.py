"""`sklearn_diabetes`: scikit-learn's bundled diabetes data, a regression table of the default suite.

* 442 patients, 10 baseline measurements (age, sex, BMI, mean blood pressure,
  six blood serum measurements s1-s6; the raw, unscaled values of Efron et al. 2004), target:
  disease progression one year later (25..346). Split 70/10/20 from the seed, stratified by target
  quintile so that every split spans the whole range.

The target is standardised with train statistics as `regression_table` does (see
`omnivec2.data.sources.regression_table.standardise_target`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from omnivec2.datasets.spec import DatasetSpec

QUANTILE_BINS = 5


def quantile_strata(values: np.ndarray, bins: int = QUANTILE_BINS) -> np.ndarray:
    """Continuous values `[B]` -> their quantile bin `[B]` int64 (0..bins-1), for stratified splits."""
    edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.digitize(values, edges).astype(np.int64)


def load_diabetes_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Rows float32 `[10]`; `sample_id` is `diabetes-<index in the scikit-learn dataset>`."""
    from sklearn.datasets import load_diabetes

    from omnivec2.data.sample_table import build_sample_table
    from omnivec2.data.sources.common import stratified_splits, target_name
    from omnivec2.data.sources.regression_table import standardise_target

    data = load_diabetes(scaled=False)
    rows = data.data.astype(np.float32)  # [442, 10]
    target = data.target.astype(np.float64)  # [442]
    ids = [f"diabetes-{i:05d}" for i in range(len(target))]
    splits = stratified_splits(quantile_strata(target), seed, val=source.get("val_fraction", 0.1),
                               test=source.get("test_fraction", 0.2))
    table = build_sample_table(ids, splits, list(rows), {target_name(spec): target})
    return standardise_target(table, target_name(spec)) if source.get("standardise_target", True) else table
