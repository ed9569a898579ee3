"""`dvc repro` on the tiny preset: reproduces everything, then does nothing, then only what a change touches."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pipelines.conftest import PROJECT, subprocess_env

pytestmark = pytest.mark.e2e



def run(cwd: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def ran_stages(output: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", output)


@pytest.fixture
def dvc_project(tmp_path) -> Path:
    root = tmp_path / "project"
    for item in ("conf", "pipelines", "src", "dvc.yaml", "pyproject.toml"):
        source = PROJECT / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / item)
    shutil.rmtree(root / "conf" / "local")
    # `kedro run` inside dvc.yaml uses the default (local) environment: make it the tiny preset.
    shutil.copytree(root / "conf" / "tiny", root / "conf" / "local")
    run(root, "git", "init", "-q")
    run(root, "dvc", "init", "-q")
    return root


def test_repro_reruns_only_what_changed(dvc_project):
    first = run(dvc_project, "dvc", "repro")
    assert ran_stages(first) == ["ingestion", "tokenization", "pretrain_unimodal", "pretrain_multimodal",
                                 "train_multitask", "evaluation"]
    assert (dvc_project / "dvc.lock").exists() and (dvc_project / "data/08_reporting/metrics.json").exists()

    second = run(dvc_project, "dvc", "repro")
    assert ran_stages(second) == [] and "up to date" in second

    params = dvc_project / "conf/base/parameters_pretrain_multimodal.yml"
    params.write_text(params.read_text().replace("lr: 5.0e-4", "lr: 4.0e-4"))
    third = run(dvc_project, "dvc", "repro")
    assert ran_stages(third) == ["pretrain_multimodal", "train_multitask", "evaluation"]
