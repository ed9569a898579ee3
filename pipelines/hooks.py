"""Kedro hooks: one Ray runtime per session, and one MLflow run per `kedro run` with a nested run per stage.

Registered in ``pipelines/settings.py``. Both hooks read their configuration from Kedro parameters:

```yaml
ray:
  address: null        # or "auto" / "ray://head:10001" to join a cluster (env RAY_ADDRESS also works)
  num_cpus: null       # local runtime only; all cores when null
  dashboard: true      # local runtime only; see omnivec2.orchestration.ray_runtime
mlflow:
  enabled: true
  tracking_uri: null   # default sqlite:///<project>/mlflow.db; env MLFLOW_TRACKING_URI wins
  experiment_name: omnivec2
  artifact_location: null  # e.g. s3://bucket/mlflow: artifacts of a new experiment (embedded store)
storage:
  s3: {endpoint_url: null, region: null, max_attempts: 5, retry_mode: standard}
```

Node tags they act on: ``ray`` (the node launches Ray Train: the pipeline needs a runtime),
``mlflow_stage`` (the node gets its own nested MLflow run) and ``stage.<name>`` (that run's name).
Kedro 1.7 only allows letters, digits, ``-``, ``_`` and ``.`` in tags, so ``stage:<name>`` is rejected
when the node is built; it is still understood here should Kedro relax the rule.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from omnivec2.orchestration.ray_runtime import start_ray, stop_ray
from omnivec2.orchestration.storage import configure_storage, storage_environment
from omnivec2.tracking import (
    DEFAULT_EXPERIMENT,
    ensure_experiment,
    flatten_params,
    log_json_artifact,
    resolve_tracking_uri,
    run_tags,
)
from omnivec2.tracking.artifacts import json_default

logger = logging.getLogger(__name__)

RAY_TAG = "ray"
VALIDATION_REPORT_SUFFIX = "_validation_report"
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


def _params_from(catalog: Any) -> dict[str, Any]:
    """All Kedro parameters from the catalog's ``parameters`` entry (empty when absent)."""
    try:
        if catalog is not None and "parameters" in catalog:
            params = catalog.load("parameters")
            return dict(params) if isinstance(params, Mapping) else {}
    except Exception as exc:  # a catalog without parameters is fine
        logger.debug("no parameters in catalog: %s", exc)
    return {}


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


def _s3_credentials(context: Any) -> dict[str, Any] | None:
    """The ``s3`` entry of conf/<env>/credentials.yml (conf/local is git-ignored), or None."""
    try:
        credentials = context.config_loader["credentials"]
    except Exception as exc:  # no credentials file at all is the common case
        logger.debug("no Kedro credentials: %s", exc)
        return None
    entry = (credentials or {}).get("s3")
    return dict(entry) if isinstance(entry, Mapping) else None


class RayHook:
    """Start Ray once per Kedro session, only when the pipeline has a node tagged ``ray``.

    It also exports the S3 settings (``storage`` parameters + the ``s3`` credentials entry, see
    ``omnivec2.orchestration.storage``) into the session's environment as soon as the context exists,
    so ingestion, the token cache, Ray storage and MLflow artifacts all reach the same bucket, and
    forwards them to the Ray job's workers (``ray.forward_storage_env``, default true).
    """

    def __init__(self) -> None:
        self._params: dict[str, Any] | None = None
        self._started = False

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params or {})
        configure_storage(self._params.get("storage"), _s3_credentials(context))

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if not any(RAY_TAG in node.tags for node in pipeline.nodes):
            return
        params = self._params if self._params is not None else _params_from(catalog)
        # Every stage's parameters before any stage trains: a typo in stage 3's block stops the run
        # now, not after stages 1 and 2 (ValueError naming the key).
        from omnivec2.training.stage_runner import check_training_parameters

        check_training_parameters(params)
        ray_params = params.get("ray") or {}
        self._started = start_ray(
            address=ray_params.get("address"),
            num_cpus=ray_params.get("num_cpus"),
            include_dashboard=ray_params.get("dashboard"),
            num_gpus=ray_params.get("num_gpus"),
            env_vars=storage_environment() if ray_params.get("forward_storage_env", True) else None,
        )

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: Any, pipeline: Any, catalog: Any) -> None:
        self._stop()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._started:
            self._started = False
            stop_ray()


