"""omnivec2.tracking against a throw-away sqlite MLflow store (one database for the module)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import subprocess
import uuid
from pathlib import Path

import pytest

from omnivec2.tracking import (
    WorkerMetricLogger,
    ensure_experiment,
    flatten_params,
    is_secret_key,
    log_dir_artifacts,
    log_json_artifact,
    log_metrics_flat,
    resolve_tracking_uri,
    run_tags,
    stage_tracking_context,
)
from omnivec2.tracking.tags import MAX_PARAM_VALUE_LENGTH

# -- tracking URIs --------------------------------------------------------------------------------


@pytest.fixture
def no_env_uri(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "placeholder")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")


def test_default_uri_is_sqlite_in_project_root(tmp_path, no_env_uri):
    assert resolve_tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert resolve_tracking_uri("", tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"


def test_relative_sqlite_made_absolute(tmp_path, no_env_uri):
    uri = resolve_tracking_uri("sqlite:///runs/mlflow.db", tmp_path)
    assert uri == f"sqlite:///{tmp_path.resolve()}/runs/mlflow.db"
    assert uri.startswith("sqlite:////")  # four slashes: absolute for SQLAlchemy


@pytest.mark.parametrize(
    "uri",
    ["http://127.0.0.1:5000", "https://mlflow.example.org", "sqlite:////abs/path/mlflow.db", "sqlite:///:memory:"],
)
def test_remote_and_absolute_uris_pass_through(tmp_path, no_env_uri, uri):
    assert resolve_tracking_uri(uri, tmp_path) == uri


def test_env_uri_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5555")
    assert resolve_tracking_uri("sqlite:///mlflow.db", tmp_path) == "http://127.0.0.1:5555"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///rel.db")
    assert resolve_tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/rel.db"


# -- tags -----------------------------------------------------------------------------------------


def test_run_tags_outside_git(tmp_path):
    tags = run_tags(tmp_path, "kedro run")
    assert tags == {
        "git.commit": "unknown",
        "git.dirty": "unknown",
        "dvc.lock.sha256": "none",
        "kedro.command": "kedro run",
    }


def test_run_tags_in_git_repo_with_dvc_lock(tmp_path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert run_tags(tmp_path, "x")["git.commit"] == "unknown"  # no commit yet: still no exception
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\n")
    subprocess.run([*git, "add", "dvc.lock"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()

    tags = run_tags(tmp_path, "kedro run --pipeline=ingestion")
    assert tags["git.commit"] == head and len(head) == 40
    assert tags["git.dirty"] == "false"
    assert tags["dvc.lock.sha256"] == hashlib.sha256(b"schema: '2.0'\n").hexdigest()
    (tmp_path / "dvc.lock").write_text("changed\n")
    assert run_tags(tmp_path, "x")["git.dirty"] == "true"


# -- parameters -----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Optim:
    lr: float = 1e-4
    betas: tuple = (0.9, 0.95)


def test_flatten_params_dotted_stringified_truncated():
    flat = flatten_params(
        {
            "model": {"preset": "tiny", "depth": 2, "overrides": {}},
            "optim": _Optim(),
            "modalities": ["image", "text"],
            "long": "x" * 7000,
            "flag": True,
            "none": None,
        },
        prefix="p",
    )
    assert flat["p.model.preset"] == "tiny"
    assert flat["p.model.depth"] == "2"
    assert flat["p.model.overrides"] == "{}"
    assert flat["p.optim.lr"] == "0.0001"
    assert flat["p.modalities"] == '["image", "text"]'
    assert len(flat["p.long"]) == MAX_PARAM_VALUE_LENGTH == 6000
    assert flat["p.flag"] == "True" and flat["p.none"] == "None"
    assert all(isinstance(v, str) for v in flat.values())


def test_secrets_are_dropped_but_tokenizer_params_kept():
    params = {
        "aws": {"aws_access_key_id": "AKIA", "aws_secret_access_key": "s3cr3t", "region": "us-east-1"},
        "credentials": {"user": "u", "pw": "p"},  # the whole subtree goes
        "db_password": "hunter2",
        "hf_token": "hf_abc",
        "authToken": "abc",
        "api_key": "k",
        "tokenization": {"patch_size": 16, "max_tokens": 128, "tokenizer": "bpe"},
        "num_tokens": 64,
    }
    flat = flatten_params(params)
    assert flat == {
        "aws.region": "us-east-1",
        "tokenization.patch_size": "16",
        "tokenization.max_tokens": "128",
        "tokenization.tokenizer": "bpe",
        "num_tokens": "64",
    }
    for secret in ("AKIA", "s3cr3t", "hunter2", "hf_abc", "abc", "u", "p", "k"):
        assert secret not in flat.values()
    assert is_secret_key("SESSION_TOKEN") and is_secret_key("client_secret") and not is_secret_key("tokens")


# -- against a real (sqlite) store ----------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An sqlite tracking store shared by this module's tests (creating one costs ~1.5 s)."""
    import mlflow

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    previous = mlflow.get_tracking_uri()
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def experiment(store):
    experiment_id = ensure_experiment(store, f"test-{uuid.uuid4().hex[:8]}")
    return experiment_id


