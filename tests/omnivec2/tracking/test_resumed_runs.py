"""A killed driver's MLflow runs are ended by the next run; a resumed stage logs each step once."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from omnivec2.orchestration.process_identity import ProcessIdentity
from omnivec2.tracking import WorkerMetricLogger, driver_tags, end_dead_runs, ensure_experiment
from omnivec2.tracking.dead_runs import REASON_TAG


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import mlflow

    previous = mlflow.get_tracking_uri()
    yield f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def client_and_experiment(store):
    from mlflow.tracking import MlflowClient

    return MlflowClient(store), ensure_experiment(store, f"test-{uuid.uuid4().hex[:8]}")


def dead_process() -> ProcessIdentity:
    """The identity of a process that has exited."""
    import psutil

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(child.pid).create_time()
    child.wait()
    return ProcessIdentity(child.pid, ProcessIdentity.current().host, started)


def test_runs_of_a_dead_driver_are_marked_killed_with_the_reason(store, client_and_experiment):
    client, experiment = client_and_experiment
    dead = dead_process()
    orphan = client.create_run(experiment, tags=driver_tags(dead)).info.run_id
    stage = client.create_run(experiment, tags={**driver_tags(dead), "mlflow.parentRunId": orphan}).info.run_id
    live = client.create_run(experiment, tags=driver_tags()).info.run_id  # this process: alive
    elsewhere = client.create_run(experiment, tags=driver_tags(ProcessIdentity(dead.pid, "another-host", 0.0)))
    untagged = client.create_run(experiment).info.run_id  # opened by hand: not ours to judge
    reused = client.create_run(experiment, tags=driver_tags(  # a live pid, but not the process that started the run
        ProcessIdentity(ProcessIdentity.current().pid, dead.host, 12345.0))).info.run_id

    ended = end_dead_runs(store, experiment, found_by="the test")
    assert set(ended) == {orphan, stage, reused}
    for run_id in ended:
        run = client.get_run(run_id)
        assert run.info.status == "KILLED"
        assert f"pid {dead.pid if run_id != reused else ProcessIdentity.current().pid}" in run.data.tags[REASON_TAG]
        assert "marked KILLED by the test" in run.data.tags[REASON_TAG]
    for run_id in (live, elsewhere.info.run_id, untagged):
        assert client.get_run(run_id).info.status == "RUNNING"
    assert end_dead_runs(store, experiment) == []  # nothing left to end


def test_a_resumed_stage_logs_each_step_once(store, client_and_experiment):
    client, experiment = client_and_experiment
    history = [{"step": s, "loss": 1.0 / s, "lr": 0.1} for s in (2, 4, 6)]

    # a new run for the resumed stage: the checkpoint's steps it lacks, then the new ones
    fresh = client.create_run(experiment).info.run_id
    logger = WorkerMetricLogger({"tracking_uri": store, "run_id": fresh})
    assert logger.resume(history) == 3
    for step in (8, 10):
        logger.log({"loss": 1.0 / step, "lr": 0.1}, step)
    logger.close()
    assert [m.step for m in client.get_metric_history(fresh, "loss")] == [2, 4, 6, 8, 10]
    assert [m.step for m in client.get_metric_history(fresh, "lr")] == [2, 4, 6, 8, 10]

    # the same run, restarted from the step-6 checkpoint after step 8 was logged: 8 is not logged again
    same = client.create_run(experiment).info.run_id
    first = WorkerMetricLogger({"tracking_uri": store, "run_id": same}, flush_every=1)
    for step in (2, 4, 6, 8):
        first.log({"loss": 1.0 / step}, step)
    again = WorkerMetricLogger({"tracking_uri": store, "run_id": same})
    assert again.resume(history) == 0
    for step in (8, 10, 12):
        again.log({"loss": 99.0 if step == 8 else 1.0 / step}, step)
    again.close()
    logged = client.get_metric_history(same, "loss")
    assert [m.step for m in logged] == [2, 4, 6, 8, 10, 12]
    assert {m.step: m.value for m in logged}[8] == pytest.approx(1 / 8)  # the first value is kept
