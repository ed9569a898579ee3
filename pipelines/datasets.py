"""Which datasets the pipelines are built for: the `datasets:` block of the run's configuration.

Kedro builds pipelines without handing them the configuration, so the session's `datasets:` block
is set here by `DatasetsHook.after_context_created` (which runs before anything reads the
pipelines); outside a session (`kedro registry list`, tests) it is read from `conf/` for
`KEDRO_ENV` (default `local`) on top of `base`.
"""

from __future__ import annotations

import os
from functools import lru_cache, partial, update_wrapper
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from omnivec2.datasets import DatasetSpec, resolve_datasets

_active: dict | None = None


def set_active_datasets(block: dict | None) -> bool:
    """Use this `datasets:` block for the pipelines; True when it differs from the one in use."""
    global _active
    changed = block != _active
    _active = block
    return changed


def datasets_block() -> dict:
    if _active is not None:
        return _active
    return _block_from_conf(os.environ.get("KEDRO_ENV") or "local")


@lru_cache(maxsize=8)
def _block_from_conf(env: str) -> dict:
    from kedro.config import OmegaConfigLoader

    from pipelines.settings import CONFIG_LOADER_ARGS

    conf = Path(__file__).resolve().parent.parent / "conf"
    loader = OmegaConfigLoader(conf_source=str(conf), env=env, **CONFIG_LOADER_ARGS)
    return dict(loader["parameters"].get("datasets") or {})


def dataset_specs(env: str | None = None) -> dict[str, DatasetSpec]:
    """Every configured dataset (of the session, or of `env` on top of base), resolved and checked
    (a bad entry stops here, naming it)."""
    return resolve_datasets(datasets_block() if env is None else _block_from_conf(env))


def dataset_names() -> list[str]:
    return sorted(name for name, entry in datasets_block().items() if entry is not None)


def bind(func, dataset: str):
    """The node function with its dataset fixed (Kedro passes datasets, not names)."""
    return update_wrapper(partial(func, dataset), func)


class DatasetsHook:
    """Hands the session's `datasets:` block to the pipeline registry before anything builds the
    pipelines, and checks the run's configuration when it starts, before any node runs: every
    dataset entry, and, when the pipeline trains (a node tagged `ray`), every training stage's, the
    model's and Ray's parameters, so that a typo in stage 3's block stops the run before stage 1
    trains (ValueError naming the key)."""

    def __init__(self) -> None:
        self._params: dict[str, Any] | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params or {})
        block = dict(context.config_loader["parameters"].get("datasets") or {})
        if set_active_datasets(block):
            from kedro.framework.project import pipelines

            pipelines.configure(pipelines._pipelines_module)  # rebuild them for these datasets

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        from pipelines.hooks.params import params_from
        from pipelines.hooks.ray_hook import needs_ray

        dataset_specs()
        if needs_ray(pipeline):
            from omnivec2.training.stage_runner import check_training_parameters

            check_training_parameters(self._params if self._params is not None else params_from(catalog))
