"""`omnivec2 screen` in a finished run: its reference is the main job, to the last digit. Continues
from a copy of the session's tiny run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omnivec2.evaluation.headline import PRIMARY
from tests.pipelines.conftest import copy_project, subprocess_env

pytestmark = [pytest.mark.e2e, pytest.mark.continues_tiny_run]
OMNIVEC2 = str(Path(sys.executable).parent / "omnivec2")


def screen(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([OMNIVEC2, "screen", "--env", "tiny", "--set", "model.overrides.head_pooling=flatten",
                           "--seeds", "0", *args], cwd=project, env=subprocess_env(), capture_output=True, text=True,
                          timeout=900)


def test_the_reference_scores_what_the_main_job_scored_and_runs_are_reused(tiny_run, tmp_path):
    project = copy_project(tiny_run.project, tmp_path / "project")
    result = screen(project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    screened = json.loads((project / "data/09_screens/head_pooling-flatten.json").read_text())
    metrics = json.loads((project / "data/08_reporting/metrics.json").read_text())["tasks"]
    reference = screened["reference"][0]["scores"]
    scored = {task: entry for task, entry in metrics.items() if entry["kind"] in PRIMARY and task in reference}
    assert len(scored) == len(reference) >= 25  # every task but retrieval, the users' datasets' included
    for task, entry in scored.items():
        name, higher = PRIMARY[entry["kind"]]
        assert reference[task] == pytest.approx((1 if higher else -1) * entry["omnivec2"][name], abs=1e-6), task
    assert "| mean over tasks |" in result.stdout
    again = screen(project)  # both sides stored: nothing trains
    assert again.returncode == 0 and again.stdout.count("reused") == 2 and "trained" not in again.stdout


def test_an_unknown_dataset_is_refused_with_the_configured_ones(tiny_run, tmp_path):
    result = screen(copy_project(tiny_run.project, tmp_path / "project"), "--datasets", "imagez")
    assert result.returncode == 2 and "--datasets names ['imagez'], which are not configured" in result.stderr
