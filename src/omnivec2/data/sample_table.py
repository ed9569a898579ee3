"""The sample table: one row per raw sample, the format between ingestion, validation and tokenization.

Columns (pandas / Parquet):

| column        | type    | meaning                                                        |
|---------------|---------|----------------------------------------------------------------|
| sample_id     | str     | unique within the modality                                     |
| split         | str     | "train", "val" or "test"                                       |
| <task name>   | int/float | one column per task of the modality (class index or value)   |
| payload       | bytes   | the sample array, C-order, little-endian, dtype `dtype`        |
| dtype         | str     | numpy dtype name of the payload                                |
| shape         | str     | the payload's shape, "8x8"                                     |
| nbytes        | int     | len(payload)                                                   |
| min, max      | float   | over the payload's finite values (NaN when none)               |
| nan_count     | int     | NaN values in the payload                                      |
| inf_count     | int     | infinite values in the payload                                 |

The summaries let Great Expectations validate every sample without reading tensors.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")
SUMMARY_COLUMNS = ("dtype", "shape", "nbytes", "min", "max", "nan_count", "inf_count")


def format_shape(shape: Iterable[int]) -> str:
    return "x".join(str(int(d)) for d in shape)


def parse_shape(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in str(text).split("x")) if text else ()


def summarise(array: np.ndarray) -> dict:
    """Per-sample summary columns of one payload array."""
    values = np.asarray(array)
    numeric = values.dtype.kind in "fiub"
    finite = values[np.isfinite(values)] if numeric and values.dtype.kind == "f" else values
    return {
        "dtype": values.dtype.name,
        "shape": format_shape(values.shape),
        "nbytes": int(values.nbytes),
        "min": float(finite.min()) if numeric and finite.size else float("nan"),
        "max": float(finite.max()) if numeric and finite.size else float("nan"),
        "nan_count": int(np.isnan(values).sum()) if values.dtype.kind == "f" else 0,
        "inf_count": int(np.isinf(values).sum()) if values.dtype.kind == "f" else 0,
    }


def build_sample_table(
    sample_ids: Sequence[str],
    splits: Sequence[str],
    arrays: Sequence[np.ndarray],
    targets: dict[str, Sequence],
) -> pd.DataFrame:
    """Assemble a sample table from arrays, their ids, splits and task targets."""
    rows = []
    for i, array in enumerate(arrays):
        array = np.ascontiguousarray(array)
        rows.append(
            {
                "sample_id": str(sample_ids[i]),
                "split": str(splits[i]),
                **{task: values[i] for task, values in targets.items()},
                "payload": array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes(),
                **summarise(array),
            }
        )
    return pd.DataFrame(rows)


def decode_payload(row: pd.Series | dict) -> np.ndarray:
    """Payload bytes of one row -> the sample array (raises ValueError when size and shape disagree)."""
    dtype = np.dtype(row["dtype"]).newbyteorder("<")
    shape = parse_shape(row["shape"])
    buffer = row["payload"]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(buffer) != expected:
        raise ValueError(f"payload holds {len(buffer)} bytes, shape {row['shape']} of {dtype.name} needs {expected}")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


def decode_payloads(table: pd.DataFrame) -> list[np.ndarray]:
    return [decode_payload(row) for row in table.to_dict("records")]
