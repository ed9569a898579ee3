"""omnivec2.tracking.dvc_runs: what DVC's variables say, which `dvc` process runs a stage, and the
parent run that groups one invocation's stages (on a sqlite store in tmp_path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omnivec2.orchestration.process_identity import ProcessIdentity
from omnivec2.tracking import ensure_experiment
from omnivec2.tracking.dvc_runs import DvcInvocation, dvc_parent_run, dvc_process, end_dvc_stage, store_root

EXP = {"DVC_STAGE": "train_multitask", "DVC_ROOT": "/projects/omnivec2", "DVC_EXP_NAME": "fuzzy-lamb",
       "DVC_EXP_BASELINE_REV": "a" * 40}
DVC = ProcessIdentity(pid=4242, host="here", started=1700000000.5)


def test_outside_dvc_there_is_no_invocation_and_the_store_is_the_project_s(tmp_path):
    assert DvcInvocation.from_environment({"DVC_ROOT": "/elsewhere"}) is None
    assert store_root(tmp_path, {"DVC_ROOT": "/elsewhere"}) == tmp_path.resolve()


def test_an_experiment_s_stage_is_tagged_with_its_name_stage_and_baseline():
    invocation = DvcInvocation.from_environment(EXP, invoker=DVC)
    assert invocation.tags("b" * 40) == {
        "dvc.stage": "train_multitask", "dvc.exp_name": "fuzzy-lamb", "dvc.baseline_rev": "a" * 40,
        "dvc.root": "/projects/omnivec2", "dvc.group": "here:4242:1700000000.500"}


def test_dvc_repro_has_no_experiment_name_and_its_baseline_is_the_commit():
    invocation = DvcInvocation.from_environment({"DVC_STAGE": "evaluation", "DVC_ROOT": "/p"}, invoker=DVC)
    tags = invocation.tags("b" * 40)
    assert "dvc.exp_name" not in tags and tags["dvc.baseline_rev"] == "b" * 40 and tags["dvc.stage"] == "evaluation"


def test_a_queued_experiment_s_store_is_the_original_project_s(tmp_path):
    copy = tmp_path / ".dvc" / "tmp" / "exps" / "tmp123"
    assert store_root(copy, {**EXP, "DVC_ROOT": str(tmp_path)}) == tmp_path.resolve()


def test_the_dvc_process_is_the_nearest_ancestor_named_dvc(tmp_path):
    """A program called `dvc` starts a shell that starts Python: that Python finds the `dvc` process."""
    fake = tmp_path / "bin" / "dvc"
    fake.parent.mkdir()
    probe = ("import json; from omnivec2.tracking.dvc_runs import dvc_process; p = dvc_process(); "
             "print(json.dumps(p and p.to_dict()))")
    fake.write_text(f"#!{sys.executable}\nimport os, subprocess, sys\nprint(os.getpid())\nsys.stdout.flush()\n"
                    f"subprocess.run(['/bin/sh', '-c', {sys.executable!r} + ' -c ' + repr({probe!r})], check=True)\n")
    fake.chmod(0o755)
    out = subprocess.run([str(fake)], capture_output=True, text=True, check=True, timeout=60).stdout.split("\n")
    found = json.loads(out[1])
    assert found["pid"] == int(out[0])
    assert dvc_process() is None  # pytest was not started by dvc


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    return uri, ensure_experiment(uri, "dvc-runs")


def test_the_stages_of_one_invocation_share_a_parent_and_another_invocation_gets_its_own(store):
    from mlflow.tracking import MlflowClient

    uri, experiment = store
    first = DvcInvocation.from_environment({**EXP, "DVC_STAGE": "ingestion"}, invoker=DVC)
    second = DvcInvocation.from_environment(EXP, invoker=DVC)
    parent = dvc_parent_run(uri, experiment, first)
    end_dvc_stage(uri, parent, "FINISHED")
    assert dvc_parent_run(uri, experiment, second) == parent
    run = MlflowClient(uri).get_run(parent)
    assert run.info.run_name == "fuzzy-lamb" and run.info.status == "RUNNING"
    assert run.data.tags["dvc.exp_name"] == "fuzzy-lamb" and "dvc.stage" not in run.data.tags
    assert run.data.tags["omnivec2.driver.pid"] == "4242"  # a killed dvc leaves it to end_dead_runs

    other = DvcInvocation.from_environment(EXP, invoker=ProcessIdentity(4243, "here", 1700000001.0))
    assert dvc_parent_run(uri, experiment, other) != parent


def test_a_failed_stage_leaves_its_parent_failed(store):
    from mlflow.tracking import MlflowClient

    uri, experiment = store
    invocation = DvcInvocation.from_environment({"DVC_STAGE": "ingestion", "DVC_ROOT": "/p"}, invoker=DVC)
    parent = dvc_parent_run(uri, experiment, invocation)
    end_dvc_stage(uri, parent, "FAILED")
    assert dvc_parent_run(uri, experiment, invocation) == parent
    end_dvc_stage(uri, parent, "FINISHED")
    run = MlflowClient(uri).get_run(parent)
    assert run.info.status == "FAILED" and run.info.run_name == "dvc repro"
