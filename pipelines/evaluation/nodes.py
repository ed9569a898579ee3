"""Evaluation nodes: single-task baselines, metrics next to both baselines, training curves, the
report (a data card per dataset, then report.md / report.html with the figures and the cards), and
the registered final model."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from omnivec2.checkpoint import load_model
from omnivec2.datasets import resolve_dataset, resolve_datasets
from omnivec2.datasets.pairing import dataset_pairs, retrieval_protocols
from omnivec2.evaluation.device import evaluation_device
from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.predictions import classification_predictions
from omnivec2.evaluation.linear_probe import linear_probes
from omnivec2.evaluation.plots import learning_curves, multitask_curves, training_curves
from omnivec2.evaluation.specialists import single_task_baselines
from omnivec2.reporting.pieces import Report, ReportPiece
from omnivec2.tracking import log_dir_artifacts, log_figure_artifact, log_json_artifact, log_metrics_flat
from omnivec2.training.config import TrainConfig
from omnivec2.training.stage_runner import model_config_from_manifests
from pipelines.io import Location, TokenCache, locate


def train_single_task_baselines(model_params: dict, stage_params: dict, params: dict, token_cache: TokenCache,
                                final: dict, multitask: pd.DataFrame, *manifests: dict) -> tuple[dict, dict]:
    """A specialist per task, on what the task got in stage 3 (`final`: stage 3's summary and its counts)
    -> (their test metrics, the learning curves of stage 3's tasks and of the specialists)."""
    if "visits" not in final:
        raise ValueError("the train_multitask summary has no visit counts (it was written before stage 3 counted "
                         "them); run train_multitask again before the single-task baselines")
    config = model_config_from_manifests(model_params, list(manifests))
    train = TrainConfig.from_dict({"stage": "train_multitask", **(stage_params.get("training") or {})})
    results = single_task_baselines(config, token_cache.path, train, final["visits"], device=_device(params))
    curves = {"multitask": multitask_curves(multitask),
              "single_task": {t: r.pop("curve") for t, r in results.items() if "curve" in r}}
    log_metrics_flat({t: {k: v for k, v in r.items() if k not in ("steps", "batch_size")} for t, r in results.items()},
                     prefix="single_task")
    return results, curves


def evaluate(final: dict, token_cache: TokenCache, params: dict, single_task: dict, datasets: dict) -> dict:
    """Every task's test metrics, and the retrieval protocols the datasets' `paired_with` imply (plus
    or minus the evaluation parameters' hand-written `retrieval` entries); the paired datasets' tasks
    also two-stream (their partner's row through A, next to single-stream on the same rows)."""
    if not final.get("checkpoint"):
        raise ValueError("evaluation needs a trained checkpoint, but train_multitask produced none (is it disabled?)")
    specs = resolve_datasets(datasets)
    metrics = evaluate_checkpoint(locate(final["checkpoint"]).path, token_cache.path, params.get("seed", 0),
                                  retrieval_protocols(specs, params.get("retrieval")),
                                  params.get("classical_max_iter", 2000), dataset_pairs(specs), _device(params))
    for task, entry in metrics["tasks"].items():
        if task in single_task:
            entry["single_task"] = single_task[task]
    log_metrics_flat(metrics, prefix="test")
    log_json_artifact(metrics, "metrics.json")
    return metrics


def write_predictions(final: dict, token_cache: TokenCache, params: dict) -> dict[str, pd.DataFrame]:
    """Every classification task's test predictions (predictions/<dataset>/<task>.csv: sample_id, actual,
    predicted), which `dvc plots` draws as confusion matrices."""
    return classification_predictions(load_model(locate(final["checkpoint"]).path).to(_device(params)),
                                      token_cache.path)


def probe_stages(stage1: dict, stage2: dict, stage3: dict, token_cache: TokenCache, params: dict) -> dict:
    """Linear probes of the frozen shared features at initialisation and after each stage that ran."""
    if not stage3.get("checkpoint"):
        raise ValueError("the linear probes need the train_multitask checkpoint, but that stage produced none")
    summaries = {"pretrain_unimodal": stage1, "pretrain_multimodal": stage2, "train_multitask": stage3}
    folders = {stage: locate(s["checkpoint"]).path for stage, s in summaries.items() if s.get("checkpoint")}
    probes = linear_probes(folders, folders["train_multitask"], token_cache.path, params.get("seed", 0),
                           params.get("classical_max_iter", 2000), _device(params))
    log_metrics_flat(probes["stages"], prefix="probe")
    log_json_artifact(probes, "linear_probe.json")
    return probes


def _device(params: dict):
    """`evaluation.device` ("auto": the GPU when this process sees one, else the CPU)."""
    return evaluation_device(params.get("device", "auto"))


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
                  token_cache: TokenCache, params: dict, ablations: dict | None, probes: dict, curves: dict,
                  data_docs: Location | None, *cards: ReportPiece) -> tuple[Report, dict]:
    """The report: the final model's figures, drawn here, with the datasets' cards (those of the
    datasets the model has, in its order), the ablation table (None: the grid was not run), the
    linear probes and the learning curves (`curves`: learning_curves.json), and links to the Data
    Docs (a folder next to the report; None: not built yet) -> (the report, its index). Each stage's summary is shown
    with its timings (kept apart on disk)."""
    stage1, stage2, stage3 = ({**s, **t} for s, t in ((stage1, timings1), (stage2, timings2), (stage3, timings3)))
    from omnivec2.reporting.figures import confusion_matrices, dense_predictions, embedding_map, task_bars
    from omnivec2.reporting.pieces import figure_file
    from omnivec2.reporting.report import assemble_report

    started = time.perf_counter()
    model = load_model(locate(stage3["checkpoint"]).path)
    present = [m.name for m in model.config.modalities]
    classification = [(m.name, t.name, t.num_classes, t.classes) for m in model.config.modalities for t in m.tasks
                      if t.kind == "classification"]
    histories = {"pretrain_unimodal": unimodal, "pretrain_multimodal": multimodal, "train_multitask": multitask}
    figures = {
        "bars": figure_file(task_bars(metrics), "task_bars"),
        "curves": figure_file(training_curves(histories), "training_curves"),
        "confusion": figure_file(confusion_matrices(model, token_cache.path, classification), "confusion_matrices"),
        "embedding": figure_file(embedding_map(model, token_cache.path, present, seed=params.get("seed", 0)),
                                 "embedding_map"),
    }
    if curves.get("multitask") or curves.get("single_task"):
        figures["learning"] = figure_file(learning_curves(curves), "learning_curves")
    for m in model.config.modalities:
        for t in m.tasks:
            if t.kind == "dense":
                figures[f"dense/{m.name}/{t.name}"] = figure_file(dense_predictions(model, token_cache.path, m.name, t.name),
                                                                  f"dense_{m.name}_{t.name}")
    by_name = {card.name: card for card in cards}
    report = assemble_report(metrics, figures, run_metadata(model.config), {"pretrain_unimodal": stage1,
                             "pretrain_multimodal": stage2, "train_multitask": stage3},
                             [by_name[name] for name in present], ablations, probes, data_docs_links(data_docs))
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


def register_final_model(final: dict, metrics: dict, token_cache: TokenCache, params: dict,
                         example_samples: pd.DataFrame) -> dict:
    """The final checkpoint, once evaluated, as a new version of the registered MLflow pyfunc (with its
    tokenizer statistics; one test sample of `example_samples`, the first dataset's table, as the input
    example), given `@champion` when it is not worse than the champion (needs an active MLflow run)."""
    from omnivec2.data.sample_table import decode_payload
    from omnivec2.serving.log_model import log_registered_model
    from omnivec2.serving.request import npy_row
    from omnivec2.tracking.registry import CHAMPION, promote_if_not_worse, signed_primary

    run_id = _active_run_id()
    if run_id is None:
        return {"registered": False, "reason": "no active MLflow run"}
    name = params.get("registered_model", "omnivec2")
    checkpoint = locate(final["checkpoint"]).path
    streams = load_model(checkpoint).config.modalities
    stats = {}
    for m in streams:  # how each stream was tokenized, for inference
        manifest = token_cache.manifest(m.name)
        stats[m.name] = {"fit_stats": manifest["fit_stats"], "modality": manifest["stream"]["modality"],
                         "settings": manifest["stream"]["settings"]}
    test = example_samples[example_samples["split"] == "test"]
    example = npy_row(streams[0].name, decode_payload((test if len(test) else example_samples).iloc[0]))
    info = log_registered_model(checkpoint, stats, example, name)
    version = str(info.registered_model_version)
    tolerance = float(params.get("champion_tolerance", 0.02))
    decision = promote_if_not_worse(name, version, signed_primary(metrics), tolerance)
    return {"registered": True, "name": name, "version": version, "uri": f"models:/{name}/{version}", "run_id": run_id,
            "champion": decision["champion"], "champion_reason": decision["reason"],
            "previous_champion": decision["previous"], "champion_uri": f"models:/{name}@{CHAMPION}"}


def _active_run_id() -> str | None:
    import mlflow

    run = mlflow.active_run()
    return run.info.run_id if run else None


def data_docs_links(data_docs: Location | None) -> list[tuple[str, str]]:
    """(title, link relative to the report) of the Data Docs' index and of each dataset's validation
    page; the catalog puts the Data Docs folder next to the report. [] when there are none yet."""
    from omnivec2.validation.data_docs import validation_pages

    if data_docs is None:
        return []
    folder = data_docs.path
    pages = validation_pages({path.relative_to(folder).as_posix(): b"" for path in folder.rglob("*.html")})
    return [("Great Expectations Data Docs (every dataset's validation)", f"{folder.name}/index.html"),
            *[(f"Validation of {name}", f"{folder.name}/{page}") for name, page in pages.items()]]


def _log_report(report: Report) -> None:
    """report.md, report.html and figures/ as the run's artifacts under report/ (nothing without a run)."""
    with tempfile.TemporaryDirectory(prefix="omnivec2-report-") as folder:
        for name, content in report.all_files().items():
            (Path(folder) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(folder) / name).write_bytes(content)
        log_dir_artifacts(folder, "report")
