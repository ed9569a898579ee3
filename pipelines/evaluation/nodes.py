"""Evaluation nodes: single-task baselines, metrics next to both baselines, training curves, the
report (a data card per dataset, then report.md / report.html with the figures and the cards), and
the registered final model."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from omnivec2.checkpoint import load_model
from omnivec2.datasets import resolve_dataset
from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.plots import training_curves
from omnivec2.evaluation.specialists import single_task_baselines
from omnivec2.reporting.pieces import Report, ReportPiece
from omnivec2.tracking import log_dir_artifacts, log_figure_artifact, log_json_artifact, log_metrics_flat
from omnivec2.training.config import TrainConfig
from omnivec2.training.stage_runner import model_config_from_manifests
from pipelines.io import TokenCache, locate


def train_single_task_baselines(model_params: dict, stage_params: dict, token_cache: TokenCache, final: dict,
                                *manifests: dict) -> dict:
    """A specialist per task, on what the task got in stage 3 (`final`: stage 3's summary and its counts)."""
    if "visits" not in final:
        raise ValueError("the train_multitask summary has no visit counts (it was written before stage 3 counted "
                         "them); run train_multitask again before the single-task baselines")
    config = model_config_from_manifests(model_params, list(manifests))
    train = TrainConfig.from_dict({"stage": "train_multitask", **(stage_params.get("training") or {})})
    results = single_task_baselines(config, token_cache.path, train, final["visits"])
    log_metrics_flat({t: {k: v for k, v in r.items() if k not in ("steps", "batch_size")} for t, r in results.items()},
                     prefix="single_task")
    return results


def evaluate(final: dict, token_cache: TokenCache, params: dict, single_task: dict) -> dict:
    if not final.get("checkpoint"):
        raise ValueError("evaluation needs a trained checkpoint, but train_multitask produced none (is it disabled?)")
    metrics = evaluate_checkpoint(locate(final["checkpoint"]).path, token_cache.path, params.get("seed", 0),
                                  params.get("retrieval"), params.get("classical_max_iter", 2000))
    for task, entry in metrics["tasks"].items():
        if task in single_task:
            entry["single_task"] = single_task[task]
    log_metrics_flat(metrics, prefix="test")
    log_json_artifact(metrics, "metrics.json")
    return metrics


def plot_training_curves(unimodal: pd.DataFrame, multimodal: pd.DataFrame, multitask: pd.DataFrame):
    figure = training_curves({"pretrain_unimodal": unimodal, "pretrain_multimodal": multimodal,
                              "train_multitask": multitask})
    log_figure_artifact(figure, "plots/training_curves.png")
    return figure


def draw_data_card(dataset: str, entry: dict, validation: dict, manifest: dict, samples: pd.DataFrame,
                   token_cache: TokenCache) -> ReportPiece:
    """One dataset's section of the report: its data card (the entry's description and provenance, the
    validation report's counts, the manifest's tokens and cache size) and a picture of a few samples."""
    from omnivec2.reporting.report import data_card_piece

    return data_card_piece(resolve_dataset(dataset, entry), validation, manifest, samples, token_cache.path)


def render_report(metrics: dict, stage1: dict, stage2: dict, stage3: dict, timings1: dict, timings2: dict,
                  timings3: dict, unimodal: pd.DataFrame, multimodal: pd.DataFrame, multitask: pd.DataFrame,
                  token_cache: TokenCache, params: dict, ablations: dict | None,
                  *cards: ReportPiece) -> tuple[Report, dict]:
    """The report: the final model's figures, drawn here, with the datasets' cards (those of the
    datasets the model has, in its order) and the ablation table (None: the grid was not run)
    -> (the report, its index). Each stage's summary is shown with its timings (kept apart on disk)."""
    stage1, stage2, stage3 = ({**s, **t} for s, t in ((stage1, timings1), (stage2, timings2), (stage3, timings3)))
    from omnivec2.reporting.figures import confusion_matrices, dense_predictions, embedding_map, task_bars
    from omnivec2.reporting.pieces import figure_file
    from omnivec2.reporting.report import assemble_report

    started = time.perf_counter()
    model = load_model(locate(stage3["checkpoint"]).path)
    present = [m.name for m in model.config.modalities]
    classification = [(m.name, t.name, t.num_classes, t.classes) for m in model.config.modalities for t in m.tasks
                      if t.kind == "classification"]
    curves = {"pretrain_unimodal": unimodal, "pretrain_multimodal": multimodal, "train_multitask": multitask}
    figures = {
        "bars": figure_file(task_bars(metrics), "task_bars"),
        "curves": figure_file(training_curves(curves), "training_curves"),
        "confusion": figure_file(confusion_matrices(model, token_cache.path, classification), "confusion_matrices"),
        "embedding": figure_file(embedding_map(model, token_cache.path, present, seed=params.get("seed", 0)),
                                 "embedding_map"),
    }
    for m in model.config.modalities:
        for t in m.tasks:
            if t.kind == "dense":
                figures[f"dense/{m.name}/{t.name}"] = figure_file(dense_predictions(model, token_cache.path, m.name, t.name),
                                                                  f"dense_{m.name}_{t.name}")
    by_name = {card.name: card for card in cards}
    report = assemble_report(metrics, figures, run_metadata(model.config), {"pretrain_unimodal": stage1,
                             "pretrain_multimodal": stage2, "train_multitask": stage3},
                             [by_name[name] for name in present], ablations)
    _log_report(report)
    index = {"markdown": "report.md", "html": "report.html", "figures": sorted(relative for relative, _ in figures.values()),
             "seconds": round(time.perf_counter() - started, 1)}
    return report, index


def run_metadata(config) -> dict:
    """The report's "Run" lines: git commit, dvc.lock, the MLflow run, the model's size."""
    from omnivec2.tracking.tags import run_tags

    tags = run_tags(Path.cwd(), "kedro run")  # the project: kedro runs in its root
    return {"git commit": tags["git.commit"], "git dirty": tags["git.dirty"], "dvc.lock sha256": tags["dvc.lock.sha256"],
            "MLflow run": _active_run_id() or "none",
            "model": f"D_f {config.dim_f} x {config.depth_f}, D_g {config.dim_g} x {config.depth_g}"}


def register_final_model(final: dict, metrics: dict, token_cache: TokenCache, params: dict) -> dict:
    """The final checkpoint, once evaluated (`metrics` orders this node after `evaluate`), as a new
    version of the registered model with its tokenizer statistics (needs an active MLflow run)."""
    from omnivec2.checkpoint import load_model
    from omnivec2.tracking.registry import register_checkpoint

    run_id = _active_run_id()
    if run_id is None:
        return {"registered": False, "reason": "no active MLflow run"}
    name = params.get("registered_model", "omnivec2")
    checkpoint = locate(final["checkpoint"]).path
    stats = {}
    for m in load_model(checkpoint).config.modalities:  # how each stream was tokenized, for inference
        manifest = token_cache.manifest(m.name)
        stats[m.name] = {"fit_stats": manifest["fit_stats"], "modality": manifest["stream"]["modality"],
                         "settings": manifest["stream"]["settings"]}
    version = register_checkpoint(checkpoint, name, run_id, tokenizer_stats=stats)
    return {"registered": True, "name": name, "version": version, "uri": f"models:/{name}/{version}", "run_id": run_id}


def _active_run_id() -> str | None:
    import mlflow

    run = mlflow.active_run()
    return run.info.run_id if run else None


def _log_report(report: Report) -> None:
    """report.md, report.html and figures/ as the run's artifacts under report/ (nothing without a run)."""
    with tempfile.TemporaryDirectory(prefix="omnivec2-report-") as folder:
        for name, content in report.all_files().items():
            (Path(folder) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(folder) / name).write_bytes(content)
        log_dir_artifacts(folder, "report")
