"""The bad-input corpus of the mesh-based modalities' tests (point_cloud, depth, infrared).

Each case corrupts row `ROW` of a valid sample table and names the check that must fail;
`assert_rejected` asserts the validation error names the modality, the check and the sample,
and that `build_token_cache` refuses the table and writes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.datasets import DatasetSpec
from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache
from omnivec2.validation import ValidationFailed, validate_sample_table
from tests.omnivec2.modalities.bad_inputs import assert_named_and_never_cached, with_payload, with_value  # noqa: F401

ROW = 5
KINDS = ("nan", "inf", "wrong shape", "truncated payload", "unknown label", "duplicate id", "oversized payload", "out of range")


def cases(spec: DatasetSpec, table: pd.DataFrame) -> dict:
    """kind -> (corrupted table, expectation, column) for `spec`'s payload and first task."""
    good = np.array(decode_payload(table.iloc[ROW]))
    nan, inf = good.copy(), good.copy()
    nan.flat[7], inf.flat[7] = np.nan, np.inf
    shape = spec.payload.shape
    wrong = np.zeros((shape[0] // 2, *shape[1:]), np.float32)
    oversized = np.zeros((shape[0] * 2, *shape[1:]), np.float32)
    task = spec.tasks[0]
    return {
        "nan": (with_payload(table, ROW, nan), "expect_column_values_to_be_between", "nan_count"),
        "inf": (with_payload(table, ROW, inf), "expect_column_values_to_be_between", "inf_count"),
        "wrong shape": (with_payload(table, ROW, wrong), "expect_column_values_to_match_regex", "shape"),
        "truncated payload": (with_value(table, ROW, "payload", table.at[ROW, "payload"][:-8]),
                              "payload_decodes_to_shape_and_dtype", "payload"),
        "unknown label": (with_value(table, ROW, task.name, task.num_classes), "expect_column_values_to_be_in_set", task.name),
        "duplicate id": (with_value(table, ROW + 1, "sample_id", table.at[ROW, "sample_id"]),
                         "expect_column_values_to_be_unique", "sample_id"),
        "oversized payload": (with_payload(table, ROW, oversized), "expect_column_values_to_be_between", "nbytes"),
        "out of range": (with_payload(table, ROW, np.full(shape, spec.payload.value_range[1] * 2 + 1, np.float32)),
                         "expect_column_values_to_be_between", "max"),
    }


def assert_rejected(spec: DatasetSpec, clean: pd.DataFrame, kind: str, tmp_path) -> None:
    bad, expectation, column = cases(spec, clean)[kind]
    assert_named_and_never_cached(bad, spec, expectation, column, str(clean.at[ROW, "sample_id"]), tmp_path / "cache")


def assert_cache_refuses(spec: DatasetSpec, bad: pd.DataFrame, tmp_path) -> None:
    root = tmp_path / "cache"
    with pytest.raises(UnvalidatedTableError):
        build_token_cache(bad, spec, root)
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*")), list(root.rglob("*"))


def assert_missing_column_rejected(spec: DatasetSpec, clean: pd.DataFrame, tmp_path) -> None:
    bad = clean.drop(columns=["nan_count"])
    with pytest.raises(ValidationFailed, match=r"expect_table_columns_to_match_set failed: missing column\(s\) \['nan_count'\]"):
        validate_sample_table(bad, spec)
    assert_cache_refuses(spec, bad, tmp_path)
