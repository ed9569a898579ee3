"""A user's table cells -> the tabular payload `[columns]` float32, and its layout, known from the options.

Source options (the `table` and `regression_table` kinds):

* `categorical_columns`: the columns holding categories (strings, or numbers that name a category).
  Each is encoded with a vocabulary built on the train split: `MISSING_CODE` for a missing cell,
  `UNKNOWN_CODE` for a category the train split lacks, then the train categories in sorted order
  from `RESERVED_CODES`. The vocabularies are recorded while the source is read
  (`omnivec2.data.sources.category_names`), so that the model knows the names behind the codes.
* `allow_missing` (default false): numeric cells may be missing (NaN in the payload; the tokenizer
  turns them into a 0 value with a missing flag). Without it a missing numeric cell fails validation.

Payload order: `feature_columns` when given (it must list the categorical columns), else every
numeric column except the id, split and target columns, in file order, then the categorical
columns in their declared order. So the positions of the categorical columns follow from the options
and the dataset's `columns` alone (`layout`), before any file is read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sources.category_names import record_categories
from omnivec2.tokens.columns import MISSING_CODE, RESERVED_CODES, UNKNOWN_CODE


COLUMN_KEYS = ("target_column", "id_column", "split_column")  # a column each; feature and categorical: lists


def with_column_names(source: dict) -> dict:
    """The source with columns given as integers (YAML `target_column: 13`) named as text, as a CSV's
    header and a headerless file's positions name them."""
    def name(column):
        return str(column) if isinstance(column, int) and not isinstance(column, bool) else column

    named = {key: name(source[key]) for key in COLUMN_KEYS if source.get(key) is not None}
    for key in ("feature_columns", "categorical_columns"):
        if isinstance(source.get(key), list):  # anything else is refused by its own check
            named[key] = [name(column) for column in source[key]]
    return {**source, **named}


def layout(source: dict, columns: int, where: str) -> tuple[tuple[int, ...], bool]:
    """(payload positions of the categorical columns, whether numeric cells may be missing);
    ValueError naming `where` for options that do not fit together."""
    source = with_column_names(source)
    categorical = source.get("categorical_columns") or []
    if not isinstance(categorical, list) or not all(isinstance(c, str) for c in categorical):
        raise ValueError(f"{where}: categorical_columns must be a list of column names, got {categorical!r}")
    if len(set(categorical)) != len(categorical):
        raise ValueError(f"{where}: categorical_columns names a column twice: {categorical}")
    missing = source.get("allow_missing", False)
    if not isinstance(missing, bool):
        raise ValueError(f"{where}: allow_missing must be true or false, got {missing!r}")
    explicit = source.get("feature_columns")
    if explicit:
        absent = [c for c in categorical if c not in explicit]
        if absent:
            raise ValueError(f"{where}: categorical_columns {absent} are not among the feature_columns {explicit}")
        positions = tuple(explicit.index(c) for c in categorical)
    else:
        positions = tuple(range(columns - len(categorical), columns))
    if any(not 0 <= p < columns for p in positions):
        raise ValueError(f"{where}: {len(categorical)} categorical column(s) at positions {list(positions)} do not fit "
                         f"in the table's {columns} columns (shape: columns)")
    return positions, missing


def table_parts(parts, source: dict, where: str):
    """The tabular parts for this source's layout (the `SourceKind.adapt` of the table readers)."""
    from omnivec2.modalities.tabular import with_layout

    positions, missing = layout(source, int(parts.payload.shape[0]), where)
    return with_layout(parts, positions, missing)


def feature_columns(frame: pd.DataFrame, source: dict) -> list[str]:
    """The payload's columns, in order (see the module docstring)."""
    if source.get("feature_columns"):
        return list(source["feature_columns"])
    categorical = list(source.get("categorical_columns") or [])
    reserved = {source.get("target_column"), source.get("id_column"), source.get("split_column"), *categorical}
    numeric = [c for c in frame.columns if c not in reserved and pd.api.types.is_numeric_dtype(frame[c])]
    return numeric + categorical


def numeric_values(column: pd.Series, where: str) -> np.ndarray:
    """A numeric column -> `[B]` float64, missing cells NaN; ValueError naming the first cell that is
    text but not a number."""
    values = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero((values.isna() & column.notna()).to_numpy())
    if bad.size:
        raise ValueError(f"{where}: column {column.name!r}, row {bad[0] + 1}: {column.iloc[bad[0]]!r} is not a number "
                         "(list the column in categorical_columns if it holds categories)")
    return values.to_numpy(dtype=np.float64)


def category_codes(column: pd.Series, train: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A categorical column `[B]` and the train rows `[B]` bool -> (codes `[B]` float64, the
    vocabulary): the i-th of the train split's categories (sorted) is `RESERVED_CODES + i`."""
    names = [None if pd.isna(value) else str(value) for value in column]
    vocabulary = sorted({name for name, in_train in zip(names, train) if in_train and name is not None})
    index = {name: RESERVED_CODES + i for i, name in enumerate(vocabulary)}
    codes = [MISSING_CODE if name is None else index.get(name, UNKNOWN_CODE) for name in names]
    return np.asarray(codes, dtype=np.float64), vocabulary


def encode_rows(frame: pd.DataFrame, features: list[str], categorical: list[str], train: np.ndarray,
                where: str) -> np.ndarray:
    """The feature cells -> payload rows `[B, len(features)]` float32 (codes in categorical columns);
    each categorical column's vocabulary is recorded (`category_names.record_categories`)."""
    columns = []
    for c in features:
        if c in categorical:
            codes, vocabulary = category_codes(frame[c], train)
            record_categories(c, vocabulary)
            columns.append(codes)
        else:
            columns.append(numeric_values(frame[c], where))
    return np.stack(columns, axis=1).astype(np.float32) if columns else np.zeros((len(frame), 0), np.float32)
