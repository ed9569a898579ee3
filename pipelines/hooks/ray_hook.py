"""`RayHook`: start Ray once per Kedro session, only when the pipeline has a node tagged ``ray`` (the
node launches Ray Train), and stop it when the run ends or fails.

```yaml
ray:
  address: null        # or "auto" / "ray://head:10001" to join a cluster (env RAY_ADDRESS also works)
  num_cpus: null       # local runtime only; all cores when null
  dashboard: true      # local runtime only; see omnivec2.orchestration.ray_runtime
  forward_storage_env: true  # the S3 settings (StorageHook) go to the Ray job's workers
```
"""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl

from omnivec2.orchestration.ray_runtime import start_ray, stop_ray
from omnivec2.orchestration.storage import storage_environment
from pipelines.hooks.params import params_from

RAY_TAG = "ray"


def needs_ray(pipeline: Any) -> bool:
    return any(RAY_TAG in node.tags for node in pipeline.nodes)


class RayHook:
    def __init__(self) -> None:
        self._params: dict[str, Any] | None = None
        self._started = False

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params or {})

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if not needs_ray(pipeline):
            return
        params = self._params if self._params is not None else params_from(catalog)
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
