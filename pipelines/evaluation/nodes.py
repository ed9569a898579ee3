"""Evaluation nodes: metrics of the final model next to classical baselines; training curves."""

from __future__ import annotations

import pandas as pd

from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.plots import training_curves
from omnivec2.tracking import log_figure_artifact, log_json_artifact, log_metrics_flat
from omnivec2.training.stage_runner import project_path


def evaluate(final: dict, cache_dir: str, params: dict) -> dict:
    if not final.get("checkpoint"):
        raise ValueError("evaluation needs a trained checkpoint, but train_multitask produced none (is it disabled?)")
    metrics = evaluate_checkpoint(project_path(final["checkpoint"]), project_path(cache_dir), params.get("seed", 0),
                                  params.get("retrieval"))
    log_metrics_flat(metrics, prefix="test")
    log_json_artifact(metrics, "metrics.json")
    return metrics


def plot_training_curves(unimodal: pd.DataFrame, multimodal: pd.DataFrame, multitask: pd.DataFrame):
    figure = training_curves({"pretrain_unimodal": unimodal, "pretrain_multimodal": multimodal,
                              "train_multitask": multitask})
    log_figure_artifact(figure, "plots/training_curves.png")
    return figure
