"""MLflow runs of DVC stages: tags naming the DVC experiment and stage, one parent run per `dvc repro` /
`dvc exp run`, and the project's own store even when DVC runs a stage in a temporary copy.

What DVC 3.67 exports to every stage command (read in its source, `dvc/stage/run.py` and
`dvc/repo/experiments/queue/base.py`):
- ``DVC_STAGE``: the stage's name, for every command it runs;
- ``DVC_ROOT``: the repository's root; under `dvc exp run` (queued or temporary) the *original*
  project's root, although the command runs in a copy under ``.dvc/tmp/exps``;
- under `dvc exp run` only: ``DVC_EXP_NAME`` (the experiment's name) and ``DVC_EXP_BASELINE_REV`` (the
  commit it starts from).

DVC exports nothing that tells one `dvc repro` from the next, so the stages of one invocation are
grouped by the `dvc` process that runs them: the nearest ancestor process whose command is `dvc`
(`dvc repro`, `dvc exp run`, or the `dvc exp exec-run` a queue worker starts per experiment), known
by its pid, host and start time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from omnivec2.orchestration.process_identity import ProcessIdentity

logger = logging.getLogger(__name__)

STAGE_TAG, EXP_TAG, BASELINE_TAG, ROOT_TAG = "dvc.stage", "dvc.exp_name", "dvc.baseline_rev", "dvc.root"
GROUP_TAG, PARENT_TAG = "dvc.group", "dvc.parent"  # the invocation's key; "true" on its parent run


def dvc_process() -> ProcessIdentity | None:
    """The nearest ancestor process whose command is `dvc` (its program, `python .../dvc` or
    `python -m dvc`), or None when this process was not started by DVC."""
    import socket

    import psutil

    try:
        process = psutil.Process().parent()
        while process is not None:
            try:
                argv = process.cmdline()
            except (psutil.AccessDenied, psutil.ZombieProcess):
                argv = []
            if any(Path(arg).name == "dvc" for arg in argv[:3]):
                return ProcessIdentity(process.pid, socket.gethostname(), process.create_time())
            process = process.parent()
    except psutil.NoSuchProcess:
        return None
    return None


@dataclass(frozen=True)
class DvcInvocation:
    """The DVC stage this process runs for, and the `dvc` invocation it belongs to."""

    stage: str
    root: Path
    exp_name: str | None = None
    baseline_rev: str | None = None
    invoker: ProcessIdentity | None = None  # the `dvc` process running the stage

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None,
                         invoker: ProcessIdentity | None = None) -> "DvcInvocation | None":
        """The invocation DVC's variables describe, or None outside a DVC stage (no ``DVC_STAGE``)."""
        environ = os.environ if environ is None else environ
        stage = environ.get("DVC_STAGE", "").strip()
        if not stage:
            return None
        root = environ.get("DVC_ROOT", "").strip()
        return cls(stage=stage, root=Path(root or Path.cwd()).resolve(),
                   exp_name=environ.get("DVC_EXP_NAME") or None,
                   baseline_rev=environ.get("DVC_EXP_BASELINE_REV") or None,
                   invoker=invoker or dvc_process())

    @property
    def group(self) -> str:
        """The key shared by the stages of one `dvc repro` / `dvc exp run`."""
        if self.invoker is not None:
            return f"{self.invoker.host}:{self.invoker.pid}:{self.invoker.started:.3f}"
        return f"exp:{self.exp_name}@{self.baseline_rev}" if self.exp_name else f"root:{self.root}"

    def tags(self, commit: str | None = None) -> dict[str, str]:
        """The stage's tags; ``commit`` (git HEAD) stands for the baseline outside `dvc exp run`."""
        tags = {STAGE_TAG: self.stage, ROOT_TAG: str(self.root), GROUP_TAG: self.group,
                BASELINE_TAG: self.baseline_rev or commit or "unknown"}
        if self.exp_name:
            tags[EXP_TAG] = self.exp_name
        return tags


def store_root(project_root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where a relative MLflow store (``sqlite:///mlflow.db``) lives: the original project's root under
    DVC (``DVC_ROOT``: `dvc exp run --queue` runs the stage in a temporary copy that is deleted
    afterwards), else the Kedro project's root. Assumes the Kedro project is the DVC repository's root."""
    environ = os.environ if environ is None else environ
    if environ.get("DVC_STAGE") and environ.get("DVC_ROOT", "").strip():
        return Path(environ["DVC_ROOT"]).resolve()
    return Path(project_root).resolve()


def dvc_parent_run(tracking_uri: str, experiment_id: str, invocation: DvcInvocation, commit: str | None = None) -> str:
    """The id of the invocation's parent run (made by its first stage, named after the experiment or
    `dvc repro`), set RUNNING while a stage runs; the stages' runs are nested under it."""
    from mlflow.tracking import MlflowClient

    from omnivec2.tracking.dead_runs import driver_tags

    client = MlflowClient(tracking_uri)
    found = client.search_runs([experiment_id], max_results=1,
                               filter_string=f"tags.`{GROUP_TAG}` = '{invocation.group}' "
                                             f"and tags.`{PARENT_TAG}` = 'true'")
    if found:
        if found[0].info.status != "FAILED":
            client.update_run(found[0].info.run_id, status="RUNNING")
        return found[0].info.run_id
    tags = {k: v for k, v in invocation.tags(commit).items() if k != STAGE_TAG}
    tags[PARENT_TAG] = "true"
    if invocation.invoker is not None:  # a killed `dvc` leaves it RUNNING: the next run marks it KILLED
        tags.update(driver_tags(invocation.invoker))
    name = invocation.exp_name or "dvc repro"
    return client.create_run(experiment_id, run_name=name, tags=tags).info.run_id


def end_dvc_stage(tracking_uri: str, parent_run_id: str, status: str) -> None:
    """A stage ended: its parent shows the last stage's status, and stays FAILED once a stage failed."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    if client.get_run(parent_run_id).info.status != "FAILED":
        client.set_terminated(parent_run_id, status=status)
