"""MLflow artifacts on S3 (the loopback server) with the embedded sqlite store and `artifact_location`: a run logs
params, metrics and an artifact, reads the artifact back, and the bytes are found in the bucket."""

from __future__ import annotations

import json

import pytest

from omnivec2.tracking import ensure_experiment, log_json_artifact, log_metrics_flat


@pytest.fixture
def s3_env(s3, monkeypatch):
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    return s3


@pytest.fixture
def restore_mlflow():
    import mlflow

    previous = mlflow.get_tracking_uri()
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def _round_trip(uri: str, experiment: str, artifact_location: str | None, tmp_path):
    import mlflow
    from mlflow.tracking import MlflowClient

    experiment_id = ensure_experiment(uri, experiment, artifact_location=artifact_location)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({"model.preset": "tiny"})
        assert log_metrics_flat({"loss": 0.5}, step=3) == 1
        assert log_json_artifact({"stage": "pretrain_unimodal", "ok": True}, "validation/image.json")
    client = MlflowClient(uri)
    data = client.get_run(run.info.run_id).data
    assert data.params == {"model.preset": "tiny"} and data.metrics == {"loss": 0.5}
    local = client.download_artifacts(run.info.run_id, "validation/image.json", str(tmp_path))
    assert json.loads(open(local).read()) == {"stage": "pretrain_unimodal", "ok": True}
    return client.get_experiment(experiment_id), run.info.run_id


def test_embedded_store_with_artifacts_on_s3(s3_env, restore_mlflow, tmp_path):
    bucket = s3_env.bucket("mlflow")
    experiment, run_id = _round_trip(f"sqlite:///{tmp_path}/mlflow.db", "s3 artifacts",
                                     f"s3://{bucket}/mlflow", tmp_path)
    assert experiment.artifact_location == f"s3://{bucket}/mlflow/s3_artifacts"
    assert f"mlflow/s3_artifacts/{run_id}/artifacts/validation/image.json" in s3_env.keys(bucket)


# The tracking-server case (mlflow server --artifacts-destination s3://..., params, worker metrics and an
# artifact logged through it and read back) is covered with the two-node test in tests/omnivec2/orchestration.
