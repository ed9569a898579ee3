"""`MlflowHook`: one MLflow run per ``kedro run`` (named after the pipeline, tagged with the command,
git commit and dvc.lock, every parameter logged), a nested run per ``mlflow_stage`` node.

Under DVC (``DVC_STAGE`` set, see ``omnivec2.tracking.dvc_runs``) every run is also tagged with the
DVC stage, experiment name and baseline revision, the ``kedro run`` of each stage is nested under one
parent run per `dvc repro` / `dvc exp run`, and a relative store is the original project's
(``DVC_ROOT``), not that of the temporary copy a queued experiment runs in.

```yaml
mlflow:
  enabled: true
  tracking_uri: null   # default sqlite:///<project>/mlflow.db; env MLFLOW_TRACKING_URI wins
  experiment_name: omnivec2
  artifact_location: null  # e.g. s3://bucket/mlflow: artifacts of a new experiment (embedded store)
```

Node tags it acts on: ``mlflow_stage`` (the node gets its own nested MLflow run) and ``stage.<name>``
(that run's name). Nodes log their own metrics and artifacts into whichever run is active.
Kedro 1.7 only allows letters, digits, ``-``, ``_`` and ``.`` in tags, so ``stage:<name>`` is rejected
when the node is built; it is still understood here should Kedro relax the rule.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from omnivec2.tracking import (DEFAULT_EXPERIMENT, driver_tags, end_dead_runs, ensure_experiment, flatten_params,
                               resolve_tracking_uri, run_tags)
from omnivec2.tracking.dvc_runs import DvcInvocation, dvc_parent_run, end_dvc_stage, store_root
from pipelines.hooks.params import params_from

logger = logging.getLogger(__name__)

MLFLOW_STAGE_TAG = "mlflow_stage"
STAGE_TAG_PREFIXES = ("stage.", "stage:")
KNOWN_STAGES = (
    "ingestion",
    "tokenization",
    "pretrain_unimodal",
    "pretrain_multimodal",
    "train_multitask",
    "evaluation",
)


def stage_name(node: Any) -> str:
    """A stage's run name: tag ``stage.<name>``, else a tag naming a known stage, else namespace, else node name."""
    tags = sorted(node.tags)
    for tag in tags:
        for prefix in STAGE_TAG_PREFIXES:
            if tag.startswith(prefix) and len(tag) > len(prefix):
                return tag[len(prefix) :]
    for tag in tags:
        if tag in KNOWN_STAGES:
            return tag
    return node.namespace or node.name


def kedro_command(run_params: Mapping[str, Any]) -> str:
    """Reconstruct the ``kedro run`` command line from the session's ``run_params``."""

    def joined(values: Iterable[str] | None) -> str:
        return ",".join(str(v) for v in values or ())

    parts = ["kedro", "run"]
    names = list(run_params.get("pipeline_names") or [])
    if len(names) == 1:
        parts.append(f"--pipeline={names[0]}")
    elif names:
        parts.append(f"--pipelines={joined(names)}")
    if run_params.get("env"):
        parts.append(f"--env={run_params['env']}")
    for option, key in (
        ("--tags", "tags"),
        ("--nodes", "node_names"),
        ("--from-nodes", "from_nodes"),
        ("--to-nodes", "to_nodes"),
        ("--from-inputs", "from_inputs"),
        ("--to-outputs", "to_outputs"),
        ("--namespaces", "namespaces"),
    ):
        if run_params.get(key):
            parts.append(f"{option}={joined(run_params[key])}")
    if run_params.get("load_versions"):
        parts.append("--load-versions=" + joined(f"{k}:{v}" for k, v in run_params["load_versions"].items()))
    runtime = run_params.get("runtime_params") or {}
    if runtime:
        flat = flatten_params(runtime)  # also keeps secrets passed with --params out of the tag
        parts.append("--params=" + joined(f"{k}={v}" for k, v in flat.items()))
    runner = str(run_params.get("runner") or "")
    match = re.search(r"(\w+) object at", runner)
    runner_name = match.group(1) if match else runner
    if runner_name and runner_name not in ("None", "SequentialRunner"):
        parts.append(f"--runner={runner_name}")
    if run_params.get("only_missing_outputs"):
        parts.append("--only-missing-outputs")
    return " ".join(parts)


