"""Fixtures for running the Kedro project for real, in a scratch copy of the project root.

`tiny_run` is the session's one whole-pipeline run on the tiny preset (the default suite plus users'
datasets declared in YAML); the tests that only read a run's outputs read it, and the tests that
continue from a finished run (DVC re-runs, a resumed stage) work on a `copy_project` of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from tests.default_suite import DATASETS
from tests.pipelines import user_datasets

PROJECT = Path(__file__).resolve().parents[2]
KEDRO = str(Path(sys.executable).parent / "kedro")
LOG_NAME = "kedro_run.log"  # the tiny run's stdout and stderr, beside its project


def make_project(root: Path) -> Path:
    """A runnable project at `root`: the real conf/ and pyproject (code comes from the installed packages)."""
    shutil.copytree(PROJECT / "conf", root / "conf")
    for leftover in (root / "conf" / "local").glob("*.yml"):
        leftover.unlink()  # the developer's own local config must not leak into tests
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    return root


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a project command: this venv first on PATH, and nothing that would point it at
    another MLflow store or Ray cluster than the scratch project's own."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "RAY_ADDRESS")}
    env.update(PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", PYTHONUNBUFFERED="1", **extra)
    return env


def kedro(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = subprocess_env()
    return subprocess.run([KEDRO, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "project")


@dataclass(frozen=True)
class TinyRun:
    """A finished `kedro run --env tiny` and what it was given."""

    project: Path
    user_data: Path  # the users' files the YAML entries point at
    user: dict  # the users' `datasets:` entries, by name

    @property
    def log(self) -> str:
        """Everything the run printed: stdout, then stderr (Ray forwards the workers' prints)."""
        return (self.project.parent / LOG_NAME).read_text()

    @property
    def tasks_of(self) -> dict[str, list[str]]:
        """Every dataset's task names: the default suite's and the users'."""
        return {name: [t.name for t in spec.tasks] for name, spec in DATASETS.items()} | {
            name: list(entry["tasks"]) for name, entry in self.user.items()}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, worker_id) -> TinyRun:
    """The whole pipeline once per test session: `kedro run --env tiny` with real Ray Train workers,
    MLflow, GX and the token cache, on the default suite plus users' datasets (user_datasets.py).

    Under `pytest -n 2` both workers share it: the first to ask runs it while holding a file lock in
    the session's shared temporary folder, the other waits on the lock and reads the recorded outcome
    (a failed run fails both, without a second attempt)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    root = shared / "tiny_run"
    with FileLock(str(shared / "tiny_run.lock")):
        outcome = root / "outcome.json"
        if not outcome.exists():
            outcome.write_text(json.dumps(_run_tiny_pipeline(root)))
        recorded = json.loads(outcome.read_text())
    assert recorded["returncode"] == 0, recorded["output"]
    return TinyRun(root / "project", root / "user_data", recorded["user"])


def _run_tiny_pipeline(root: Path) -> dict:
    """-> {"returncode", "output" (its tail), "user" (the users' entries)}; a timeout counts as a failure."""
    root.mkdir(parents=True, exist_ok=True)
    project = make_project(root / "project")
    user = user_datasets.declare(project, root / "user_data")
    try:
        result = kedro(project, "run", "--env", "tiny", timeout=1500)  # minutes on a loaded 2-core machine
    except subprocess.TimeoutExpired as timeout:
        return {"returncode": -1, "output": f"timed out after {timeout.timeout} s", "user": user}
    (root / LOG_NAME).write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)  # the whole log, for tests
    return {"returncode": result.returncode, "output": result.stdout[-3000:] + result.stderr[-5000:], "user": user}


def copy_project(source: Path, target: Path, without: tuple[str, ...] = ()) -> Path:
    """A copy of a finished project to continue from, minus its MLflow store (a copied store would
    still log artifacts into the source's folder, whose path it records), the finished stages' Ray
    storage (half of a tiny run's bytes; a stage that runs again in the copy starts a Ray run of its
    own) and the `without` paths (globs relative to the project)."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("mlflow.db", "mlartifacts", "ray_runs"))
    for pattern in without:
        for path in target.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return target
