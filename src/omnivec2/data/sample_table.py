"""The sample table: one row per raw sample, the format between ingestion, validation and tokenization.

Columns (pandas / Parquet):

| column        | type    | meaning                                                        |
|---------------|---------|----------------------------------------------------------------|
| sample_id     | str     | unique within the modality                                     |
| split         | str     | "train", "val" or "test"                                       |
| <task name>   | int/float | one column per task of the modality (class index or value)   |
|               | bytes   | dense tasks: the label map, uint8, C-order (see below)         |
| <task>_shape  | str     | dense tasks only: the label map's shape, "32x32"               |
| <task>_max    | int     | dense tasks only: the label map's largest label                |
| payload       | bytes   | the sample array, C-order, little-endian, dtype `dtype`        |
| dtype         | str     | numpy dtype name of the payload                                |
| shape         | str     | the payload's shape, "8x8"                                     |
| nbytes        | int     | len(payload)                                                   |
| min, max      | float   | over the payload's finite values (NaN when none)               |
| nan_count     | int     | NaN values in the payload                                      |
| inf_count     | int     | infinite values in the payload                                 |

The summaries let Great Expectations validate every sample without reading tensors.

Dense targets (per-pixel labels, `TaskSpec(name, "dense", num_classes=C, outputs_per_token=K)`)
------------------------------------------------------------------------------------------------
* In the table the task's column holds the label map as bytes: uint8 (so C <= 256), C-order, of
  the payload's spatial shape (what `tokenizer.dense_shape(payload_shape)` returns when the
  tokenizer defines it, else the payload's shape): `[H, W]` for an image `[H, W]`, `[C, H, W]`
  or a cube `[H, W, bands]`.
* `build_sample_table(ids, splits, arrays, {"material": label_maps})` encodes any target given
  as an integer ndarray per sample and adds `<task>_shape` and `<task>_max`; by hand:
  `encode_label_map(array) -> bytes` and `label_map_summary(task, array) -> {column: value}`.
* `decode_label_map(row, task, shape=None) -> np.ndarray uint8` (shape defaults to the row's
  `<task>_shape`); `decode_label_maps(table, task)` for a whole table.
* Validation: `<task>` not null, `<task>_max` in [0, C-1] (an unknown label), the bytes decode
  to `<task>_shape` and that shape is the payload's spatial shape (`dense_target_decodes`).
* The deterministic tokenizer lays labels out like its tokens:
  `transform_dense(label_maps, task) -> [B, N, K] int64` (ImagePatches: the p*p pixels of each
  patch, row-major within the patch). The token cache stores them as FixedSizeList<int16>[N*K]
  and `read_token_split(...).targets[task]` is `[B, N, K]` int64; `DenseHead` outputs
  `[B, N, K, C]`, `task_loss("dense", ...)` and `task_metrics("dense", ...)` (mIoU, pixel
  accuracy) take them as they are.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")
SUMMARY_COLUMNS = ("dtype", "shape", "nbytes", "min", "max", "nan_count", "inf_count")
FIXED_COLUMNS = ("sample_id", "split", "payload", *SUMMARY_COLUMNS)  # every table has them; tasks add theirs


def dense_columns(task: str) -> tuple[str, str]:
    """The summary columns of a dense task: (`<task>_shape`, `<task>_max`)."""
    return f"{task}_shape", f"{task}_max"


def encode_label_map(array: np.ndarray) -> bytes:
    """Integer label map (any shape) -> uint8 C-order bytes; raises ValueError outside 0..255 or non-integer."""
    labels = np.asarray(array)
    if labels.dtype.kind == "f":
        if not np.isfinite(labels).all() or (labels != np.round(labels)).any():
            raise ValueError("a label map must hold whole numbers")
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"a label map must be integer, not {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(f"label map values {labels.min()}..{labels.max()} do not fit uint8")
    return np.ascontiguousarray(labels, dtype=np.uint8).tobytes()


def label_map_summary(task: str, array: np.ndarray) -> dict:
    """The dense summary columns of one label map."""
    labels = np.asarray(array)
    shape_column, max_column = dense_columns(task)
    return {shape_column: format_shape(labels.shape), max_column: int(labels.max()) if labels.size else -1}


def decode_label_map(row: pd.Series | dict, task, shape: Sequence[int] | None = None) -> np.ndarray:
    """A row's dense target -> uint8 label map of `shape` (default: the row's `<task>_shape`).

    `task` is a TaskSpec or a task name; raises ValueError when the bytes do not fill the shape.
    """
    name = getattr(task, "name", task)
    shape = tuple(shape) if shape is not None else parse_shape(row[dense_columns(name)[0]])
    buffer = row[name]
    if not isinstance(buffer, (bytes, bytearray, memoryview)):
        raise ValueError(f"dense target {name!r} is {type(buffer).__name__}, not bytes")
    if len(buffer) != int(np.prod(shape)):
        raise ValueError(f"dense target {name!r} holds {len(buffer)} bytes, a {format_shape(shape)} label map needs {int(np.prod(shape))}")
    return np.frombuffer(buffer, dtype=np.uint8).reshape(shape)


def decode_label_maps(table: pd.DataFrame, task) -> list[np.ndarray]:
    return [decode_label_map(row, task) for row in table.to_dict("records")]


def _target_columns(task: str, value: object) -> dict:
    """One row's columns for a task: a dense label map (ndarray) is encoded with its summaries."""
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        return {task: encode_label_map(value), **label_map_summary(task, value)}
    return {task: value}


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
    """Assemble a sample table from arrays, their ids, splits and task targets.

    A target given per sample as an ndarray (a dense task's label map) is stored as bytes with
    its `<task>_shape` / `<task>_max` summaries (see the module docstring).
    """
    rows = []
    for i, array in enumerate(arrays):
        array = np.ascontiguousarray(array)
        rows.append(
            {
                "sample_id": str(sample_ids[i]),
                "split": str(splits[i]),
                **{k: v for task, values in targets.items() for k, v in _target_columns(task, values[i]).items()},
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
