"""`dvc repro` on the tiny preset: the stage graph chains every pipeline in order, and on a finished
run a changed parameter re-runs only the stages it touches.

The finished run is a copy of the session's `tiny_run` (one `kedro run` of the whole pipeline),
recorded in `dvc.lock` by `dvc commit`, which refuses a stage whose declared outputs are missing;
re-running every stage from scratch here as well would repeat that run's minutes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pipelines.conftest import PROJECT, copy_project, subprocess_env

pytestmark = [pytest.mark.e2e, pytest.mark.continues_tiny_run]

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


def test_repro_reruns_only_what_a_parameter_change_touches(tiny_run, tmp_path):
    project = make_dvc_project(copy_project(tiny_run.project, tmp_path / "project"))
    run(project, "dvc", "commit", "--force")  # the finished run's outputs, as the stages' results
    assert (project / "dvc.lock").exists()

    second = run(project, "dvc", "repro")
    assert ran_stages(second) == [] and "up to date" in second

    # A stage-3 parameter: the two stages that read it re-run, everything upstream is kept.
    params = project / "conf/base/parameters_train_multitask.yml"
    params.write_text(params.read_text().replace("lr: 1.0e-3", "lr: 9.0e-4", 1))
    third = run(project, "dvc", "repro")
    assert ran_stages(third) == ["train_multitask", "evaluation"]
    assert (project / "data/08_reporting/metrics.json").exists()
