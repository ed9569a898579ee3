"""`check_table`: the token cache's own refusal of a table that would fail validation (defence in depth:
cheap, plain pandas), raising `UnvalidatedTableError` naming the problem and up to five sample ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import SPLITS, dense_columns, parse_shape
from omnivec2.datasets.spec import DatasetSpec
from omnivec2.validation.checks import required_columns, shape_regex
from omnivec2.validation.decode import degenerate_rows, misplaced_nan_rows, source_problem_rows, undecodable_dense_rows


class UnvalidatedTableError(ValueError):
    """The table would not pass validation; the cache refuses to tokenize it."""


def _element_count(shape: object) -> int:
    try:
        return int(np.prod(parse_shape(shape)))
    except (TypeError, ValueError):
        return -1


def nan_problems(table: pd.DataFrame, spec: DatasetSpec) -> pd.Series:
    """Rows `[B]` bool: a payload with NaN where the payload spec allows none (outside `nan_positions`)."""
    if not spec.payload.nan_positions:
        return table["nan_count"] != 0
    misplaced = misplaced_nan_rows(table, spec)
    return pd.Series([i in misplaced for i in range(len(table))], index=table.index)


def check_table(table: pd.DataFrame, spec: DatasetSpec) -> None:
    """Refuse a table that would fail validation (defence in depth; cheap, plain pandas).

    Raises UnvalidatedTableError naming the problem and up to five sample ids.
    """
    missing = [c for c in required_columns(spec) if c not in table.columns]
    if missing:
        raise UnvalidatedTableError(f"dataset {spec.name!r}: table lacks column(s) {missing}; validate it first")
    dtype = np.dtype(spec.payload.dtype).name
    payload_length = table["payload"].map(lambda b: len(b) if isinstance(b, (bytes, bytearray)) else -1)
    expected_length = table["shape"].map(_element_count)
    problems = {
        "NaN values where no value may be missing": nan_problems(table, spec),
        "infinite values": table["inf_count"] != 0,
        f"dtype other than {dtype}": table["dtype"] != dtype,
        f"shape not matching {spec.payload.shape}": ~table["shape"].astype(str).str.fullmatch(shape_regex(spec.payload.shape)),
        "a payload that does not decode": payload_length != expected_length * np.dtype(spec.payload.dtype).itemsize,
        "a missing sample_id": table["sample_id"].isna(),
        "a duplicated sample_id": table["sample_id"].duplicated(keep=False),
        f"a split outside {list(SPLITS)}": ~table["split"].isin(SPLITS),
        **{f"a missing {t.name} target": table[t.name].isna() for t in spec.tasks},
    }
    low, high = spec.payload.value_range
    if low is not None:
        problems[f"values below {low}"] = table["min"] < low
    if high is not None:
        problems[f"values above {high}"] = table["max"] > high
    problems[f"a payload over {spec.payload.max_bytes} bytes"] = table["nbytes"] > spec.payload.max_bytes
    rows = pd.Series(range(len(table)), index=table.index)
    if "source_problem" in table.columns:  # a row standing for a file the reader skipped
        problems["a file the reader did not read"] = rows.isin(list(source_problem_rows(table)))
    if callable(getattr(spec.tokenizer, "degenerate", None)):
        problems["a sample its tokenizer cannot describe (degenerate)"] = rows.isin(list(degenerate_rows(table, spec)))
    for task in (t for t in spec.tasks if t.kind == "regression"):
        values = pd.to_numeric(table[task.name], errors="coerce")
        problems[f"a {task.name} target that is not a finite number"] = ~np.isfinite(values)
    for task in (t for t in spec.tasks if t.kind == "classification"):
        problems[f"a {task.name} label outside 0..{task.num_classes - 1}"] = ~table[task.name].isin(range(task.num_classes))
    for task in (t for t in spec.tasks if t.kind == "dense"):
        undecodable = undecodable_dense_rows(table, spec, task.name)
        problems[f"a {task.name} label map that does not decode"] = pd.Series(
            [i in undecodable for i in range(len(table))], index=table.index)
        max_column = dense_columns(task.name)[1]
        problems[f"a {task.name} label outside 0..{task.num_classes - 1}"] = ~table[max_column].between(0, task.num_classes - 1)
    for what, mask in problems.items():
        mask = mask.fillna(True).to_numpy(dtype=bool)
        if mask.any():
            positions = np.flatnonzero(mask)[:5]  # a missing id is named by its row, as validation names it
            ids = [f"<row {p}>" if pd.isna(i) else str(i) for p, i in zip(positions, table["sample_id"].iloc[positions])]
            raise UnvalidatedTableError(
                f"dataset {spec.name!r}: refusing to tokenize {int(mask.sum())} sample(s) with {what} "
                f"(e.g. {', '.join(ids)}); validate the table first"
            )
    if not (table["split"] == "train").any():
        raise UnvalidatedTableError(f"dataset {spec.name!r}: refusing to tokenize a table without train samples")
