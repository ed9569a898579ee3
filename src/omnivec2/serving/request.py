"""The serving request and answer format (documented in the README, "Serving the model").

A request is a table, one row per sample, in any of MLflow's JSON forms (`dataframe_records`,
`dataframe_split`):

| column    | required | meaning                                                                    |
|-----------|----------|----------------------------------------------------------------------------|
| `dataset` | yes      | the dataset (stream) of the model the sample belongs to, e.g. "image"      |
| `payload` | one of   | the sample file's bytes, base64 (standard alphabet)                        |
| `format`  | with it  | the file's format: its suffix, "npy" (any modality) or a native one (png, wav, txt, off, sdf, mp4, ...) |
| `path`    | one of   | a file on the serving machine, read as `omnivec2 predict` reads it         |

The answer is a table with one row per (sample, task): `sample` (the request row), `dataset`, `task`,
`kind`, `label` (the class name; for dense tasks the most frequent class; "" for regression), `score`
(the class probability; the share of tokens for dense; the value for regression) and `prediction`
(the full answer of `Predictor.predict` for the task, as JSON).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections import Counter

import numpy as np
import pandas as pd

INPUT_COLUMNS = ("dataset", "payload", "format", "path")
OUTPUT_COLUMNS = ("sample", "dataset", "task", "kind", "label", "score", "prediction")


def signature():
    """The pyfunc's MLflow signature: the input and output columns above."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([ColSpec("string", "dataset"), ColSpec("string", "payload", required=False),
                     ColSpec("string", "format", required=False), ColSpec("string", "path", required=False)])
    outputs = Schema([ColSpec("long", "sample"), ColSpec("string", "dataset"), ColSpec("string", "task"),
                      ColSpec("string", "kind"), ColSpec("string", "label"), ColSpec("double", "score"),
                      ColSpec("string", "prediction")])
    return ModelSignature(inputs=inputs, outputs=outputs)


def npy_row(dataset: str, payload: np.ndarray) -> dict:
    """A request row carrying `payload` as a base64 .npy file."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(payload), allow_pickle=False)
    return {"dataset": dataset, "format": "npy", "payload": base64.b64encode(buffer.getvalue()).decode("ascii")}


def predict_frame(predictor, frame: pd.DataFrame) -> pd.DataFrame:
    """Every row of a request table -> the answer table (raises PredictionError naming the row)."""
    from omnivec2.inference import PredictionError

    unknown = sorted(set(frame.columns) - set(INPUT_COLUMNS))
    if unknown or "dataset" not in frame.columns:
        raise PredictionError(f"request columns {sorted(frame.columns)}: needs 'dataset' and 'payload'+'format' "
                              f"or 'path' (unknown: {unknown})")
    rows = []
    for index, row in enumerate(frame.to_dict("records")):
        answer = _predict_row(predictor, index, {k: v for k, v in row.items() if _given(v)})
        for task, result in answer["tasks"].items():
            kind = predictor.model.config.modality(answer["dataset"]).task(task).kind
            label, score = _label_and_score(kind, result)
            rows.append({"sample": index, "dataset": answer["dataset"], "task": task, "kind": kind,
                         "label": label, "score": score, "prediction": json.dumps(result)})
    return pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))


def _predict_row(predictor, index: int, row: dict) -> dict:
    from omnivec2.inference import PredictionError

    where = f"request row {index}"
    dataset = row.get("dataset")
    if not isinstance(dataset, str):
        raise PredictionError(f"{where}: no 'dataset'")
    if ("payload" in row) == ("path" in row):
        raise PredictionError(f"{where} (dataset {dataset!r}): give exactly one of 'payload' (with 'format') or 'path'")
    if "path" in row:
        return predictor.predict(dataset, row["path"])
    if "format" not in row:
        raise PredictionError(f"{where} (dataset {dataset!r}): 'payload' needs 'format' (e.g. \"npy\", \"png\")")
    try:
        data = base64.b64decode(row["payload"], validate=True)
    except (binascii.Error, TypeError, ValueError) as error:
        raise PredictionError(f"{where} (dataset {dataset!r}): 'payload' is not base64 ({error})") from None
    return predictor.predict_bytes(dataset, data, str(row["format"]), where)


def _label_and_score(kind: str, result: dict) -> tuple[str, float]:
    if kind == "classification":
        return result["label"], float(result["probability"])
    if kind == "regression":
        return "", float(result["prediction"])
    counts = Counter(np.asarray(result["prediction"]).reshape(-1).tolist())  # dense: class per pixel of each token
    index, count = counts.most_common(1)[0]
    classes = result.get("classes") or []
    return (classes[index] if index < len(classes) else str(index)), count / sum(counts.values())


def _given(value) -> bool:
    """A cell the request filled (JSON null and pandas' NaN for a missing optional column are not)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))
