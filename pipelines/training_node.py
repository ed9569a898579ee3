"""The node body shared by the three training pipelines: run the stage, log its checkpoint."""

from __future__ import annotations

from omnivec2.tracking import log_dir_artifacts, stage_tracking_context
from omnivec2.training.stage_runner import project_path, run_training_stage, split_history


def train(stage: str, stage_params: dict, model_params: dict, ray_params: dict, cache_dir: str,
          previous: dict | None, manifests: tuple[dict, ...]):
    summary = run_training_stage(stage, stage_params, model_params, ray_params, cache_dir, list(manifests),
                                 previous, stage_tracking_context(),
                                 output_dir=stage_params.get("output_dir", f"data/06_models/{stage}"),
                                 storage_path=ray_params.get("storage_path", "data/06_models/ray_runs"))
    if not summary.get("skipped"):
        log_dir_artifacts(project_path(summary["checkpoint"]), f"checkpoints/{stage}")
    return split_history(summary)
