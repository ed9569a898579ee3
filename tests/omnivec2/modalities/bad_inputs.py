"""The bad-input corpus every modality's tests run: each case corrupts one row of a clean table.

`bad_cases(table, spec, row)` -> {case: (corrupted table, expectation, column)}; the expectation
and column are what validation must name (with the row's sample id, except for a missing column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sample_table import decode_payload, encode_label_map, label_map_summary, summarise
from omnivec2.datasets import DatasetSpec


def with_payload(table: pd.DataFrame, row: int, array: np.ndarray) -> pd.DataFrame:
    """A copy of `table` whose row `row` holds `array`, with honest summaries."""
    table = table.copy()
    for column, value in {"payload": np.ascontiguousarray(array).tobytes(), **summarise(array)}.items():
        table[column] = table[column].astype(object)
        table.at[row, column] = value
    return table


def with_value(table: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    table = table.copy()
    table[column] = table[column].astype(object)
    table.at[row, column] = value
    return table


def with_unknown_label(table: pd.DataFrame, spec: DatasetSpec, row: int) -> tuple[pd.DataFrame, str]:
    task = spec.tasks[0]
    if task.kind == "dense":
        table = table.copy()
        labels = np.full([int(d) for d in str(table.at[row, f"{task.name}_shape"]).split("x")], task.num_classes, np.uint8)
        for column, value in {task.name: encode_label_map(labels), **label_map_summary(task.name, labels)}.items():
            table.at[row, column] = value
        return table, f"{task.name}_max"
    return with_value(table, row, task.name, task.num_classes), task.name


def bad_cases(table: pd.DataFrame, spec: DatasetSpec, row: int) -> dict[str, tuple[pd.DataFrame, str, str]]:
    good = np.array(decode_payload(table.iloc[row]))
    nan, inf = good.astype(np.float32).copy(), good.astype(np.float32).copy()
    nan.flat[3], inf.flat[3] = np.nan, np.inf
    if good.dtype.kind == "f":  # an integer payload cannot hold NaN: it arrives as float (and fails dtype too)
        nan, inf = nan.astype(good.dtype), inf.astype(good.dtype)
    unknown, label_column = with_unknown_label(table, spec, row)
    between = "expect_column_values_to_be_between"
    return {
        "nan": (with_payload(table, row, nan), between, "nan_count"),
        "inf": (with_payload(table, row, inf), between, "inf_count"),
        "wrong shape": (with_payload(table, row, good.reshape(-1)[: good.size // 2]), "expect_column_values_to_match_regex", "shape"),
        "truncated payload": (with_value(table, row, "payload", table.at[row, "payload"][:-8]), "payload_decodes_to_shape_and_dtype", "payload"),
        "unknown label": (unknown, between if spec.tasks[0].kind == "dense" else "expect_column_values_to_be_in_set", label_column),
        "duplicate id": (with_value(table, 0, "sample_id", table.at[row, "sample_id"]), "expect_column_values_to_be_unique", "sample_id"),
        "oversized payload": (with_payload(table, row, np.concatenate([good, good], axis=0)), between, "nbytes"),
    }


def assert_named_and_never_cached(bad: pd.DataFrame, spec: DatasetSpec, expectation: str, column: str,
                                  sample: str, cache_root) -> None:
    """Validation names the modality, the expectation, the column and the sample; the cache's own
    re-check refuses the same table and writes nothing."""
    from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache
    from omnivec2.validation import ValidationFailed, validate_sample_table

    with pytest.raises(ValidationFailed) as info:
        validate_sample_table(bad, spec)
    line = f"validation failed for dataset {spec.name!r}: {expectation} on column {column!r} failed for "
    assert any(l.startswith(line) and sample in l for l in str(info.value).splitlines()), str(info.value)
    with pytest.raises(UnvalidatedTableError, match=sample):
        build_token_cache(bad, spec, cache_root)
    assert not cache_root.exists() or not any(p.is_file() for p in cache_root.rglob("*")), list(cache_root.rglob("*"))
