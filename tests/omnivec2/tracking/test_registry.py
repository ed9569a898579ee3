"""The `@champion` alias: moved to a new version only when it is not worse on the primary metrics."""

import json

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from omnivec2.tracking.registry import (CHAMPION, DECISION_TAG, checkpoint_in, not_worse, promote_if_not_worse,
                                        signed_primary)


def test_primary_metrics_are_signed_so_that_higher_is_better():
    metrics = {"tasks": {"image/digit": {"kind": "classification", "omnivec2": {"accuracy": 0.8, "f1": 0.1}},
                         "tabular/target": {"kind": "regression", "omnivec2": {"rmse": 2.5}},
                         "depth/seg": {"kind": "dense", "omnivec2": {"miou": 0.4}}}}
    assert signed_primary(metrics) == {"image/digit": 0.8, "tabular/target": -2.5, "depth/seg": 0.4}


def test_not_worse_allows_a_relative_tolerance_per_shared_task():
    champion = {"a": 0.80, "r": -2.0, "gone": 0.5}
    assert not_worse({"a": 0.79, "r": -2.03, "new": 0.1}, champion, 0.02)[0]  # within 2 % of each figure
    ok, reason = not_worse({"a": 0.70, "r": -2.0}, champion, 0.02)
    assert not ok and "a 0.7 < 0.8" in reason
    ok, reason = not_worse({"a": 0.9, "r": -2.5}, champion, 0.02)  # RMSE 2.5 against 2.0: worse
    assert not ok and reason.endswith("r -2.5 < -2")
    assert not_worse({"x": 0.1}, champion, 0.02) == (True, "shares no task with the champion (another dataset "
                                                           "suite): takes the alias")


@pytest.fixture
def registry(tmp_path):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = MlflowClient()
    client.create_registered_model("m")
    yield client
    mlflow.set_tracking_uri(previous)


def test_the_alias_moves_only_to_a_version_that_is_not_worse(registry, tmp_path):
    for _ in range(3):
        registry.create_model_version("m", str(tmp_path))
    first = promote_if_not_worse("m", "1", {"image/digit": 0.8})
    assert first == {"champion": True, "reason": "first version of the model: takes the alias", "previous": None}
    worse = promote_if_not_worse("m", "2", {"image/digit": 0.5})
    assert not worse["champion"] and worse["previous"] == "1"
    assert str(registry.get_model_version_by_alias("m", CHAMPION).version) == "1"
    assert registry.get_model_version("m", "2").tags[DECISION_TAG].startswith("worse than the champion")
    better = promote_if_not_worse("m", "3", {"image/digit": 0.81})
    assert better["champion"] and str(registry.get_model_version_by_alias("m", CHAMPION).version) == "3"
    assert json.loads(registry.get_model_version("m", "3").tags["primary_scores"]) == {"image/digit": 0.81}


def test_a_model_folder_without_the_checkpoint_artifact_is_refused(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors:\n  python_function:\n    artifacts: {}\n")
    with pytest.raises(FileNotFoundError, match="without the omnivec2 'checkpoint' artifact"):
        checkpoint_in(tmp_path, "models:/m@champion")
    (tmp_path / "MLmodel").write_text("flavors:\n  python_function:\n    artifacts:\n      checkpoint: {path: artifacts/checkpoint}\n")
    (tmp_path / "artifacts/checkpoint").mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (tmp_path / "artifacts/checkpoint" / name).write_text("{}")
    assert checkpoint_in(tmp_path, "x") == tmp_path / "artifacts/checkpoint"
