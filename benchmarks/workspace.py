"""What the benchmarks run on: the project's own configuration per preset and a token cache of
the default data, built once into a work directory and reused (the cache is keyed by content).

Presets map to Kedro environments: tiny -> conf/base + conf/tiny, cpu -> conf/base,
base -> conf/base + conf/gpu (the `base` model preset, bf16, batch 256).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = {"tiny": "tiny", "cpu": "base", "base": "gpu"}  # the Kedro run environment over conf/base
STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


def parameters(preset: str) -> dict:
    """All Kedro parameters of the preset's environment, loaded by Kedro's own config loader with
    the project's settings (soft merge over conf/base)."""
    from kedro.config import OmegaConfigLoader

    from pipelines.settings import CONFIG_LOADER_ARGS

    if preset not in ENVIRONMENTS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(ENVIRONMENTS)}")
    loader = OmegaConfigLoader(conf_source=str(PROJECT / "conf"), env=ENVIRONMENTS[preset], **CONFIG_LOADER_ARGS)
    return dict(loader["parameters"])


def default_work_dir() -> Path:
    return Path(tempfile.gettempdir()) / "omnivec2-benchmarks"


@dataclass
class Workspace:
    """Sample tables `<root>/samples/<modality>.parquet` and their token cache `<root>/tokens`."""

    root: Path
    manifests: list[dict]
    params: dict | None = None  # the preset's parameters as written by `gpu_check --dump-params` (None: Kedro's)

    @property
    def cache_root(self) -> Path:
        return self.root / "tokens"

    def samples_path(self, modality: str) -> Path:
        return self.root / "samples" / f"{modality}.parquet"

    @property
    def modalities(self) -> list[str]:
        return [m["dataset"] for m in self.manifests]


def prepare(work_dir: Path | None = None, modalities: list[str] | None = None) -> Workspace:
    """Every default dataset's source (seed 0) as a sample table on disk, and its cache."""
    from omnivec2.data.sources import load_source
    from omnivec2.tokens.cache import build_token_cache
    from pipelines.datasets import dataset_specs

    specs = dataset_specs("base")
    root = Path(work_dir or default_work_dir())
    (root / "samples").mkdir(parents=True, exist_ok=True)
    manifests = []
    for name in modalities or sorted(specs):
        spec = specs[name]
        path = root / "samples" / f"{name}.parquet"
        if path.exists():
            import pandas as pd

            table = pd.read_parquet(path)
        else:
            table = load_source(spec, spec.source, 0)
            table.to_parquet(path.with_suffix(".tmp"))
            path.with_suffix(".tmp").rename(path)
        manifests.append(build_token_cache(table, spec, root / "tokens"))
    return Workspace(root, manifests)


def stage_launch(workspace: Workspace, preset: str, stage: str, training: dict | None = None,
                 model_overrides: dict | None = None):
    """The `StageLaunch` the pipeline would give Ray for `stage` at `preset` (on the workspace's cache,
    one worker), with `training` / `model_overrides` applied on top (e.g. fewer steps for a benchmark)."""
    from omnivec2.training.stage_runner import stage_launch as build

    params = workspace.params if workspace.params is not None else parameters(preset)
    stage_params = {**params[stage], "training": {**params[stage].get("training", {}), **(training or {})}}
    model = {**params["model"], "overrides": {**(params["model"].get("overrides") or {}), **(model_overrides or {})}}
    return build(stage, stage_params, model, workspace.cache_root, workspace.manifests, None, None,
                 {"num_workers": 1, "storage_path": "unused"})


def build_trainer(launch, rank: int = 0, world_size: int = 1, device: str = "cpu"):
    """The stage's StageTrainer in this process, from the model a Ray worker starts with (no checkpoint)."""
    from omnivec2.training.data import load_training_data
    from omnivec2.training.trainer import StageTrainer
    from omnivec2.training.worker import initial_model

    model = initial_model(launch).to(device)
    return StageTrainer(model, load_training_data(launch.cache_root, launch.modalities), launch.train,
                        rank=rank, world_size=world_size, device=device)
