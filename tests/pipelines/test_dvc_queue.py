"""`dvc exp run --queue` on a toy project that logs through the project's own MlflowHook: two queued
experiments with different `-S` values, run by two queue workers at once, both appear in `dvc exp show`
with their metrics and in the project's MLflow store (not their temporary copies'), tagged with their
experiment names and grouped one parent per experiment; the store is intact after the concurrent writes,
and so are both experiments' outputs in the shared DVC cache.

The toy project has the real one's shape (two DVC stages, each `kedro run --pipeline NAME --env base`,
a relative `sqlite:///mlflow.db`) but runs in seconds; the real pipeline's stage graph and re-runs are
test_dvc.py's.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.pipelines.test_dvc import run

pytestmark = pytest.mark.e2e  # real dvc and kedro processes, about 80 s on a loaded 2-core machine

FILES = {
    "pyproject.toml": """\
[tool.kedro]
package_name = "toy"
project_name = "toy"
kedro_init_version = "1.7.0"
source_dir = "."
""",
    "toy/__init__.py": "",
    "toy/settings.py": """\
from omnivec2.env import apply_quiet_environment

apply_quiet_environment()

from pipelines.hooks import MlflowHook  # noqa: E402  the project's own hook

HOOKS = (MlflowHook(),)
CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}
""",
    "toy/nodes.py": """\
import mlflow


def prepare(params):
    return {"lr": params["lr"]}


def score(prepared):
    value = round(2 * prepared["lr"], 6)
    mlflow.log_metric("score", value)  # into the node's own (nested) run
    return {"score": value}
""",
    "toy/pipeline_registry.py": """\
from kedro.pipeline import Node, Pipeline

from toy.nodes import prepare, score


def register_pipelines():
    pipelines = {
        "prepare": Pipeline([Node(prepare, "params:toy", "prepared", name="prepare")]),
        "score": Pipeline([Node(score, "prepared", "metrics", name="score", tags=["mlflow_stage", "stage.score"])]),
    }
    pipelines["__default__"] = pipelines["prepare"] + pipelines["score"]
    return pipelines
""",
    "conf/base/parameters.yml": """\
mlflow:
  tracking_uri: sqlite:///mlflow.db
  experiment_name: toy
toy:
  lr: 0.1
""",
    "conf/base/catalog.yml": """\
prepared:
  type: json.JSONDataset
  filepath: data/prepared.json
metrics:
  type: json.JSONDataset
  filepath: data/metrics.json
""",
    "conf/local/.gitkeep": "",
    ".gitignore": "mlflow.db\nmlflow.db.lock\nmlartifacts/\n",
    "dvc.yaml": """\
stages:
  prepare:
    cmd: kedro run --pipeline prepare --env base
    deps: [toy/nodes.py]
    params:
      - conf/base/parameters.yml:
          - toy
    outs: [data/prepared.json]
  score:
    cmd: kedro run --pipeline score --env base
    deps: [data/prepared.json, toy/nodes.py]
    metrics:
      - data/metrics.json:
          cache: false
""",
}
EXPERIMENTS = {"lr-small": 0.1, "lr-large": 0.3}


def make_toy_project(root: Path) -> Path:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    run(root, "git", "init", "-q")
    run(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty")
    run(root, "dvc", "init", "-q")
    run(root, "git", "add", "-A")
    run(root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "toy")
    return root


def wait_for_queue(project: Path, timeout: float = 600) -> str:
    """`dvc queue status` once nothing is queued or running (the workers run in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        status = run(project, "dvc", "queue", "status")
        if not any(state in status for state in ("Queued", "Running")):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(2)


def test_two_queued_experiments_run_by_two_workers_reach_dvc_and_the_project_s_mlflow_store(tmp_path):
    from mlflow.tracking import MlflowClient

    project = make_toy_project(tmp_path / "toy")
    for name, lr in EXPERIMENTS.items():
        run(project, "dvc", "exp", "run", "--queue", "-n", name, "-S", f"conf/base/parameters.yml:toy.lr={lr}")
    run(project, "dvc", "queue", "start", "-j", "2")
    try:
        status = wait_for_queue(project)
    finally:
        run(project, "dvc", "queue", "stop")
    assert "Failed" not in status, status + run(project, "dvc", "queue", "logs", "lr-small")

    table = list(csv.DictReader(io.StringIO(run(project, "dvc", "exp", "show", "--csv"))))
    rows = {row["Experiment"]: row for row in table if row["Experiment"] in EXPERIMENTS}
    assert set(rows) == set(EXPERIMENTS), table
    for name, lr in EXPERIMENTS.items():  # each experiment's metric from its own parameter
        assert float(rows[name]["score"]) == round(2 * lr, 6) and float(rows[name]["toy.lr"]) == lr

    db = project / "mlflow.db"
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    client = MlflowClient(f"sqlite:///{db}")
    experiment = client.get_experiment_by_name("toy")
    runs = client.search_runs([experiment.experiment_id])
    for name, lr in EXPERIMENTS.items():
        mine = [r for r in runs if r.data.tags.get("dvc.exp_name") == name]
        (parent,) = [r for r in mine if "mlflow.parentRunId" not in r.data.tags]
        assert parent.info.run_name == name and parent.info.status == "FINISHED"
        kedro_runs = [r for r in mine if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(r.data.tags["dvc.stage"] for r in kedro_runs) == ["prepare", "score"]
        assert {r.data.tags["kedro.env"] for r in kedro_runs} == {"base"}
        (score_run,) = [r for r in mine if r.data.metrics]
        assert score_run.data.metrics["score"] == round(2 * lr, 6)
        assert score_run.data.tags["mlflow.parentRunId"] in {r.info.run_id for r in kedro_runs}
        assert all(r.info.status == "FINISHED" for r in mine) and len(mine) == 4
    assert len(runs) == 8  # nothing else, nothing twice

    # Both workers committed their outputs to the one DVC cache: each experiment's come back intact.
    for name, lr in EXPERIMENTS.items():
        run(project, "dvc", "exp", "apply", name)
        assert json.loads((project / "data/prepared.json").read_text()) == {"lr": lr}
        assert json.loads((project / "data/metrics.json").read_text()) == {"score": round(2 * lr, 6)}
