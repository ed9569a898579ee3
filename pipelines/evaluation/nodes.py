"""Evaluation nodes: single-task baselines, metrics next to both baselines, training curves, the
report (report.md / report.html with figures and data cards), and the registered final model."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from omnivec2.checkpoint import load_model
from omnivec2.datasets import resolve_datasets
from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.plots import training_curves
from omnivec2.evaluation.specialists import single_task_baselines
from omnivec2.tracking import log_figure_artifact, log_json_artifact, log_metrics_flat
from omnivec2.training.config import TrainConfig
from omnivec2.training.stage_runner import model_config_from_manifests, project_path


def train_single_task_baselines(model_params: dict, stage_params: dict, cache_dir: str, *manifests: dict) -> dict:
    config = model_config_from_manifests(model_params, list(manifests))
    train = TrainConfig.from_dict({"stage": "train_multitask", **(stage_params.get("training") or {})})
    results = single_task_baselines(config, project_path(cache_dir), train)
    log_metrics_flat({t: {k: v for k, v in r.items() if k not in ("steps", "batch_size")} for t, r in results.items()},
                     prefix="single_task")
    return results


def evaluate(final: dict, cache_dir: str, params: dict, single_task: dict) -> dict:
    if not final.get("checkpoint"):
        raise ValueError("evaluation needs a trained checkpoint, but train_multitask produced none (is it disabled?)")
    metrics = evaluate_checkpoint(project_path(final["checkpoint"]), project_path(cache_dir), params.get("seed", 0),
                                  params.get("retrieval"))
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


def render_report(metrics: dict, stage1: dict, stage2: dict, stage3: dict, unimodal: pd.DataFrame,
                  multimodal: pd.DataFrame, multitask: pd.DataFrame, cache_dir: str, datasets: dict,
                  params: dict, *per_dataset) -> dict:
    """per_dataset: validation reports, then token manifests, then validated sample tables, each
    in `dataset_names()` order. Writes `params.report_dir` (report.md, report.html, figures/)."""
    from omnivec2.reporting.figures import confusion_matrices, dense_predictions, embedding_map, task_bars
    from omnivec2.reporting.report import draw_cards, save_figure, write_report
    from omnivec2.tracking import log_dir_artifacts
    from omnivec2.tracking.tags import run_tags
    from pipelines.datasets import dataset_names

    started = time.perf_counter()
    names = dataset_names()
    count = len(names)
    validation = dict(zip(names, per_dataset[:count]))
    manifests = dict(zip(names, per_dataset[count : 2 * count]))
    samples = dict(zip(names, per_dataset[2 * count :]))
    out = project_path(params.get("report_dir", "data/08_reporting"))
    cache_root = project_path(cache_dir)
    model = load_model(project_path(stage3["checkpoint"]))
    present = [m.name for m in model.config.modalities]
    classification = [(m.name, t.name, t.num_classes, t.classes) for m in model.config.modalities for t in m.tasks
                      if t.kind == "classification"]
    figures = {
        "bars": save_figure(task_bars(metrics), out, "task_bars"),
        "curves": save_figure(training_curves({"pretrain_unimodal": unimodal, "pretrain_multimodal": multimodal,
                                               "train_multitask": multitask}), out, "training_curves"),
        "confusion": save_figure(confusion_matrices(model, cache_root, classification), out, "confusion_matrices"),
        "embedding": save_figure(embedding_map(model, cache_root, present, seed=params.get("seed", 0)), out,
                                 "embedding_map"),
    }
    for m in model.config.modalities:
        for t in m.tasks:
            if t.kind == "dense":
                figures[f"dense/{m.name}/{t.name}"] = save_figure(dense_predictions(model, cache_root, m.name, t.name),
                                                                  out, f"dense_{m.name}_{t.name}")
    specs = resolve_datasets(datasets)
    cards = draw_cards(out, {name: specs[name] for name in present}, validation, manifests, samples, cache_root)
    tags = run_tags(Path.cwd(), "kedro run")
    run_id = _active_run_id()
    metadata = {"git commit": tags["git.commit"], "git dirty": tags["git.dirty"], "dvc.lock sha256": tags["dvc.lock.sha256"],
                "MLflow run": run_id or "none"}
    metadata["model"] = f"D_f {model.config.dim_f} x {model.config.depth_f}, D_g {model.config.dim_g} x {model.config.depth_g}"
    ablations_file = project_path(params.get("ablations_file", "data/08_reporting/ablations/ablations.json"))
    ablations = json.loads(ablations_file.read_text()) if ablations_file.is_file() else None
    paths = write_report(out, metrics, figures, metadata, {"pretrain_unimodal": stage1, "pretrain_multimodal": stage2,
                                                            "train_multitask": stage3}, cards, ablations)
    for name in ("report.md", "report.html"):
        _log_file(out / name)
    log_dir_artifacts(out / "figures", "report/figures")
    return {**paths, "figures": sorted(figures.values()), "seconds": round(time.perf_counter() - started, 1)}


def register_final_model(final: dict, metrics: dict, cache_dir: str, params: dict) -> dict:
    """The final checkpoint, once evaluated (`metrics` orders this node after `evaluate`), as a new
    version of the registered model with its tokenizer statistics (needs an active MLflow run)."""
    from omnivec2.checkpoint import load_model
    from omnivec2.tracking.registry import register_checkpoint

    run_id = _active_run_id()
    if run_id is None:
        return {"registered": False, "reason": "no active MLflow run"}
    name = params.get("registered_model", "omnivec2")
    checkpoint = project_path(final["checkpoint"])
    stats = {}
    for m in load_model(checkpoint).config.modalities:  # how each stream was tokenized, for inference
        manifest = json.loads((project_path(cache_dir) / m.name / "manifest.json").read_text())
        stats[m.name] = {"fit_stats": manifest["fit_stats"], "modality": manifest["stream"]["modality"],
                         "settings": manifest["stream"]["settings"]}
    version = register_checkpoint(checkpoint, name, run_id, tokenizer_stats=stats)
    return {"registered": True, "name": name, "version": version, "uri": f"models:/{name}/{version}", "run_id": run_id}


def _active_run_id() -> str | None:
    import mlflow

    run = mlflow.active_run()
    return run.info.run_id if run else None


def _log_file(path: Path) -> None:
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_artifact(str(path), "report")
