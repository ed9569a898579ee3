"""The bad-input corpus: one table of the ways a sample (or a sample table) can be bad.

Each `BadInput` corrupts one good row of any dataset's sample table, reading what it needs from the
dataset's `DatasetSpec` (payload shape, dtype and value range; tasks), and says what validation must
report; where it cannot apply to a dataset, `not_applicable(spec)` gives the reason (a uint8 payload
cannot hold a value above 255, a dataset without a dense task has no label map to break...).
`test_bad_inputs.py` (beside this module) applies every kind to every dataset of the default suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import decode_label_map, decode_payload, encode_label_map, label_map_summary, summarise
from omnivec2.datasets import DatasetSpec, TaskSpec
from omnivec2.validation.checks import DENSE_DECODES, NAN_PLACED, NOT_DEGENERATE, PAYLOAD_DECODES, SOURCE_READ

BETWEEN, IN_SET = "expect_column_values_to_be_between", "expect_column_values_to_be_in_set"
NOT_NULL, UNIQUE = "expect_column_values_to_not_be_null", "expect_column_values_to_be_unique"
REGEX, COLUMNS = "expect_column_values_to_match_regex", "expect_table_columns_to_match_set"


@dataclass(frozen=True)
class Corruption:
    """A corrupted table and what validation must say about it.

    `column` None marks a table-level failure (nothing can be quarantined); `named` is what the
    failure line must contain (the bad sample's id, `<row N>` for a missing id, or `['<column>']`
    for a missing column); `bad_rows` are the row positions quarantine must set aside, and only those."""

    table: pd.DataFrame
    expectation: str
    column: str | None
    named: str
    bad_rows: tuple[int, ...]


@dataclass(frozen=True)
class BadInput:
    name: str
    corrupt: Callable[[pd.DataFrame, DatasetSpec, int], Corruption]  # (good table, spec, row) -> corruption
    not_applicable: Callable[[DatasetSpec], str | None] = lambda spec: None  # why it cannot apply, or None


# ----- editing one row -------------------------------------------------------------------------------
def with_value(table: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    """A copy of `table` whose cell (`row`, `column`) holds `value`."""
    table = table.copy()
    table[column] = table[column].astype(object)
    table.at[row, column] = value
    return table


def with_payload(table: pd.DataFrame, row: int, array: np.ndarray) -> pd.DataFrame:
    """A copy of `table` whose row `row` holds `array`, with honest summaries (the summaries, not
    the bytes, are what GX checks)."""
    table = table.copy()
    for column, value in {"payload": np.ascontiguousarray(array).tobytes(), **summarise(array)}.items():
        table[column] = table[column].astype(object)
        table.at[row, column] = value
    return table


def sample_id(table: pd.DataFrame, row: int) -> str:
    return str(table.at[row, "sample_id"])


def payload_case(expectation: str, column: str, make: Callable[[np.ndarray, DatasetSpec], np.ndarray]):
    """A kind that replaces row `row`'s payload by `make(good payload, spec)`."""
    def corrupt(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
        bad = make(np.array(decode_payload(table.iloc[row])), spec)
        return Corruption(with_payload(table, row, bad), expectation, column, sample_id(table, row), (row,))
    return corrupt


def value_case(expectation: str, column: Callable[[DatasetSpec], str], value: Callable[[pd.DataFrame, DatasetSpec, int], object]):
    """A kind that writes `value(...)` into one cell of row `row`."""
    def corrupt(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
        where = column(spec)
        return Corruption(with_value(table, row, where, value(table, spec, row)), expectation, where,
                          sample_id(table, row), (row,))
    return corrupt


# ----- payloads -------------------------------------------------------------------------------------
def one_value(good: np.ndarray, spec: DatasetSpec, value: float) -> np.ndarray:
    """`good` with one element (where no missing value is allowed) set to `value`; an integer
    payload cannot hold NaN or infinity, so it arrives as float32 (and fails its dtype check too)."""
    bad = good.astype(np.float32 if good.dtype.kind in "iub" else good.dtype).copy()
    allowed = set(spec.payload.nan_positions)
    bad.flat[next(i for i in range(bad.size) if i not in allowed)] = value
    return bad


def nan_check(spec: DatasetSpec) -> tuple[str, str]:
    """NaN where none may be: the count check, or, where some cells may be missing, the placement check."""
    return (NAN_PLACED, "payload") if spec.payload.nan_positions else (BETWEEN, "nan_count")


def nan_case(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    return payload_case(*nan_check(spec), lambda good, s: one_value(good, s, np.nan))(table, spec, row)


def wrong_shape(good: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    """Half of the first fixed dimension; with only free dimensions, one axis too many."""
    fixed = [axis for axis, size in enumerate(spec.payload.shape) if size is not None]
    if not fixed:
        return good[None]
    return np.take(good, range(good.shape[fixed[0]] // 2), axis=fixed[0])


def other_dtype(good: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    return good.astype(np.float32 if good.dtype == np.float64 else np.float64)


def oversized(good: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    """The sample repeated along its first axis until it is over the payload's byte budget."""
    return np.concatenate([good] * (spec.payload.max_bytes // good.nbytes + 1), axis=0)


def unreachable_bound(spec: DatasetSpec, bound: float | None, side: str) -> str | None:
    """Why no value of the payload's dtype can be outside `bound`, or None."""
    dtype = np.dtype(spec.payload.dtype)
    if bound is None:
        return f"the payload spec sets no {side} bound"
    limits = np.iinfo(dtype) if dtype.kind in "iu" else None
    if limits is not None and bound == (limits.max if side == "upper" else limits.min):
        return f"a {dtype.name} payload cannot hold a value {'above' if side == 'upper' else 'below'} {bound}"
    return None


def beyond(bound: float, direction: int) -> float:
    return bound + direction * max(1.0, abs(bound))


def truncated_payload(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    bad = with_value(table, row, "payload", table.at[row, "payload"][:-1])
    return Corruption(bad, PAYLOAD_DECODES, "payload", sample_id(table, row), (row,))


# ----- labels ---------------------------------------------------------------------------------------
def first_task(spec: DatasetSpec, kind: str) -> TaskSpec | None:
    return next((t for t in spec.tasks if t.kind == kind), None)


def missing_label(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    task = spec.tasks[0]
    value = np.nan if task.kind == "regression" else None
    return Corruption(with_value(table, row, task.name, value), NOT_NULL, task.name, sample_id(table, row), (row,))


def unknown_class_in_map(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    """One pixel of the first dense task's label map set to a class the task does not have."""
    task = first_task(spec, "dense")
    labels = decode_label_map(table.iloc[row], task).copy()
    labels.flat[0] = task.num_classes
    table = table.copy()
    for column, value in {task.name: encode_label_map(labels), **label_map_summary(task.name, labels)}.items():
        table.at[row, column] = value
    return Corruption(table, BETWEEN, f"{task.name}_max", sample_id(table, row), (row,))


def truncated_label_map(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    task = first_task(spec, "dense")
    bad = with_value(table, row, task.name, table.at[row, task.name][:-1])
    return Corruption(bad, DENSE_DECODES, task.name, sample_id(table, row), (row,))


def no_task(kind: str) -> Callable[[DatasetSpec], str | None]:
    return lambda spec: None if first_task(spec, kind) else f"the dataset has no {kind} task"


# ----- what the reader reports, and samples the tokenizer cannot describe ---------------------------------
def skipped_file(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    """Row `row` stands for a file the reader did not read (`listing.skipped_rows` writes such rows)."""
    bad = with_value(table.assign(source_problem=None), row, "source_problem", "notes.txt: not read")
    return Corruption(bad, SOURCE_READ, "source_problem", sample_id(table, row), (row,))


def constant(good: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    return np.full_like(good, good.flat[0])


def no_degenerate_check(spec: DatasetSpec) -> str | None:
    return None if callable(getattr(spec.tokenizer, "degenerate", None)) else \
        "its tokenizer takes a constant sample safely (see omnivec2.validation.checks.NOT_DEGENERATE)"


# ----- ids, splits, columns -------------------------------------------------------------------------
def duplicate_id(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    """Row 0 takes row `row`'s id: both rows are suspect, both are set aside."""
    return Corruption(with_value(table, 0, "sample_id", table.at[row, "sample_id"]), UNIQUE, "sample_id",
                      sample_id(table, row), (0, row))


def null_id(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
    return Corruption(with_value(table, row, "sample_id", None), NOT_NULL, "sample_id", f"<row {row}>", (row,))


def missing_column(column: Callable[[DatasetSpec], str]):
    def corrupt(table: pd.DataFrame, spec: DatasetSpec, row: int) -> Corruption:
        name = column(spec)
        return Corruption(table.drop(columns=[name]), COLUMNS, None, f"[{name!r}]", ())
    return corrupt


KINDS: tuple[BadInput, ...] = (
    BadInput("nan", nan_case),
    BadInput("inf", payload_case(BETWEEN, "inf_count", lambda good, spec: one_value(good, spec, np.inf))),
    BadInput("wrong shape", payload_case(REGEX, "shape", wrong_shape)),
    BadInput("empty sample", payload_case(REGEX, "shape", lambda good, spec: good[:0])),
    BadInput("wrong dtype", payload_case(IN_SET, "dtype", other_dtype)),
    BadInput("truncated payload", truncated_payload),
    BadInput("oversized payload", payload_case(BETWEEN, "nbytes", oversized)),
    BadInput("above range",
             payload_case(BETWEEN, "max", lambda good, spec: one_value(good, spec, beyond(spec.payload.value_range[1], 1))),
             lambda spec: unreachable_bound(spec, spec.payload.value_range[1], "upper")),
    BadInput("below range",
             payload_case(BETWEEN, "min", lambda good, spec: one_value(good, spec, beyond(spec.payload.value_range[0], -1))),
             lambda spec: unreachable_bound(spec, spec.payload.value_range[0], "lower")),
    BadInput("unknown class", value_case(IN_SET, lambda spec: first_task(spec, "classification").name,
                                         lambda table, spec, row: first_task(spec, "classification").num_classes),
             no_task("classification")),
    BadInput("unknown class in label map", unknown_class_in_map, no_task("dense")),
    BadInput("truncated label map", truncated_label_map, no_task("dense")),
    BadInput("missing label", missing_label),
    BadInput("infinite regression target", value_case(BETWEEN, lambda spec: first_task(spec, "regression").name,
                                                      lambda table, spec, row: np.inf),
             no_task("regression")),
    BadInput("skipped file", skipped_file),
    BadInput("degenerate sample", payload_case(NOT_DEGENERATE, "payload", constant), no_degenerate_check),
    BadInput("duplicate id", duplicate_id),
    BadInput("missing id", null_id),
    BadInput("unknown split", value_case(IN_SET, lambda spec: "split", lambda table, spec, row: "training")),
    BadInput("missing summary column", missing_column(lambda spec: "nan_count")),
    BadInput("missing label column", missing_column(lambda spec: spec.tasks[0].name)),
)
