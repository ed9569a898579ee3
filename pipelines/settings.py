"""Kedro project settings (https://docs.kedro.org/en/stable/kedro_project_setup/settings.html)."""

from omnivec2.env import apply_quiet_environment

# Telemetry off and loopback-only Ray before Kedro, MLflow or Ray read their environment.
apply_quiet_environment()

from pipelines.datasets import DatasetsHook  # noqa: E402
from pipelines.hooks import KeptOutputsHook, MlflowHook, ProjectLockHook, RayHook, StorageHook, TimingHook  # noqa: E402

# MlflowHook before TimingHook: Kedro calls after_pipeline_run in reverse order, so timings are
# logged while the parent run is still open. DatasetsHook's hooks run first (tryfirst): the run's
# configuration is checked before Ray starts or MLflow opens a run. ProjectLockHook is registered
# last and its before_pipeline_run is tryfirst, so it runs before every other hook: a second run in
# the project is refused before it checks, starts or opens anything (pluggy calls the last
# registered first among equals).
HOOKS = (DatasetsHook(), KeptOutputsHook(), StorageHook(), RayHook(), MlflowHook(), TimingHook(), ProjectLockHook())

# Soft merge: an environment (tiny, gpu, local) overrides single keys, not whole parameter blocks
# (the `omnivec2` command line reads the configuration with the same settings).
from omnivec2.cli import CONFIG_LOADER_ARGS  # noqa: E402,F401