def test_ensure_experiment_keeps_artifacts_next_to_db_and_env_clean(store, monkeypatch):
    import os

    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "placeholder")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    experiment_id = ensure_experiment(store, "artifact location/check")
    location = MlflowClient(store).get_experiment(experiment_id).artifact_location
    db_dir = Path(store[len("sqlite:///") :]).parent
    assert location == (db_dir / "mlartifacts" / "artifact_location_check").as_uri()
    assert "MLFLOW_TRACKING_URI" not in os.environ  # mlflow.set_tracking_uri exports it; we undo that
    assert ensure_experiment(store, "artifact location/check") == experiment_id  # idempotent


def test_worker_metric_logger_steps_and_flushing(store, experiment):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    run_id = client.create_run(experiment).info.run_id
    logger = WorkerMetricLogger({"tracking_uri": store, "run_id": run_id}, flush_every=3)
    for step in range(5):
        logger.log({"loss": 1.0 / (step + 1), "lr": 0.1}, step=step * 10)
        if step == 1:  # two calls, below flush_every: nothing written yet
            assert client.get_metric_history(run_id, "loss") == []
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [0, 10, 20]  # flushed at call 3
    logger.close()
    history = client.get_metric_history(run_id, "loss")
    assert sorted(m.step for m in history) == [0, 10, 20, 30, 40]
    assert {m.step: m.value for m in history}[30] == pytest.approx(0.25)
    assert len(client.get_metric_history(run_id, "lr")) == 5
    logger.log({"loss": 9.0}, step=99)  # after close: ignored
    logger.close()
    assert len(client.get_metric_history(run_id, "loss")) == 5


def test_worker_metric_logger_noop_and_pickles(store, experiment):
    from mlflow.tracking import MlflowClient

    noop = WorkerMetricLogger(None)
    noop.log({"loss": 1.0}, step=0)
    noop.close()
    assert not noop.enabled

    run_id = MlflowClient(store).create_run(experiment).info.run_id
    logger = WorkerMetricLogger({"tracking_uri": store, "run_id": run_id}, flush_every=1)
    logger.log({"a": 1.0}, step=0)  # creates the client
    clone = pickle.loads(pickle.dumps(logger))  # shipped to a Ray worker: no client inside
    clone.log({"a": 2.0}, step=1)
    clone.close()
    assert [m.value for m in MlflowClient(store).get_metric_history(run_id, "a")] == [1.0, 2.0]


def test_stage_context_and_artifact_helpers(store, experiment, tmp_path):
    import mlflow
    from mlflow.tracking import MlflowClient

    assert stage_tracking_context() is None
    assert log_json_artifact({"a": 1}, "x/y.json") is False
    assert log_metrics_flat({"a": 1.0}) == 0
    with mlflow.start_run(experiment_id=experiment) as run:
        context = stage_tracking_context()
        assert context == {"tracking_uri": store, "run_id": run.info.run_id}
        import numpy as np

        assert log_json_artifact({"ok": False, "count": np.int64(3)}, "validation/image.json")
        (tmp_path / "ckpt").mkdir()
        (tmp_path / "ckpt" / "config.json").write_text("{}")
        assert log_dir_artifacts(tmp_path / "ckpt", "checkpoints/pretrain_unimodal")
        n = log_metrics_flat({"image": {"acc": np.float32(0.5), "name": "x"}, "text": {"f1": 0.25}}, prefix="test")
        assert n == 2
    client = MlflowClient(store)
    local = client.download_artifacts(run.info.run_id, "validation/image.json", str(tmp_path / "dl"))
    assert json.loads(Path(local).read_text()) == {"ok": False, "count": 3}
    files = [f.path for f in client.list_artifacts(run.info.run_id, "checkpoints/pretrain_unimodal")]
    assert files == ["checkpoints/pretrain_unimodal/config.json"]
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics == {"test.image.acc": 0.5, "test.text.f1": 0.25}
