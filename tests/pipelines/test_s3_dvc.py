"""S3 round trip, configured the way a user configures it: `kedro run` ingests a table from s3:// (endpoint in
conf/local/parameters.yml `storage.s3`, keys in conf/local/credentials.yml, none in the environment), `dvc push`
sends the sample table to an S3 remote (endpointurl; keys in .dvc/config.local), the local cache and data are
wiped, `dvc pull` brings back identical bytes. The credentials never reach MLflow's parameters."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from omnivec2.data.sources import load_source
from tests.default_suite import DATASETS
from tests.omnivec2.data.test_sources import _user_frame
from tests.pipelines.conftest import make_project, subprocess_env

pytestmark = pytest.mark.e2e

SECRET = "s3cr3t-never-logged"  # moto accepts any keys; this one must not show up in MLflow


def run(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in subprocess_env().items() if not k.startswith("AWS_") and k != "MLFLOW_S3_ENDPOINT_URL"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ingest_from_s3_push_wipe_pull(tmp_path, s3):
    bucket = s3.bucket("roundtrip")
    frame = _user_frame()
    frame["label"] = [("a", "b", "c")[i % 3] for i in range(len(frame))]  # wine has three cultivars
    s3.client.put_object(Bucket=bucket, Key="raw/user.parquet", Body=frame.to_parquet())
    source = {"kind": "table", "path": f"s3://{bucket}/raw/user.parquet", "target_column": "label",
              "id_column": "id", "split_column": "part", "classes": ["a", "b", "c"]}
    root = make_project(tmp_path / "project")
    (root / "conf/local/parameters.yml").write_text(yaml.safe_dump({
        "datasets": {"tabular": {"source": source}},
        "storage": {"s3": {"endpoint_url": s3.endpoint, "region": "us-east-1", "max_attempts": 5}}}))
    (root / "conf/local/credentials.yml").write_text(yaml.safe_dump(
        {"s3": {"client_kwargs": {"aws_access_key_id": "test", "aws_secret_access_key": SECRET}}}))

    run(root, "kedro", "run", "--pipeline", "ingestion", "--tags", "tabular")
    samples = root / "data/01_raw/tabular/samples.parquet"
    expected = load_source(DATASETS["tabular"], source | {"storage_options": s3.options}, seed=0)
    pd.testing.assert_frame_equal(pd.read_parquet(samples), expected, check_dtype=False)

    run(root, "git", "init", "-q")
    run(root, "dvc", "init", "-q")
    run(root, "dvc", "add", "-q", "data/01_raw/tabular")
    run(root, "dvc", "remote", "add", "-d", "store", f"s3://{bucket}/dvcstore")
    run(root, "dvc", "remote", "modify", "store", "endpointurl", s3.endpoint)
    run(root, "dvc", "remote", "modify", "--local", "store", "access_key_id", "test")
    run(root, "dvc", "remote", "modify", "--local", "store", "secret_access_key", SECRET)
    assert SECRET not in (root / ".dvc/config").read_text()  # the keys live in the git-ignored config.local
    before = sha256(samples)
    run(root, "dvc", "push", "-q")
    assert any(k.startswith("dvcstore/files/md5/") for k in s3.keys(bucket))

    shutil.rmtree(root / ".dvc/cache")
    shutil.rmtree(root / "data/01_raw/tabular")
    run(root, "dvc", "pull", "-q")
    assert sha256(samples) == before
    dvc_md5 = yaml.safe_load((root / "data/01_raw/tabular.dvc").read_text())["outs"][0]["md5"]
    assert run(root, "dvc", "status", "-q") == "" and dvc_md5.endswith(".dir")

    with sqlite3.connect(root / "mlflow.db") as db:  # the run's parameters hold the endpoint, not the keys
        values = [value for (value,) in db.execute("select value from params")]
        tags = [value for (value,) in db.execute("select value from tags")]
    assert values and s3.endpoint in values
    assert not any(SECRET in value for value in values + tags)
