"""`regression_table`: the `table` source (CSV/Parquet, local or `s3://`, same keys) for a numeric
target, then the target standardised with train-split statistics.

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


def standardise_target(table: pd.DataFrame, target: str) -> pd.DataFrame:
    """Replace `target` by its standardised value with train-split statistics; add `_raw`, `_mean`, `_std`."""
    raw = table[target].to_numpy(dtype=np.float64)
    train = raw[(table["split"] == "train").to_numpy()]
    if len(train) < 2:
        return table  # nothing to learn statistics from; validation reports the missing split
    mean, std = float(train.mean()), float(max(train.std(), 1e-12))
    return table.assign(**{target: (raw - mean) / std, f"{target}_raw": raw, f"{target}_mean": mean, f"{target}_std": std})


def load_regression_table_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """The `table` source with a numeric target, standardised with train statistics (unless turned off)."""
    from omnivec2.data.sources.common import target_name
    from omnivec2.data.sources.table import load_table_source

    table = load_table_source(spec, source, seed)
    return standardise_target(table, target_name(spec)) if source.get("standardise_target", True) else table
