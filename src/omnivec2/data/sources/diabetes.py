"""Regression tables: scikit-learn's bundled diabetes data, and a user's table with a standardised target.

* `sklearn_diabetes`: 442 patients, 10 baseline measurements (age, sex, BMI, mean blood pressure,
  six blood serum measurements s1-s6; the raw, unscaled values of Efron et al. 2004), target:
  disease progression one year later (25..346). Split 70/10/20 from the seed, stratified by target
  quintile so that every split spans the whole range.
* `regression_table`: the `table` source (CSV/Parquet, local or `s3://`, same keys) for a numeric
  target, then the target standardised as below.

The target column holds the standardised value (y - mean_train) / std_train (`standardise_target`,
default true); the raw value is kept in `<target>_raw`, and the statistics are in every row's
`<target>_mean` / `<target>_std` columns so that predictions can be mapped back
(raw = value * std + mean). Why: the regression head starts near 0 and is trained with MSE next to
cross-entropy losses of order 1; a raw target of order 150 would dominate stage 3's losses.
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


def standardise_target(table: pd.DataFrame, target: str) -> pd.DataFrame:
    """Replace `target` by its standardised value with train-split statistics; add `_raw`, `_mean`, `_std`."""
    raw = table[target].to_numpy(dtype=np.float64)
    train = raw[(table["split"] == "train").to_numpy()]
    if len(train) < 2:
        return table  # nothing to learn statistics from; validation reports the missing split
    mean, std = float(train.mean()), float(max(train.std(), 1e-12))
    return table.assign(**{target: (raw - mean) / std, f"{target}_raw": raw, f"{target}_mean": mean, f"{target}_std": std})


def load_diabetes_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Rows float32 `[10]`; `sample_id` is `diabetes-<index in the scikit-learn dataset>`."""
    from sklearn.datasets import load_diabetes

    from omnivec2.data.sample_table import build_sample_table
    from omnivec2.data.sources.common import stratified_splits, target_name

    data = load_diabetes(scaled=False)
    rows = data.data.astype(np.float32)  # [442, 10]
    target = data.target.astype(np.float64)  # [442]
    ids = [f"diabetes-{i:05d}" for i in range(len(target))]
    splits = stratified_splits(quantile_strata(target), seed, val=source.get("val_fraction", 0.1),
                               test=source.get("test_fraction", 0.2))
    table = build_sample_table(ids, splits, list(rows), {target_name(spec): target})
    return standardise_target(table, target_name(spec)) if source.get("standardise_target", True) else table


def load_regression_table_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """The `table` source with a numeric target, standardised with train statistics (unless turned off)."""
    from omnivec2.data.sources.common import target_name
    from omnivec2.data.sources.table import load_table_source

    table = load_table_source(spec, source, seed)
    return standardise_target(table, target_name(spec)) if source.get("standardise_target", True) else table
