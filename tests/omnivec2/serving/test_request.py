"""The serving request format: rows of dataset + base64 payload + format, or dataset + path."""

import base64
import io
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from omnivec2.inference import PredictionError
from omnivec2.serving.request import OUTPUT_COLUMNS, npy_row, predict_frame, signature

KINDS = {"digit": "classification", "value": "regression", "land": "dense"}


class FakePredictor:
    """Records what it was asked; answers as Predictor does."""

    def __init__(self):
        self.calls = []
        tasks = {name: SimpleNamespace(kind=kind) for name, kind in KINDS.items()}
        self.model = SimpleNamespace(config=SimpleNamespace(modality=lambda d: SimpleNamespace(task=tasks.__getitem__)))

    def _answer(self, dataset):
        return {"dataset": dataset, "tasks": {
            "digit": {"prediction": 3, "label": "three", "probability": 0.7},
            "value": {"prediction": 1.5},
            "land": {"prediction": [[0, 2], [2, 2]], "classes": ["none", "water", "forest"]}}}

    def predict(self, dataset, path):
        self.calls.append(("path", dataset, path))
        return self._answer(dataset)

    def predict_bytes(self, dataset, data, suffix, name):
        self.calls.append(("bytes", dataset, np.load(io.BytesIO(data)).tolist(), suffix, name))
        return self._answer(dataset)


def test_rows_with_a_payload_or_a_path_answer_one_row_per_task():
    predictor = FakePredictor()
    frame = pd.DataFrame([npy_row("image", np.arange(4, dtype=np.uint8)), {"dataset": "photos", "path": "/x/fox.png"}])
    answer = predict_frame(predictor, frame)
    assert predictor.calls == [("bytes", "image", [0, 1, 2, 3], "npy", "request row 0"), ("path", "photos", "/x/fox.png")]
    assert list(answer.columns) == list(OUTPUT_COLUMNS) and len(answer) == 6
    first = answer[answer["sample"] == 0].set_index("task")
    assert first.loc["digit", "label"] == "three" and first.loc["digit", "score"] == 0.7
    assert first.loc["value", "label"] == "" and first.loc["value", "score"] == 1.5
    assert first.loc["land", "label"] == "forest" and first.loc["land", "score"] == 0.75  # 3 of 4 pixels
    assert json.loads(first.loc["digit", "prediction"])["prediction"] == 3


@pytest.mark.parametrize("row, message", [
    ({"dataset": "image"}, "request row 0 (dataset 'image'): give exactly one of 'payload' (with 'format') or 'path'"),
    ({"dataset": "image", "payload": "AAAA"}, "request row 0 (dataset 'image'): 'payload' needs 'format'"),
    ({"dataset": "image", "payload": "not base64!", "format": "npy"}, "request row 0 (dataset 'image'): 'payload' is not base64"),
    ({"dataset": "image", "payload": "AAAA", "path": "/x", "format": "npy"}, "give exactly one of"),
])
def test_a_malformed_row_is_refused_with_its_row_and_dataset(row, message):
    with pytest.raises(PredictionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        predict_frame(FakePredictor(), pd.DataFrame([row]))


def test_unknown_columns_are_refused():
    with pytest.raises(PredictionError, match=r"unknown: \['file'\]"):
        predict_frame(FakePredictor(), pd.DataFrame([{"dataset": "image", "file": "x"}]))


def test_the_signature_names_the_request_and_answer_columns():
    sig = signature()
    assert sig.inputs.input_names() == ["dataset", "payload", "format", "path"]
    assert sig.outputs.input_names() == list(OUTPUT_COLUMNS)
    assert base64.b64decode(npy_row("a", np.zeros(2))["payload"])[:6] == b"\x93NUMPY"
