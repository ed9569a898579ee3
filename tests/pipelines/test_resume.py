"""A killed `kedro run` resumes: the interrupted stage continues from its latest Ray checkpoint and
the stages that had finished are not redone; the killed run's MLflow runs are marked KILLED by the
next run, and the resumed stage's run holds each step's metrics once. Continues from a copy of the
session's tiny run."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time

import pandas as pd
import psutil
import pytest

from omnivec2.tracking.dead_runs import PID_TAG, REASON_TAG
from omnivec2.training.stage_runner import RUN_RECORD_KEYS
from tests.pipelines.conftest import KEDRO, copy_project, kedro, subprocess_env

pytestmark = [pytest.mark.e2e, pytest.mark.continues_tiny_run]

# Kill the driver (`kedro run`) in the middle of a training stage, then run again with
# `--only-missing-outputs`: the interrupted stage resumes from its latest Ray checkpoint and the
# stages that had finished (ingestion, tokenization, stage 1) are not redone.
# 
# It starts from a copy of the session's finished tiny run without stage 2 and what follows it
# (`copy_project` leaves every Ray run behind), so only stage 2 trains.
# 
# The worker is held at step 8 of stage 2 by the fault hook (`action: pause`, via the environment
# variable `OMNIVEC2_FAULT_INJECTION`), so the kill lands mid-stage at a known point, after the step-6
# checkpoint; the kill itself is a plain SIGKILL of the kedro process from outside.

RESUMED_STAGE = "pretrain_multimodal"
# Up to stage 2 only, to keep the test short; the whole pipeline resumes the same way.
RESUME_RUN = ("run", "--env", "tiny", "--to-nodes", RESUMED_STAGE, "--only-missing-outputs")
UNFINISHED = ("data/06_models/pretrain_multimodal*", "data/06_models/train_multitask*",
              "data/08_reporting/curves/pretrain_multimodal.csv", "data/08_reporting/curves/train_multitask.csv",
              "data/08_reporting/timings/pretrain_multimodal.json", "data/08_reporting/timings/train_multitask.json")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stop_leftovers(processes: list[psutil.Process]) -> list[str]:
    """Processes of the killed run still alive after a grace period, killed by PID; returns them."""
    _, alive = psutil.wait_procs(processes, timeout=10)
    names = []
    for process in alive:
        try:
            names.append(f"{process.pid} {process.name()}")
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    return names


def check_mlflow_runs(project, killed_pid: int) -> None:
    """The killed driver's runs (the `kedro run` and its stage) are KILLED with the reason; the resumed
    stage's run FINISHED with each logged step once: 2..12, the checkpoint's steps and the new ones."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{project}/mlflow.db")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=1000)
    killed = [r for r in runs if r.data.tags.get(PID_TAG) == str(killed_pid)]
    assert len(killed) == 2, [(r.info.run_name, r.info.status) for r in runs]  # the run and its stage 2 run
    for run in killed:
        assert run.info.status == "KILLED", run.info
        assert f"pid {killed_pid}" in run.data.tags[REASON_TAG] and "ended without closing" in run.data.tags[REASON_TAG]
    stage_runs = [r for r in runs if r.data.tags.get("omnivec2.stage") == RESUMED_STAGE]
    resumed = [r for r in stage_runs if r not in killed]
    assert [r.info.status for r in resumed] == ["FINISHED"]
    for run in stage_runs:  # each logged step once, in either run
        for key in ("loss", "lr"):
            steps = [m.step for m in client.get_metric_history(run.info.run_id, key)]
            assert len(steps) == len(set(steps)), (run.info.status, key, steps)
    assert sorted(m.step for m in client.get_metric_history(resumed[0].info.run_id, "loss")) == [2, 4, 6, 8, 10, 12]


def test_a_killed_driver_resumes_the_interrupted_stage_and_skips_finished_ones(tiny_run, tmp_path):
    project = copy_project(tiny_run.project, tmp_path / "project", without=UNFINISHED)
    signal_file = tmp_path / "paused"
    fault = {"stage": RESUMED_STAGE, "at_step": 8, "action": "pause", "seconds": 600,
             "marker": str(tmp_path / "fired"), "signal_file": str(signal_file)}
    env = subprocess_env(OMNIVEC2_FAULT_INJECTION=json.dumps(fault))
    log = open(tmp_path / "first-run.log", "w")
    driver = subprocess.Popen([KEDRO, *RESUME_RUN], cwd=project, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    descendants: list[psutil.Process] = []
    launched = time.time()
    try:
        deadline = time.time() + 400
        while not signal_file.exists():
            assert driver.poll() is None, (tmp_path / "first-run.log").read_text()[-3000:]
            assert time.time() < deadline, "stage 2 never reached step 8"
            time.sleep(0.5)
        time.sleep(2.0)  # Ray registers the step-6 checkpoint within a poll (0.2 s) of its report
        descendants = psutil.Process(driver.pid).children(recursive=True)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
        log.close()
        leftovers = stop_leftovers(descendants)
    print(f"killed the driver {time.time() - launched:.1f} s after launch; processes of the killed run "
          f"still alive 10 s later (stopped by PID): {leftovers}")

    models = project / "data" / "06_models"
    finished = {name: (sha256(models / "pretrain_unimodal" / name), (models / "pretrain_unimodal" / name).stat().st_mtime_ns)
                for name in ("model.safetensors", "trainer.safetensors")}
    stage1_summary = (models / "pretrain_unimodal.json").read_text()
    assert not (models / RESUMED_STAGE).exists() and not (models / f"{RESUMED_STAGE}.json").exists()  # interrupted mid-stage
    assert list((models / "ray_runs").glob(f"{RESUMED_STAGE}-*/checkpoint_*"))  # ... with checkpoints in Ray storage

    started = time.time()
    result = kedro(project, *RESUME_RUN)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    print(f"rerun: {time.time() - started:.1f} s")
    (tmp_path / "rerun.log").write_text(output)

    assert f"{RESUMED_STAGE}: resumed at step 6 of 12 from the latest checkpoint" in output
    summary = json.loads((models / f"{RESUMED_STAGE}.json").read_text())
    timings = json.loads((project / f"data/08_reporting/timings/{RESUMED_STAGE}.json").read_text())
    assert timings["resumed_at_steps"] == [6] and summary["steps"] == 12
    # what stage 3 depends on (DVC) holds no timings: the same result does not re-run what follows
    assert not set(RUN_RECORD_KEYS) & set(summary) and timings["wall_seconds"] > 0
    check_mlflow_runs(project, killed_pid=driver.pid)
    assert list(pd.read_csv(project / f"data/08_reporting/curves/{RESUMED_STAGE}.csv")["step"]) == [2, 4, 6, 8, 10, 12]
    # Finished work is not redone: ingestion, tokenization and stage 1 were skipped, files untouched.
    for name, (digest, mtime) in finished.items():
        path = models / "pretrain_unimodal" / name
        assert (sha256(path), path.stat().st_mtime_ns) == (digest, mtime)
    assert (models / "pretrain_unimodal.json").read_text() == stage1_summary
    assert f"Running node: {RESUMED_STAGE}" in output
    assert "pretrain_unimodal: resumed" not in output and "Running node: pretrain_unimodal" not in output
    assert (models / RESUMED_STAGE / "model.safetensors").exists()
