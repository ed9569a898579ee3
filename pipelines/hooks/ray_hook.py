"""`RayHook`: start Ray once per Kedro run, just before its first node tagged ``ray`` (a node that
launches Ray Train), and stop it when the run ends or fails. A run that stops earlier (bad data at
validation, a tokenizer error) or has no such node never starts it.

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
        self._pending: dict[str, Any] | None = None  # the `ray` block, until the first ray node starts Ray
        self._started = False

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params or {})

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._pending = None
        if not needs_ray(pipeline):
            return
        params = self._params if self._params is not None else params_from(catalog)
        self._pending = dict(params.get("ray") or {})

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if self._pending is None or RAY_TAG not in node.tags:
            return
        ray_params, self._pending = self._pending, None
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
        self._pending = None
        if self._started:
            self._started = False
            stop_ray()
