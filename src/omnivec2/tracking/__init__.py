"""MLflow tracking for omnivec2, usable without Kedro: URIs, tags, parameters, worker metrics.

mlflow is imported inside the functions that need it (the import costs ~1.4 s).
"""

from omnivec2.tracking.artifacts import (
    log_figure_artifact,
    log_dir_artifacts,
    log_files_artifacts,
    log_json_artifact,
    log_metrics_flat,
    stage_tracking_context,
)
from omnivec2.tracking.dead_runs import driver_tags, end_dead_runs
from omnivec2.tracking.tags import flatten_params, is_secret_key, run_tags
from omnivec2.tracking.uri import (
    DEFAULT_EXPERIMENT,
    default_artifact_location,
    ensure_experiment,
    resolve_tracking_uri,
)
from omnivec2.tracking.worker import WorkerMetricLogger

__all__ = [
    "log_figure_artifact",
    "log_files_artifacts",
    "DEFAULT_EXPERIMENT",
    "WorkerMetricLogger",
    "default_artifact_location",
    "driver_tags",
    "end_dead_runs",
    "ensure_experiment",
    "flatten_params",
    "is_secret_key",
    "log_dir_artifacts",
    "log_json_artifact",
    "log_metrics_flat",
    "resolve_tracking_uri",
    "run_tags",
    "stage_tracking_context",
]
