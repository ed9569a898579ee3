"""`table`: a user's CSV or Parquet table (local path or `s3://`), one sample per row.

Source keys: `path`, `target_column`, optional `feature_columns`, `categorical_columns`,
`allow_missing` (see `omnivec2.data.sources.table_encoding` for the payload's columns and how
categories and missing cells are encoded), `id_column`, `split_column`, `classes`, `format`
("csv" or "parquet"; default from the file name), `storage_options`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import (
    SourceError,
    class_indices,
    is_classification,
    open_buffer,
    stratified_splits,
    target_name,
)
from omnivec2.data.sources.table_encoding import encode_rows, feature_columns
from omnivec2.datasets.spec import DatasetSpec


def read_table(spec: DatasetSpec, source: dict) -> pd.DataFrame:
    """The raw user table as pandas, CSV or Parquet."""
    path = str(source["path"])
    kind = source.get("format") or ("parquet" if path.lower().endswith((".parquet", ".pq")) else "csv")
    buffer = open_buffer(spec, path, source)
    try:
        return pd.read_parquet(buffer) if kind == "parquet" else pd.read_csv(buffer)
    except Exception as error:
        raise SourceError(f"dataset {spec.name!r}: cannot parse {path!r} as {kind} ({error})") from error


def load_table_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Each row -> payload float32 `[n_features]`, in `feature_columns` order; categorical cells hold
    codes from the train split's vocabulary, missing numeric cells NaN."""
    if "path" not in source or "target_column" not in source:
        raise SourceError(f"dataset {spec.name!r}: a table source needs 'path' and 'target_column'")
    frame = read_table(spec, source)
    path, target = source["path"], source["target_column"]
    id_column, split_column = source.get("id_column"), source.get("split_column")
    features = feature_columns(frame, source)
    missing = [c for c in [target, id_column, split_column, *features] if c is not None and c not in frame.columns]
    if missing:
        raise SourceError(f"dataset {spec.name!r}: {path!r} has no column(s) {missing}; it has {list(frame.columns)}")

    if is_classification(spec):
        targets = class_indices(spec, frame[target].to_numpy(), source.get("classes"), str(path))
    else:
        targets = frame[target].to_numpy(dtype=np.float64)
    ids = frame[id_column].astype(str).tolist() if id_column else [f"{spec.name}-{i:05d}" for i in range(len(frame))]
    splits = frame[split_column].astype(str).tolist() if split_column else stratified_splits(targets, seed)
    train = np.asarray(splits) == "train"
    try:
        rows = encode_rows(frame, features, list(source.get("categorical_columns") or []), train, str(path))
    except ValueError as error:
        raise SourceError(f"dataset {spec.name!r}: {error}") from None
    return build_sample_table(ids, splits, list(rows), {target_name(spec): targets})
