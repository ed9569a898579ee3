"""A training stage on an existing two-node Ray cluster, with everything shared on S3 (the loopback server):
the token cache (`ray.token_cache_uri`), Ray Train's checkpoints (`ray.storage_path: s3://...`) and the MLflow
artifacts (a tracking server with `--artifacts-destination s3://...`). The nodes have 1 CPU each and the stage
asks for 2 workers of 1 CPU, so one worker runs on each node: checked through Ray's State API.

This is how `kedro run` joins a cluster (conf `ray.address` or RAY_ADDRESS; see README "S3 and clusters"):
`start_ray(address=...)` with the S3 settings forwarded to the job, then `run_training_stage`.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.mlflow_server import mlflow_server
from tests.omnivec2.orchestration.ray_cluster import TwoNodeCluster

pytestmark = pytest.mark.e2e

TRAINING = {"steps": 4, "batch_size": 8, "log_every": 2, "checkpoint_every": 2, "seed": 0}


@pytest.fixture
def token_cache(tmp_path):
    from omnivec2.data.sources import load_source
    from tests.default_suite import DATASETS
    from omnivec2.tokens.cache import build_token_cache

    root = tmp_path / "tokens"
    manifests = [build_token_cache(load_source(DATASETS[m], DATASETS[m].source, 0), DATASETS[m], root)
                 for m in ("image", "tabular")]
    return root, manifests


def test_stage_runs_across_two_nodes_with_s3_storage_and_an_mlflow_server(s3, tmp_path, monkeypatch, token_cache):
    import mlflow
    from mlflow.tracking import MlflowClient
    from ray.util.state import list_actors

    from omnivec2.orchestration.ray_runtime import start_ray, stop_ray
    from omnivec2.orchestration.storage import S3Settings, storage_environment
    from omnivec2.tracking import ensure_experiment, log_dir_artifacts, stage_tracking_context
    from omnivec2.training.stage_runner import run_training_stage

    for name, value in S3Settings(endpoint_url=s3.endpoint, region="us-east-1", access_key_id="test",
                                  secret_access_key="test", max_attempts=5).environment().items():
        monkeypatch.setenv(name, value)  # what the RayHook exports from conf storage.s3 + credentials.yml
    monkeypatch.setenv("OMNIVEC2_TOKEN_MIRROR", str(tmp_path / "mirror"))
    bucket = s3.bucket("cluster")
    cluster = TwoNodeCluster(cpus_per_node=1)
    previous_uri = mlflow.get_tracking_uri()
    try:
        cluster.start_head()
        with mlflow_server(tmp_path, f"s3://{bucket}/mlartifacts", storage_environment()) as tracking_uri:
            cluster.start_worker()
            assert start_ray(address=cluster.address, env_vars=storage_environment()) is True
            nodes = cluster.wait_for_nodes(2)
            assert len({n["NodeID"] for n in nodes}) == 2 and all(n["Resources"]["CPU"] == 1 for n in nodes)

            experiment = ensure_experiment(tracking_uri, "two-node")
            cache_root, manifests = token_cache
            with mlflow.start_run(experiment_id=experiment) as run:
                mlflow.log_params({"ray.num_workers": 2, "model.preset": "tiny"})
                summary = run_training_stage(
                    "pretrain_unimodal", {"training": TRAINING},
                    {"preset": "tiny"},
                    {"num_workers": 2, "cpus_per_worker": 1, "storage_path": f"s3://{bucket}/ray_runs",
                     "token_cache_uri": f"s3://{bucket}/tokens", "max_failures": 0, "num_to_keep": 1},
                    str(cache_root), manifests, None, stage_tracking_context(),
                    output_dir=tmp_path / "out", storage_path=f"s3://{bucket}/ray_runs")
                assert log_dir_artifacts(tmp_path / "out", "checkpoints/pretrain_unimodal")

            # one Ray Train worker on each node
            workers = list_actors(address=cluster.dashboard, filters=[("class_name", "=", "RayTrainWorker")],
                                  detail=True, limit=100)
            assert {w.node_id for w in workers} == {n["NodeID"] for n in nodes}, workers

            # metrics from the rank-0 worker (on whichever node) reached the server; artifacts landed in S3
            client = MlflowClient(tracking_uri)
            assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [2, 4]
            downloaded = client.download_artifacts(run.info.run_id, "checkpoints/pretrain_unimodal/history.json",
                                                   str(tmp_path / "dl"))  # read back through the server
            assert json.loads(open(downloaded).read())[-1]["step"] == 4
            assert client.get_run(run.info.run_id).data.params["ray.num_workers"] == "2"
            keys = s3.keys(bucket)
            assert any(k.endswith("checkpoints/pretrain_unimodal/model.safetensors") and k.startswith("mlartifacts/")
                       for k in keys)
    finally:
        stop_ray()
        cluster.stop()
        mlflow.set_tracking_uri(previous_uri)

    assert summary["steps"] == 4 and summary["final_loss"] is not None
    # the token cache and Ray's checkpoints are on S3; the checkpoint read back from there is the stage's output
    assert "tokens/image/manifest.json" in keys and "tokens/tabular/train/part-00000.arrow" in keys
    run_dir = f"ray_runs/{summary['ray_run']}/"
    stored = [k for k in keys if k.startswith(run_dir) and k.endswith("/model.safetensors")]
    assert len(stored) == 1, stored  # num_to_keep=1
    remote = s3.client.get_object(Bucket=bucket, Key=stored[0])["Body"].read()
    assert hashlib.sha256(remote).hexdigest() == summary["checkpoint_sha256"]
    assert json.loads((tmp_path / "out" / "history.json").read_text())[-1]["step"] == 4
