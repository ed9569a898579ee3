"""Kedro project settings (https://docs.kedro.org/en/stable/kedro_project_setup/settings.html)."""

from omnivec2.env import apply_quiet_environment

# Telemetry off and loopback-only Ray before Kedro, MLflow or Ray read their environment.
apply_quiet_environment()

from pipelines.hooks import MlflowHook, RayHook  # noqa: E402

HOOKS = (RayHook(), MlflowHook())

# Soft merge: an environment (tiny, gpu, local) overrides single keys, not whole parameter blocks.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
}
