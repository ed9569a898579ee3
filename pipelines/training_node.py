"""The node body shared by the three training pipelines: run the stage, log its checkpoint."""

from __future__ import annotations

from omnivec2.tracking import log_dir_artifacts, stage_tracking_context
from omnivec2.training.stage_runner import run_training_stage, split_summary
from pipelines.io import Location, TokenCache


def train(stage: str, stage_params: dict, model_params: dict, ray_params: dict, token_cache: TokenCache,
          model_folder: Location, previous: dict | None, manifests: tuple[dict, ...]):
    # The summary records the folder as the catalog declares it (relative: DVC versions the summary).
    summary = run_training_stage(stage, stage_params, model_params, ray_params, token_cache.recorded, list(manifests),
                                 previous, stage_tracking_context(), output_dir=model_folder.recorded,
                                 storage_path=ray_params["storage_path"])
    if not summary.get("skipped"):
        log_dir_artifacts(model_folder.path, f"checkpoints/{stage}")
    return split_summary(summary)  # (result summary, curves, timings and resumes)