class MlflowHook:
    """One MLflow run per ``kedro run`` (named after the pipeline), a nested run per ``mlflow_stage`` node."""

    def __init__(self) -> None:
        self._params: dict[str, Any] | None = None
        self._project_root: Path | None = None
        self._parent_run_id: str | None = None
        self._stage_runs: dict[str, str] = {}  # node name -> nested run id
        self._enabled = True

    # -- session --------------------------------------------------------------------------------

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params or {})
        self._project_root = Path(context.project_path)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        import mlflow

        params = self._params if self._params is not None else _params_from(catalog)
        self._params = params
        config = params.get("mlflow") or {}
        self._enabled = bool(config.get("enabled", True))
        if not self._enabled:
            return
        root = Path(run_params.get("project_path") or self._project_root or Path.cwd())
        uri = resolve_tracking_uri(config.get("tracking_uri"), root)
        experiment_id = ensure_experiment(uri, config.get("experiment_name") or DEFAULT_EXPERIMENT,
                                          artifact_location=config.get("artifact_location"))
        run_name = "+".join(run_params.get("pipeline_names") or ["__default__"])
        tags = run_tags(root, kedro_command(run_params))
        tags.update(
            {
                "kedro.pipeline": run_name,
                "kedro.session_id": str(run_params.get("run_id")),
                "kedro.env": str(run_params.get("env")),
            }
        )
        run = mlflow.start_run(
            experiment_id=experiment_id,
            run_name=run_name,
            nested=mlflow.active_run() is not None,
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
                tags={"kedro.node": node.name, "omnivec2.stage": stage},
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
    def after_node_run(  # noqa: PLR0913
        self, node: Any, catalog: Any, inputs: dict[str, Any], outputs: dict[str, Any], is_async: bool, run_id: str
    ) -> None:
        if self._active:  # a validation node that passed: keep its report with the run too
            for name, value in (outputs or {}).items():
                if name.endswith(VALIDATION_REPORT_SUFFIX) and value is not None:
                    modality = name[: -len(VALIDATION_REPORT_SUFFIX)]
                    self._log_report(self._normalise_report(value), modality)
        self._end_stage(node, "FINISHED")

    @hook_impl
    def on_node_error(  # noqa: PLR0913
        self, error: Exception, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool, run_id: str
    ) -> None:
        report = getattr(error, "report", None)
        modality = getattr(error, "dataset", None)
        if report is not None and modality:
            self._save_validation_report(report, str(modality), catalog)
        self._end_stage(node, "FAILED")

    # -- helpers --------------------------------------------------------------------------------

    @property
    def _active(self) -> bool:
        return self._enabled and self._parent_run_id is not None

    def _log_params(self, flat: dict[str, str]) -> None:
        if not flat:
            return
        import mlflow

        try:
            mlflow.log_params(flat)
        except Exception as exc:  # e.g. a resumed run that already holds a different value
            logger.warning("could not log %d parameters to MLflow: %s", len(flat), exc)

    @staticmethod
    def _normalise_report(report: Any) -> Any:
        """A JSON-ready copy of a report (dict, list, or a GX result with ``to_json_dict``)."""
        if not isinstance(report, (Mapping, list)) and callable(getattr(report, "to_json_dict", None)):
            report = report.to_json_dict()
        if isinstance(report, (Mapping, list)):
            report = json.loads(json.dumps(report, default=json_default))
        return report

    def _save_validation_report(self, report: Any, modality: str, catalog: Any) -> None:
        """Keep a failing validation's report: on disk through the catalog, and in MLflow."""
        report = self._normalise_report(report)
        dataset = f"{modality}{VALIDATION_REPORT_SUFFIX}"
        try:
            if catalog is not None and dataset in catalog:
                catalog.save(dataset, report)
                logger.info("validation report of %s saved to %s", modality, dataset)
        except Exception as exc:
            logger.warning("could not save %s: %s", dataset, exc)
        self._log_report(report, modality)

    def _log_report(self, report: Any, modality: str) -> None:
        if not self._active:
            return
        try:
            log_json_artifact(report, f"validation/{modality}.json", run_id=self._current_run_id())
        except Exception as exc:
            logger.warning("could not log the validation report of %s to MLflow: %s", modality, exc)

    def _current_run_id(self) -> str | None:
        import mlflow

        active = mlflow.active_run()
        return active.info.run_id if active is not None else self._parent_run_id

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


class TimingHook:
    """Wall time per node and for the whole run: printed as a table at the end and logged to the
    run's MLflow parent run as `timing.<node>_s` (the breakdown of where a `kedro run` spends time)."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._seconds: dict[str, float] = {}
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        import time

        self._run_started = time.perf_counter()
        self._started, self._seconds = {}, {}

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        import time

        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        import time

        self._seconds[node.name] = time.perf_counter() - self._started.pop(node.name, time.perf_counter())

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: Any, pipeline: Any, catalog: Any) -> None:
        import time

        total = time.perf_counter() - self._run_started
        nodes = sum(self._seconds.values())
        lines = [f"{name:<28} {seconds:8.2f} s" for name, seconds in self._seconds.items()]
        lines.append(f"{'(between nodes: hooks, I/O)':<28} {total - nodes:8.2f} s")
        lines.append(f"{'total':<28} {total:8.2f} s")
        # Printed, not logged: the rich log handler wraps a table into an unreadable column.
        print("node wall times:\n" + "\n".join(lines), flush=True)
        from omnivec2.tracking import log_metrics_flat

        log_metrics_flat({**{f"{k}_s": v for k, v in self._seconds.items()}, "pipeline_s": total}, prefix="timing")
