"""The predictions table behind `dvc plots`' confusion matrices, and the headline figures of
`dvc metrics show`, checked against metrics.json of the same checkpoint."""

from __future__ import annotations

import pytest

from omnivec2.checkpoint import load_model
from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.headline import headline
from omnivec2.evaluation.predictions import classification_predictions
from tests.omnivec2.evaluation.helpers import CLASSES, named_class_run


def test_predictions_name_the_classes_and_agree_with_metrics_json(tmp_path):
    _, cache, checkpoint = named_class_run(tmp_path)
    (name, table), = classification_predictions(load_model(checkpoint), cache).items()
    assert name == "wine/cultivar" and list(table.columns) == ["sample_id", "actual", "predicted"]
    assert len(table) == 20 and set(table["actual"]) == set(CLASSES) and set(table["predicted"]) <= set(CLASSES)
    assert all(CLASSES[int(s[1:]) % 3] == a for s, a in zip(table["sample_id"], table["actual"]))

    metrics = evaluate_checkpoint(checkpoint, cache, classical_max_iter=50)
    accuracy = (table["actual"] == table["predicted"]).mean()
    assert headline(metrics) == {"wine/cultivar": {"accuracy": pytest.approx(accuracy)}}


def test_headline_takes_each_kind_s_primary_metric_and_names_a_missing_one():
    metrics = {"tasks": {"table/price": {"kind": "regression", "omnivec2": {"rmse": 2.5, "mae": 2.0}},
                         "scene/segments": {"kind": "dense", "omnivec2": {"miou": 0.4, "pixel_accuracy": 0.8}}}}
    assert headline(metrics) == {"table/price": {"rmse": 2.5}, "scene/segments": {"miou": 0.4}}
    with pytest.raises(ValueError, match="scene/segments .dense.: metrics.json has no OmniVec2 miou"):
        headline({"tasks": {"scene/segments": {"kind": "dense", "omnivec2": {}}}})
