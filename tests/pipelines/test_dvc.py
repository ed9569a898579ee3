"""`dvc repro` on the tiny preset: the stage graph chains every pipeline in order. The re-run on a
finished run (a changed parameter re-runs only the stages it touches) continues from the session's
tiny run, so it lives with the other tiny-run tests in test_end_to_end.py.

The finished run is the session's `tiny_run` (one `kedro run` of the whole pipeline), recorded in
`dvc.lock` by `dvc commit`, which refuses a stage whose declared outputs are missing; re-running every
stage from scratch here as well would repeat that run's minutes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pipelines.conftest import PROJECT, subprocess_env

pytestmark = pytest.mark.e2e

STAGES = ["ingestion", "tokenization", "pretrain_unimodal", "pretrain_multimodal", "train_multitask", "evaluation"]


def run(cwd: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def ran_stages(output: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", output)


def make_dvc_project(root: Path) -> Path:
    """The project's code and DVC pipeline at `root` (which may already hold a run's outputs), with
    `kedro run`'s default environment (`local`, the one dvc.yaml's commands use) set to the tiny preset."""
    for item in ("conf", "pipelines", "src", "dvc.yaml", "pyproject.toml"):
        source, target = PROJECT / item, root / item
        if not target.exists():
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    shutil.rmtree(root / "conf" / "local")
    shutil.copytree(root / "conf" / "tiny", root / "conf" / "local")
    run(root, "git", "init", "-q")
    run(root, "dvc", "init", "-q")
    return root


def test_the_stage_graph_chains_every_pipeline(tmp_path):
    """Each stage depends on the one before it, so `dvc repro` on a fresh project runs them in order."""
    dot = run(make_dvc_project(tmp_path / "project"), "dvc", "dag", "--dot")
    edges = set(re.findall(r'"(\w+)" -> "(\w+)"', dot))
    assert set(zip(STAGES, STAGES[1:])) <= edges
    assert set(re.findall(r'^"(\w+)";$', dot, re.MULTILINE)) == set(STAGES)
