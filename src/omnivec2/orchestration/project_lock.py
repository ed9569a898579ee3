"""One run at a time per project directory: an OS file lock plus a note of who holds it.

Two runs in one project (a person and a scheduled job) share the token cache, the checkpoint
folders, Ray Train's run storage and `mlflow.db`; one could delete or replace what the other is
reading. So a run takes `<project>/.omnivec2.lock` for its whole length and a second one is
refused at once, or after waiting `wait_seconds`, with a message naming the holder (pid, host,
start time, pipeline) read from `<project>/.omnivec2.lock.json`.

The lock is `filelock.FileLock` (fcntl/flock on POSIX): the operating system releases it when its
process ends, however it ends, so a killed run's lock is taken over by the next run without anyone
removing a file; the note it left is then stale and is replaced. Such locks work on local disks;
a project on a network filesystem without flock support needs one run at a time by other means.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from filelock import FileLock, Timeout

from omnivec2.durable_files import replace_atomically
from omnivec2.orchestration.process_identity import ProcessIdentity

LOCK_FILE, HOLDER_FILE = ".omnivec2.lock", ".omnivec2.lock.json"


class ProjectBusyError(RuntimeError):
    """Another run holds the project's lock; the message names it."""


class ProjectLock:
    def __init__(self, project: str | Path, what: str, wait_seconds: float = 0.0) -> None:
        """`what`: what this run is (e.g. the kedro command), shown to a run that finds the lock taken."""
        self.project = Path(project)
        self.what, self.wait_seconds = what, float(wait_seconds)
        self._lock = FileLock(str(self.project / LOCK_FILE), timeout=self.wait_seconds)
        self.taken_over: dict | None = None  # the stale note of a holder that died, if any

    @property
    def holder_file(self) -> Path:
        return self.project / HOLDER_FILE

    def holder(self) -> dict | None:
        """The note of the run that took the lock last (it may have died since), or None."""
        try:
            return json.loads(self.holder_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return None

    def acquire(self) -> "ProjectLock":
        try:
            self._lock.acquire()
        except Timeout:
            raise ProjectBusyError(self._busy_message()) from None
        previous = self.holder()
        if previous and previous.get("pid") is not None:
            self.taken_over = previous  # the lock was free, so its last holder is gone
        note = {**ProcessIdentity.current().to_dict(), "what": self.what, "since": time.time(),
                "since_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        replace_atomically(self.holder_file, json.dumps(note, indent=2).encode())
        return self

    def release(self) -> None:
        if self._lock.is_locked:
            self.holder_file.unlink(missing_ok=True)
            self._lock.release()

    def __enter__(self) -> "ProjectLock":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()

    def _busy_message(self) -> str:
        note = self.holder()
        if note:
            try:
                who = ProcessIdentity.from_dict(note).describe()
            except (KeyError, TypeError, ValueError):
                who = "a process whose note is unreadable"
            holder = f"{who}, running `{note.get('what')}` since {note.get('since_utc')}"
        else:
            holder = "a process that has not written its note yet"
        waited = f" (waited {self.wait_seconds:g} s)" if self.wait_seconds > 0 else ""
        return (f"another run holds this project{waited}: {holder}. Two runs in one project directory would share "
                f"its token cache, checkpoints and mlflow.db. Wait for it to finish (OMNIVEC2_LOCK_WAIT=<seconds> "
                f"waits), or run in another copy of the project (as `dvc exp run --queue` workers do). "
                f"Lock: {self.project / LOCK_FILE}")
