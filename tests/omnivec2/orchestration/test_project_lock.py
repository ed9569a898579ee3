"""The project lock: a second holder is refused (at once or after waiting) with a message naming the
first; a released lock is free again; the lock of a killed process is taken over, naming it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from omnivec2.orchestration.process_identity import ProcessIdentity
from omnivec2.orchestration.project_lock import HOLDER_FILE, ProjectBusyError, ProjectLock


def test_a_second_run_is_refused_naming_the_holder(tmp_path):
    with ProjectLock(tmp_path, "kedro run --pipeline=pretrain_unimodal"):
        me = ProcessIdentity.current()
        with pytest.raises(ProjectBusyError) as refused:
            ProjectLock(tmp_path, "kedro run").acquire()
        message = str(refused.value)
        assert f"pid {me.pid} on host {me.host}, started " in message
        assert "running `kedro run --pipeline=pretrain_unimodal` since " in message
        assert str(tmp_path / ".omnivec2.lock") in message
    assert not (tmp_path / HOLDER_FILE).exists()  # released: the note goes with it
    with ProjectLock(tmp_path, "kedro run") as again:  # and the lock is free
        assert again.taken_over is None


def test_a_run_may_wait_for_the_lock(tmp_path):
    with ProjectLock(tmp_path, "first"):
        started = time.monotonic()
        with pytest.raises(ProjectBusyError, match=r"\(waited 0.3 s\).*running `first`"):
            ProjectLock(tmp_path, "second", wait_seconds=0.3).acquire()
        assert time.monotonic() - started >= 0.3


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from omnivec2.orchestration.project_lock import ProjectLock; "
         f"lock = ProjectLock({str(tmp_path)!r}, 'kedro run (killed)').acquire(); print('held', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ProjectBusyError, match=f"pid {holder.pid} "):
            ProjectLock(tmp_path, "kedro run").acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with ProjectLock(tmp_path, "kedro run") as lock:  # the OS released it with the process
        assert lock.taken_over["pid"] == holder.pid and lock.taken_over["what"] == "kedro run (killed)"
        assert lock.holder()["pid"] == os.getpid()
