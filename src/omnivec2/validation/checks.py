"""The checks a modality's sample table must pass, generated from its `DatasetSpec` (no GX import here).

Each `Check` names a Great Expectations expectation (snake-case type, as GX reports it) and its
arguments. Row-level checks flag individual samples (those can be quarantined); table-level
checks judge the table as a whole (those always stop the run).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from omnivec2.data.sample_table import SPLITS, SUMMARY_COLUMNS, dense_columns
from omnivec2.datasets.spec import DatasetSpec

# Not a GX expectation: payload bytes are checked in plain Python (see decode.py).
PAYLOAD_DECODES = "payload_decodes_to_shape_and_dtype"
# Not a GX expectation either: a dense task's label-map bytes against its shape and the payload's.
DENSE_DECODES = "dense_target_decodes_to_spatial_shape"
# Nor this: NaN (a missing value) only at the positions the payload spec allows it (a table's numeric cells).
NAN_PLACED = "payload_nan_only_where_missing_is_allowed"
# Nor this: a row standing for a file the reader could not use (`source_problem`, see
# `omnivec2.data.sources.listing`) fails by that reason, so a skipped file is named, never dropped.
SOURCE_READ = "source_file_was_read"
# Nor this: a sample its tokenizer cannot describe (`tokenizer.degenerate(sample)` gives the reason). Only
# the point groups need it (a cloud of identical points); the other tokenizers were checked and take
# degenerate samples safely: images and video are divided by a fixed scale (no per-patch normalisation),
# series, spectra, depth/thermal frames and log-mel energies are standardised with the train split's
# statistics (std floored at 1e-6, log floored at 1e-6), so a constant sample divides by nothing; an
# edgeless graph's Laplacian is the identity (degree-0 nodes get weight 0), whose eigenbasis numpy returns
# as the unit vectors, so its node identifiers are defined and its atoms' categories still speak.
NOT_DEGENERATE = "payload_is_not_degenerate"
PYTHON_CHECKS = (PAYLOAD_DECODES, DENSE_DECODES, NAN_PLACED, SOURCE_READ, NOT_DEGENERATE)
REQUIRED_SPLITS = ("train", "test")


@dataclass(frozen=True)
class Check:
    type: str  # e.g. "expect_column_values_to_be_between"
    column: str | None
    kwargs: dict = field(default_factory=dict, hash=False, compare=True)
    row_level: bool = True

    def describe(self) -> str:
        return f"{self.type} on column {self.column!r}" if self.column else self.type


def required_columns(spec: DatasetSpec) -> list[str]:
    dense = [c for task in spec.tasks if task.kind == "dense" for c in dense_columns(task.name)]
    return ["sample_id", "split", *(task.name for task in spec.tasks), *dense, "payload", *SUMMARY_COLUMNS]


def shape_regex(shape: tuple[int | None, ...]) -> str:
    """`(None, 100)` -> `^[1-9][0-9]*x100$` (None is a free dimension)."""
    return "^" + "x".join("[1-9][0-9]*" if d is None else str(int(d)) for d in shape) + "$"


def checks_for(spec: DatasetSpec, columns: list[str] | None = None) -> list[Check]:
    """All checks for `spec`; column checks are left out for columns absent from `columns`
    (the table-level column check reports those instead of every expectation erroring)."""
    present = set(required_columns(spec) if columns is None else columns)
    payload = spec.payload
    low, high = payload.value_range
    wanted: list[Check] = [
        Check("expect_table_columns_to_match_set", None, {"column_set": required_columns(spec), "exact_match": False}, False),
        Check("expect_column_distinct_values_to_contain_set", "split", {"value_set": list(REQUIRED_SPLITS)}, False),
        Check("expect_column_values_to_not_be_null", "sample_id"),
        Check("expect_column_values_to_be_unique", "sample_id"),
        Check("expect_column_values_to_not_be_null", "split"),
        Check("expect_column_values_to_be_in_set", "split", {"value_set": list(SPLITS)}),
    ]
    for task in spec.tasks:
        wanted.append(Check("expect_column_values_to_not_be_null", task.name))
        if task.kind == "classification":
            wanted.append(Check("expect_column_values_to_be_in_set", task.name, {"value_set": list(range(task.num_classes))}))
        elif task.kind == "dense":  # the column holds bytes; its summaries are checked instead
            shape_column, max_column = dense_columns(task.name)
            wanted.append(Check("expect_column_values_to_be_between", max_column, {"min_value": 0, "max_value": task.num_classes - 1}))
            if {task.name, shape_column, "shape"} <= present:
                wanted.append(Check(DENSE_DECODES, task.name, {}))
        else:  # finite: NaN is caught by not_null, +-inf by the bounds
            wanted.append(
                Check("expect_column_values_to_be_between", task.name, {"min_value": -sys.float_info.max, "max_value": sys.float_info.max})
            )
    wanted += [
        Check("expect_column_values_to_be_in_set", "dtype", {"value_set": [np.dtype(payload.dtype).name]}),
        Check("expect_column_values_to_match_regex", "shape", {"regex": shape_regex(payload.shape)}),
        Check("expect_column_values_to_be_between", "nan_count", {"min_value": 0, "max_value": len(payload.nan_positions)}),
        Check("expect_column_values_to_be_between", "inf_count", {"min_value": 0, "max_value": 0}),
        Check("expect_column_values_to_be_between", "nbytes", {"min_value": 0, "max_value": payload.max_bytes, "strict_min": True}),
    ]
    if low is not None:
        wanted.append(Check("expect_column_values_to_be_between", "min", {"min_value": low}))
    if high is not None:
        wanted.append(Check("expect_column_values_to_be_between", "max", {"max_value": high}))
    if {"payload", "dtype", "shape", "nbytes"} <= present:
        wanted.append(Check(PAYLOAD_DECODES, "payload", {}))
        if payload.nan_positions:
            wanted.append(Check(NAN_PLACED, "payload", {"nan_positions": list(payload.nan_positions)}))
        if callable(getattr(spec.tokenizer, "degenerate", None)):
            wanted.append(Check(NOT_DEGENERATE, "payload", {}))
    if "source_problem" in present:
        wanted.append(Check(SOURCE_READ, "source_problem", {}))
    return [c for c in wanted if c.column is None or c.column in present]
