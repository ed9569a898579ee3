"""`ProjectLockHook`: one `kedro run` at a time per project directory (`omnivec2.orchestration.project_lock`).

Taken first at pipeline start (before the run's checks, Ray and MLflow), released last at its end or
error. A second run is refused at once with a message naming the holder; `OMNIVEC2_LOCK_WAIT=<seconds>`
makes it wait that long first. A killed run's lock is free again (the OS releases it) and is taken
over, with a warning naming the run that died holding it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from omnivec2.orchestration.project_lock import ProjectLock

logger = logging.getLogger(__name__)

WAIT_ENV = "OMNIVEC2_LOCK_WAIT"


class ProjectLockHook:
    def __init__(self) -> None:
        self._project_root: Path | None = None
        self._lock: ProjectLock | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._project_root = Path(context.project_path)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        from pipelines.hooks.mlflow_hook import kedro_command

        # A run of this process whose start failed in a later hook (Kedro calls no end hook then) still
        # holds it: the kedro CLI exits and the OS releases it; a next session in this process does here.
        self._release()
        root = Path(run_params.get("project_path") or self._project_root or Path.cwd())
        try:
            wait = float(os.environ.get(WAIT_ENV) or 0)
        except ValueError:
            raise ValueError(f"{WAIT_ENV}={os.environ[WAIT_ENV]!r}: expected a number of seconds") from None
        self._lock = ProjectLock(root, kedro_command(run_params), wait_seconds=wait).acquire()
        if self._lock.taken_over:
            note = self._lock.taken_over
            logger.warning("took over the project lock of a run that ended without releasing it: pid %s on %s, "
                           "`%s` since %s", note.get("pid"), note.get("host"), note.get("what"), note.get("since_utc"))

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        self._release()

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