class MlflowHook:
    """One MLflow run per ``kedro run`` (named after the pipeline), a nested run per ``mlflow_stage`` node."""

    def __init__(self) -> None:
        self._params: dict[str, Any] | None = None
        self._project_root: Path | None = None
        self._parent_run_id: str | None = None
        self._stage_runs: dict[str, str] = {}  # node name -> nested run id
        self._driver_tags: dict[str, str] = {}  # this process's identity (`dead_runs.driver_tags`)
        self._dvc_tags: dict[str, str] = {}  # the DVC stage and experiment (`dvc_runs`), under DVC
        self._dvc_parent: tuple[str, str] | None = None  # (tracking URI, run id) of the DVC invocation's run
        self._enabled = True

    # -- session --------------------------------------------------------------------------------

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params or {})
        self._project_root = Path(context.project_path)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        import mlflow

        params = self._params if self._params is not None else params_from(catalog)
        self._params = params
        config = params.get("mlflow") or {}
        self._enabled = bool(config.get("enabled", True))
        if not self._enabled:
            return
        root = Path(run_params.get("project_path") or self._project_root or Path.cwd())
        uri = resolve_tracking_uri(config.get("tracking_uri"), store_root(root))
        experiment_id = ensure_experiment(uri, config.get("experiment_name") or DEFAULT_EXPERIMENT,
                                          artifact_location=config.get("artifact_location"))
        run_name = "+".join(run_params.get("pipeline_names") or ["__default__"])
        # Runs left RUNNING by a killed driver of this host: KILLED, with the reason as a tag.
        try:
            end_dead_runs(uri, experiment_id, found_by=f"the kedro run of session {run_params.get('run_id')}")
        except Exception as exc:  # a tracking problem does not stop the run
            logger.warning("could not look for MLflow runs left RUNNING by a dead driver: %s", exc)
        self._driver_tags = driver_tags()
        tags = run_tags(root, kedro_command(run_params))
        tags.update(
            {
                "kedro.pipeline": run_name,
                "kedro.session_id": str(run_params.get("run_id")),
                "kedro.env": str(run_params.get("env")),
                **self._driver_tags,
            }
        )
        commit = tags.get("git.commit")
        parent_run_id = self._dvc_parent_run(uri, experiment_id, None if commit == "unknown" else commit)
        tags.update(self._dvc_tags)
        run = mlflow.start_run(
            experiment_id=experiment_id,
            run_name=run_name,
            nested=mlflow.active_run() is not None,
            parent_run_id=parent_run_id if mlflow.active_run() is None else None,
            tags=tags,
        )
        self._parent_run_id = run.info.run_id
        self._stage_runs = {}
        self._log_params(flatten_params(params))
        logger.info("MLflow run %s (%s) at %s", run.info.run_id, run_name, uri)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: Any, pipeline: Any, catalog: Any) -> None:
        self._finish("FINISHED")

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._finish("FAILED")

    # -- nodes ----------------------------------------------------------------------------------

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool, run_id: str) -> None:
        if not self._active or MLFLOW_STAGE_TAG not in node.tags:
            return
        import mlflow

        stage = stage_name(node)
        try:
            run = mlflow.start_run(
                run_name=stage,
                nested=True,
                parent_run_id=self._parent_run_id,
                tags={"kedro.node": node.name, "omnivec2.stage": stage, **self._driver_tags, **self._dvc_tags},
            )
        except Exception as exc:  # the node still runs and logs to the parent run
            logger.warning("could not start the MLflow run of stage %s: %s", stage, exc)
            return
        self._stage_runs[node.name] = run.info.run_id
        # The stage's parameters: its top-level block (if any) and every params: input of the node.
        stage_params = {}
        own = (self._params or {}).get(stage)
        if own is not None:
            stage_params.update(flatten_params({stage: own}))
        for name, value in (inputs or {}).items():
            if name.startswith("params:"):
                stage_params.update(flatten_params({name[len("params:") :]: value}))
        self._log_params(stage_params)

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        self._end_stage(node, "FINISHED")

    @hook_impl
    def on_node_error(self, node: Any) -> None:
        self._end_stage(node, "FAILED")

    # -- helpers --------------------------------------------------------------------------------

    @property
    def _active(self) -> bool:
        return self._enabled and self._parent_run_id is not None

    def _dvc_parent_run(self, uri: str, experiment_id: str, commit: str | None) -> str | None:
        """Under DVC: the DVC invocation's parent run (found or made), and the stage's tags; else None."""
        self._dvc_parent, self._dvc_tags = None, {}
        invocation = DvcInvocation.from_environment()
        if invocation is None:
            return None
        self._dvc_tags = invocation.tags(commit)
        try:
            self._dvc_parent = (uri, dvc_parent_run(uri, experiment_id, invocation, commit))
        except Exception as exc:  # the stage still runs, as a top-level run
            logger.warning("could not find or start the MLflow run of this DVC invocation: %s", exc)
            return None
        return self._dvc_parent[1]

    def _log_params(self, flat: dict[str, str]) -> None:
        if not flat:
            return
        import mlflow

        try:
            mlflow.log_params(flat)
        except Exception as exc:  # e.g. a resumed run that already holds a different value
            logger.warning("could not log %d parameters to MLflow: %s", len(flat), exc)

    def _end_stage(self, node: Any, status: str) -> None:
        run_id = self._stage_runs.pop(node.name, None)
        if run_id is not None:
            self._end_run(run_id, status)

    def _end_run(self, run_id: str, status: str) -> None:
        import mlflow

        try:
            active = mlflow.active_run()
            if active is not None and active.info.run_id == run_id:
                mlflow.end_run(status=status)
            else:  # started in another thread (ThreadRunner) or ended by the node itself
                mlflow.tracking.MlflowClient().set_terminated(run_id, status=status)
        except Exception as exc:
            logger.warning("could not end MLflow run %s: %s", run_id, exc)

    def _finish(self, status: str) -> None:
        if not self._active:
            return
        for run_id in reversed(list(self._stage_runs.values())):
            self._end_run(run_id, "FAILED" if status == "FAILED" else "KILLED")
        self._stage_runs = {}
        parent, self._parent_run_id = self._parent_run_id, None
        self._end_run(parent, status)
        if self._dvc_parent is not None:
            try:
                end_dvc_stage(*self._dvc_parent, status)
            except Exception as exc:
                logger.warning("could not update the MLflow run of this DVC invocation: %s", exc)
            self._dvc_parent = None
