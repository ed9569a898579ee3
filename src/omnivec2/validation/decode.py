"""Plain-Python byte checks GX cannot do on summaries.

Payloads: the bytes must be exactly `prod(shape) * itemsize` long and match `nbytes`. Dense
targets: the label-map bytes must fill `<task>_shape`, and that shape must be the payload's
spatial shape (`tokenizer.dense_shape(payload shape)`, or the payload shape itself). Both catch
truncated or padded bytes whose summaries lie. Missing values: a payload may hold NaN only at the
spec's `nan_positions` (a table's numeric cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import decode_payload, dense_columns, format_shape, parse_shape
from omnivec2.datasets.spec import DatasetSpec


def payload_problem(payload: object, dtype: object, shape: object, nbytes: object) -> str | None:
    """Why one payload cannot be decoded, or None when it can."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        return f"payload is {type(payload).__name__}, not bytes"
    try:
        expected = int(np.prod(parse_shape(shape))) * np.dtype(str(dtype)).itemsize
    except (TypeError, ValueError):
        return f"cannot interpret shape {shape!r} / dtype {dtype!r}"
    if len(payload) != expected:
        return f"payload holds {len(payload)} bytes, shape {shape} of {dtype} needs {expected}"
    if nbytes != len(payload):
        return f"nbytes says {nbytes}, payload holds {len(payload)} bytes"
    return None


def undecodable_rows(table: pd.DataFrame) -> dict[int, str]:
    """Row positions -> problem, for every payload that does not decode."""
    problems = {}
    columns = zip(table["payload"], table["dtype"], table["shape"], table["nbytes"])
    for position, (payload, dtype, shape, nbytes) in enumerate(columns):
        problem = payload_problem(payload, dtype, shape, nbytes)
        if problem is not None:
            problems[position] = problem
    return problems


def expected_label_shape(spec: DatasetSpec, payload_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The label-map shape a dense task needs for a payload of `payload_shape`."""
    dense_shape = getattr(spec.tokenizer, "dense_shape", None)
    return tuple(dense_shape(payload_shape)) if dense_shape is not None else tuple(payload_shape)


def dense_problem(spec: DatasetSpec, labels: object, label_shape: object, payload_shape: object) -> str | None:
    """Why one dense target is not a label map of the payload's spatial shape, or None."""
    if not isinstance(labels, (bytes, bytearray, memoryview)):
        return f"label map is {type(labels).__name__}, not bytes"
    try:
        shape = parse_shape(label_shape)
        wanted = expected_label_shape(spec, parse_shape(payload_shape))
    except (TypeError, ValueError):
        return f"cannot interpret label shape {label_shape!r} / payload shape {payload_shape!r}"
    if len(labels) != int(np.prod(shape)):
        return f"label map holds {len(labels)} bytes, shape {label_shape} of uint8 needs {int(np.prod(shape))}"
    if shape != wanted:
        return f"label map of shape {label_shape}, the payload {payload_shape} needs {format_shape(wanted)}"
    return None


def undecodable_dense_rows(table: pd.DataFrame, spec: DatasetSpec, task: str) -> dict[int, str]:
    """Row positions -> problem, for every dense target of `task` that does not decode."""
    problems = {}
    columns = zip(table[task], table[dense_columns(task)[0]], table["shape"])
    for position, (labels, label_shape, payload_shape) in enumerate(columns):
        problem = dense_problem(spec, labels, label_shape, payload_shape)
        if problem is not None:
            problems[position] = problem
    return problems


def misplaced_nan_rows(table: pd.DataFrame, spec: DatasetSpec) -> dict[int, str]:
    """Row positions -> problem, for every payload with NaN outside `spec.payload.nan_positions`
    (payloads that do not decode are left to `undecodable_rows`)."""
    problems = {}
    for position, row in enumerate(table.to_dict("records")):
        if not row.get("nan_count") or payload_problem(row["payload"], row["dtype"], row["shape"], row["nbytes"]):
            continue
        nan = np.isnan(decode_payload(row)).ravel()
        misplaced = np.flatnonzero(nan & ~np.isin(np.arange(nan.size), spec.payload.nan_positions))
        if misplaced.size:
            problems[position] = (f"NaN at position(s) {misplaced[:5].tolist()}, where a missing value is not "
                                  f"allowed (allowed: {list(spec.payload.nan_positions)})")
    return problems


def source_problem_rows(table: pd.DataFrame) -> dict[int, str]:
    """Row positions -> problem, for every row whose `source_problem` says its file was not read."""
    return {position: str(problem) for position, problem in enumerate(table["source_problem"])
            if isinstance(problem, str) and problem}


def degenerate_rows(table: pd.DataFrame, spec: DatasetSpec) -> dict[int, str]:
    """Row positions -> reason, for every decodable payload the tokenizer calls degenerate
    (`tokenizer.degenerate(sample)`, see `checks.NOT_DEGENERATE`)."""
    problems = {}
    for position, row in enumerate(table.to_dict("records")):
        if payload_problem(row["payload"], row["dtype"], row["shape"], row["nbytes"]):
            continue
        reason = spec.tokenizer.degenerate(decode_payload(row))
        if reason:
            problems[position] = reason
    return problems
