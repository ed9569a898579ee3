"""Fixtures for running the Kedro project for real, in a scratch copy of the project root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
KEDRO = str(Path(sys.executable).parent / "kedro")


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
