"""Kedro hooks, one module per tool they connect Kedro to; registered in ``pipelines/settings.py``.

- `storage_hook.StorageHook`: the S3 settings (``storage`` parameters, the ``s3`` credentials entry)
  exported to the session's environment, for ingestion, the token cache, Ray and MLflow alike.
- `ray_hook.RayHook`: one Ray runtime per session, started only for a pipeline with a node tagged
  ``ray``.
- `mlflow_hook.MlflowHook`: one MLflow run per ``kedro run``, a nested run per ``mlflow_stage`` node.
- `timing_hook.TimingHook`: wall time per node, printed and logged to MLflow.
- `kept_outputs.KeptOutputsHook`: saves the outputs a failing node asked to keep (`keep_outputs`).
- `project_lock.ProjectLockHook`: one `kedro run` at a time per project directory.

What the project checks before a run (dataset entries, training parameters) is `DatasetsHook`'s,
in ``pipelines/datasets.py``.
"""

from pipelines.hooks.kept_outputs import KeptOutputsHook, keep_outputs
from pipelines.hooks.mlflow_hook import MlflowHook, kedro_command, stage_name
from pipelines.hooks.project_lock import ProjectLockHook
from pipelines.hooks.ray_hook import RAY_TAG, RayHook
from pipelines.hooks.storage_hook import StorageHook
from pipelines.hooks.timing_hook import TimingHook

__all__ = ["RAY_TAG", "KeptOutputsHook", "MlflowHook", "ProjectLockHook",
           "RayHook", "StorageHook", "TimingHook", "kedro_command",
           "keep_outputs", "stage_name"]
