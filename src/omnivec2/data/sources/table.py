"""`table`: a user's CSV or Parquet table (local path or `s3://`), one sample per row.

Source keys: `path`, `target_column`, optional `feature_columns`, `categorical_columns`,
`allow_missing` (see `omnivec2.data.sources.table_encoding` for the payload's columns and how
categories and missing cells are encoded), `id_column`, `split_column`, `classes`, `format`
("csv" or "parquet"; default from the file name), `storage_options`, and for CSV files
`separator` (default ","), `decimal` (default ".": "," for "3,5"), `encoding` (default "utf-8",
any Python codec name such as "latin-1" or "cp1252") and `header` (default true; false for a file
whose first row is data, as the UCI repository's `.data` files: its columns are then named by their
position from 0, so `target_column: 0`). A column may be named by an integer (`target_column: 13`)
where its name is that number written out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import (
    SourceError,
    class_indices,
    is_classification,
    is_number,
    open_buffer,
    stratified_splits,
    target_name,
)
from omnivec2.data.sources.table_encoding import encode_rows, feature_columns, with_column_names
from omnivec2.datasets.spec import DatasetSpec


CSV_OPTIONS = {"separator": ("sep", ","), "decimal": ("decimal", "."), "encoding": ("encoding", "utf-8")}


def read_table(spec: DatasetSpec, source: dict) -> pd.DataFrame:
    """The raw user table as pandas, CSV (with the source's `CSV_OPTIONS` and `header`) or Parquet."""
    path = str(source["path"])
    kind = source.get("format") or ("parquet" if path.lower().endswith((".parquet", ".pq")) else "csv")
    given = {key: source[key] for key in (*CSV_OPTIONS, "header") if source.get(key) is not None}
    if kind == "parquet" and given:
        raise SourceError(f"dataset {spec.name!r}: {sorted(given)} are options of CSV files; {path!r} is read as Parquet")
    header = given.pop("header", True)
    if not isinstance(header, bool):
        raise SourceError(f"dataset {spec.name!r}: source option header must be true or false, got {header!r}")
    for key, value in given.items():
        if not isinstance(value, str) or not value or (key == "decimal" and len(value) != 1):
            raise SourceError(f"dataset {spec.name!r}: source option {key} must be a "
                              f"{'single character' if key == 'decimal' else 'non-empty string'}, got {value!r}")
    options = {pandas: source.get(key) or default for key, (pandas, default) in CSV_OPTIONS.items()}
    if options["sep"] == options["decimal"]:
        raise SourceError(f"dataset {spec.name!r}: separator and decimal are both {options['sep']!r}")
    buffer = open_buffer(spec, path, source)
    try:
        if kind == "parquet":
            return pd.read_parquet(buffer)
        frame = pd.read_csv(buffer, header=0 if header else None, **options)
        return frame if header else frame.rename(columns=str)
    except LookupError:
        raise SourceError(f"dataset {spec.name!r}: source option encoding: {options['encoding']!r} is not a known "
                          "text encoding (e.g. 'utf-8', 'latin-1', 'cp1252')") from None
    except UnicodeDecodeError as error:
        raise SourceError(f"dataset {spec.name!r}: {path!r} is not {options['encoding']} text (undecodable byte at "
                          f"offset {error.start}); set the source's encoding") from None
    except Exception as error:
        raise SourceError(f"dataset {spec.name!r}: cannot parse {path!r} as {kind} ({error})") from error


def load_table_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Each row -> payload float32 `[n_features]`, in `feature_columns` order; categorical cells hold
    codes from the train split's vocabulary, missing numeric cells NaN."""
    if "path" not in source or "target_column" not in source:
        raise SourceError(f"dataset {spec.name!r}: a table source needs 'path' and 'target_column'")
    frame = read_table(spec, source)
    source = with_column_names(source)
    path, target = source["path"], source["target_column"]
    id_column, split_column = source.get("id_column"), source.get("split_column")
    features = feature_columns(frame, source)
    missing = [c for c in [target, id_column, split_column, *features] if c is not None and c not in frame.columns]
    if missing:
        raise SourceError(f"dataset {spec.name!r}: {path!r} has no column(s) {missing}; it has {list(frame.columns)}"
                          f"{headerless_hint(frame, source)}")

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


def headerless_hint(frame: pd.DataFrame, source: dict) -> str:
    """A hint for an error about missing columns when most names read from the first row are numbers
    (a header of names rarely is; the first row of a file without one usually is)."""
    if source.get("header", True) is False or not len(frame.columns):
        return ""
    numbers = sum(is_number(column) for column in frame.columns)
    if numbers < len(frame.columns) / 2:
        return ""
    return ("; its first row reads as numbers, not column names: if the file has no header row, set the "
            "source's header: false (columns are then named 0, 1, ...)")
