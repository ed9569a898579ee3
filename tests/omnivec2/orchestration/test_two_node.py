"""Training stages on an existing two-node Ray cluster, with everything shared on S3 (the loopback server):
the token cache (`ray.token_cache_uri`), Ray Train's checkpoints (`ray.storage_path: s3://...`), the previous
stage's checkpoint (published by the driver into that storage) and the MLflow artifacts (a tracking server with
`--artifacts-destination s3://...`). The nodes have 1 CPU each and each stage asks for 2 workers of 1 CPU, so one
worker runs on each node: checked through Ray's State API.

The second node is started in a directory of its own, without the project's `data/`. Stage 1 trains into the
driver's `data/06_models/pretrain_unimodal`; stage 3 (`train_multitask`, stage 2 skipped as in the "no stage 2"
ablation: one stage that starts from a previous stage's checkpoint is what the path needs, and a third cluster
stage would add about a minute) starts from it while the driver's `data/` is renamed away for as long as the
workers run, so a worker on either node that looked for the driver's path would fail. Evaluation then reads
stage 3's result on the driver.

This is how `kedro run` joins a cluster (conf `ray.address` or RAY_ADDRESS; see README "S3 and clusters"):
`start_ray(address=...)` with the S3 settings forwarded to the job, then `run_training_stage`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter

import pytest

from omnivec2.durable_files import sha256_directory

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


@contextlib.contextmanager
def driver_data_hidden_during_fit(monkeypatch, data_dir):
    """While Ray Train's workers run (`TorchTrainer.fit`), the driver's `data/` is not where it was."""
    from ray.train.torch import TorchTrainer

    fit, hidden = TorchTrainer.fit, data_dir.with_name("data-hidden-while-workers-run")
    calls = []

    def hiding_fit(self):
        data_dir.rename(hidden)
        try:
            calls.append(self)
            return fit(self)
        finally:
            hidden.rename(data_dir)

    with monkeypatch.context() as patch:
        patch.setattr(TorchTrainer, "fit", hiding_fit)
        yield calls


def test_stages_run_across_two_nodes_with_s3_storage_and_an_mlflow_server(s3, tmp_path, monkeypatch, token_cache):
    import mlflow
    from mlflow.tracking import MlflowClient
    from ray.util.state import list_actors

    from omnivec2.orchestration.ray_runtime import start_ray, stop_ray
    from omnivec2.orchestration.storage import S3Settings, storage_environment
    from omnivec2.evaluation.evaluate import evaluate_checkpoint
    from omnivec2.tracking import ensure_experiment, log_dir_artifacts, stage_tracking_context
    from omnivec2.training.stage_runner import run_training_stage

    for name, value in S3Settings(endpoint_url=s3.endpoint, region="us-east-1", access_key_id="test",
                                  secret_access_key="test", max_attempts=5).environment().items():
        monkeypatch.setenv(name, value)  # what the RayHook exports from conf storage.s3 + credentials.yml
    monkeypatch.setenv("OMNIVEC2_TOKEN_MIRROR", str(tmp_path / "mirror"))
    bucket = s3.bucket("cluster")
    models = tmp_path / "project" / "data" / "06_models"  # the driver's project; the second node has none
    (elsewhere := tmp_path / "second-node").mkdir()
    ray_params = {"num_workers": 2, "cpus_per_worker": 1, "storage_path": f"s3://{bucket}/ray_runs",
                  "token_cache_uri": f"s3://{bucket}/tokens", "max_failures": 0, "num_to_keep": 1}
    cluster = TwoNodeCluster(cpus_per_node=1)
    previous_uri = mlflow.get_tracking_uri()
    try:
        cluster.start_head()
        with mlflow_server(tmp_path, f"s3://{bucket}/mlartifacts", storage_environment()) as tracking_uri:
            cluster.start_worker(cwd=elsewhere)
            assert start_ray(address=cluster.address, env_vars=storage_environment()) is True
            nodes = cluster.wait_for_nodes(2)
            assert len({n["NodeID"] for n in nodes}) == 2 and all(n["Resources"]["CPU"] == 1 for n in nodes)

            experiment = ensure_experiment(tracking_uri, "two-node")
            cache_root, manifests = token_cache
            with mlflow.start_run(experiment_id=experiment) as run:
                mlflow.log_params({"ray.num_workers": 2, "model.preset": "tiny"})
                summary = run_training_stage(
                    "pretrain_unimodal", {"training": TRAINING}, {"preset": "tiny"}, ray_params,
                    str(cache_root), manifests, None, stage_tracking_context(),
                    output_dir=models / "pretrain_unimodal", storage_path=f"s3://{bucket}/ray_runs")
                assert log_dir_artifacts(models / "pretrain_unimodal", "checkpoints/pretrain_unimodal")

            with driver_data_hidden_during_fit(monkeypatch, models.parent) as fits:
                final = run_training_stage(
                    "train_multitask", {"training": TRAINING}, {"preset": "tiny"}, ray_params,
                    str(cache_root), manifests, summary, None,
                    output_dir=models / "train_multitask", storage_path=f"s3://{bucket}/ray_runs")
            assert len(fits) == 1 and final["steps"] == 4
            metrics = evaluate_checkpoint(models / "train_multitask", f"s3://{bucket}/tokens", classical_max_iter=50)

            # one Ray Train worker on each node, in each stage (a node has one CPU: two workers never share one)
            workers = list_actors(address=cluster.dashboard, filters=[("class_name", "=", "RayTrainWorker")],
                                  detail=True, limit=100)
            assert sorted(Counter(w.node_id for w in workers).values()) == [2, 2], workers
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
    assert json.loads((models / "pretrain_unimodal" / "history.json").read_text())[-1]["step"] == 4
    # stage 3 started from stage 1's checkpoint, fetched from the run storage where the driver published it
    published = f"ray_runs/init_checkpoints/{sha256_directory(models / 'pretrain_unimodal')[:16]}/"
    assert {published + "model.safetensors", published + "checksums.json"} <= set(keys)
    assert final["checkpoint"] == str(models / "train_multitask")
    assert set(metrics["tasks"]) == {f"{m}/{t['name']}" for m in ("image", "tabular")
                                     for t in next(x for x in manifests if x["dataset"] == m)["tasks"]}
    assert all(entry["test_samples"] > 0 for entry in metrics["tasks"].values())
