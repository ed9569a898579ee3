"""`kedro run --env tiny` for real: Ray Train workers (not local mode), MLflow, GX, the token cache.

Most tests read the session's one run (`tiny_run`, tests/pipelines/conftest.py); the ones that break
a run get their own project, and the ones that continue from a copy of the finished run are in
test_continue_from_run.py. tests/conftest.py collects this module first, so the worker that takes it
starts the run at once. These are the slow tests; `make test-fast` leaves them out.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from tests.default_suite import DATASETS
from tests.pipelines import user_datasets, user_formats
from tests.pipelines.conftest import PROJECT, kedro

pytestmark = pytest.mark.e2e

STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


def mlflow_runs(root):
    with sqlite3.connect(root / "mlflow.db") as db:
        runs = db.execute("select run_uuid, name, status from runs").fetchall()
        parents = dict(db.execute("select run_uuid, value from tags where key = 'mlflow.parentRunId'").fetchall())
        tags = db.execute("select run_uuid, key, value from tags").fetchall()
        metrics = db.execute("select run_uuid, key, step from metrics").fetchall()
    return runs, parents, tags, metrics


def test_every_dataset_is_validated_cached_trained_and_scored(tiny_run):
    project, tasks_of = tiny_run.project, tiny_run.tasks_of
    for modality in tasks_of:
        report = json.loads((project / f"data/08_reporting/validation/{modality}.json").read_text())
        assert report["success"] is True and report["dataset"] == modality
        manifest = json.loads((project / f"data/03_primary/tokens/{modality}/manifest.json").read_text())
        assert set(manifest["splits"]) == {"train", "val", "test"}
    for stage in STAGES:
        assert (project / f"data/06_models/{stage}/model.safetensors").exists()
        summary = json.loads((project / f"data/06_models/{stage}.json").read_text())
        assert summary["steps"] == 12
        curve = pd.read_csv(project / f"data/08_reporting/curves/{stage}.csv")
        assert list(curve["step"]) == [2, 4, 6, 8, 10, 12] and np.isfinite(curve["loss"]).all()
    metrics = json.loads((project / "data/08_reporting/metrics.json").read_text())
    supervised = {f"{m}/{t}" for m, tasks in tasks_of.items() for t in tasks}
    assert set(metrics["tasks"]) == supervised | {"rgb/to_infrared"}
    headline = {"classification": "accuracy", "dense": "miou", "regression": "rmse", "retrieval": "rank1"}
    visits = json.loads((project / "data/06_models/train_multitask.json").read_text())["visits"]
    assert set(visits) == supervised and sum(v["visits"] for v in visits.values()) == 2 * 12  # a pair per step
    for task, entry in metrics["tasks"].items():
        key = headline[entry["kind"]]
        assert np.isfinite(entry["omnivec2"][key]) and np.isfinite(entry["classical"][key])
        if task in supervised:  # a specialist per supervised task, on the visits the task got in stage 3
            assert np.isfinite(entry["single_task"][key]) and entry["single_task"]["steps"] == visits[task]["visits"]
    assert metrics["tasks"]["rgb/to_infrared"]["train_pairs"] == 552
    assert metrics["tasks"]["photos/species"]["classical"]["accuracy"] > 0.6  # the label is learnable
    # Unlabelled pixels are scored nowhere: the per-class IoU names only the labelled materials.
    assert set(metrics["tasks"]["fields/land"]["per_class_iou"]) <= set(user_datasets.FIELD_CLASSES[1:])
    assert (project / "data/08_reporting/training_curves.png").stat().st_size > 1000


def test_the_report_has_every_task_its_figures_and_a_card_per_dataset(tiny_run):
    project = tiny_run.project
    metrics = json.loads((project / "data/08_reporting/metrics.json").read_text())
    report = (project / "data/08_reporting/report.md").read_text()
    for task in metrics["tasks"]:
        assert f"| {task} |" in report
    for picture in [line.split("](")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]:
        assert (project / "data/08_reporting" / picture).stat().st_size > 1000, picture
    assert report.count("\n### ") >= len(tiny_run.tasks_of) + 4 and "confusion_matrices.png" in report
    assert "<table>" in (project / "data/08_reporting/report.html").read_text()
    registered = json.loads((project / "data/08_reporting/registered_model.json").read_text())
    assert registered["registered"] and registered["uri"] == "models:/omnivec2/1"
    # Linear probes at initialisation and after each stage, for every classification/regression task.
    probes = json.loads((project / "data/08_reporting/linear_probe.json").read_text())
    assert list(probes["stages"]) == ["init", "pretrain_unimodal", "pretrain_multimodal", "train_multitask"]
    probed = {t for t, e in metrics["tasks"].items() if e["kind"] in ("classification", "regression")}
    assert set(probes["stages"]["train_multitask"]) == probed
    assert "## Linear probes of the shared features" in report
    # Learning curves: stage 3 validated every task at steps 4, 8 and 12 (tiny preset).
    curves = json.loads((project / "data/08_reporting/learning_curves.json").read_text())
    assert all(len(points) == 3 for points in curves["multitask"].values()) and "learning_curves.png" in report
    # Class names, not indices: the users' data cards and metrics name their classes.
    for names in (user_formats.SHAPE_CLASSES, user_formats.ROOM_CLASSES, user_formats.CLIP_CLASSES):
        assert all(name in report for name in names), names
    assert set(metrics["tasks"]["clips/motion"]["per_class_recall"]) <= set(user_formats.CLIP_CLASSES)
    assert set(metrics["tasks"]["rooms/furniture"]["per_class_iou"]) <= set(user_formats.ROOM_MASK)


def test_two_image_datasets_share_one_image_projection(tiny_run):
    """The 8x8 digits and the users' photos at 16x16 have one token width (2x2 patches)."""
    from omnivec2.checkpoint import load_model

    model = load_model(tiny_run.project / "data/06_models/train_multitask")
    assert model.tokenizer("image") is model.tokenizer("photos")
    assert [k for k in model.state_dict() if k.startswith("embeddings.image__patch_linear__4.")] == [
        "embeddings.image__patch_linear__4.proj.weight", "embeddings.image__patch_linear__4.proj.bias"]


def test_predictions_answer_every_task_with_the_dataset_s_class_names(tiny_run):
    """Inference on one file per dataset (its payload as .npy), from the folder and from the
    registry; a user's file in its own format answers with the user's class names."""
    project, tasks_of = tiny_run.project, tiny_run.tasks_of
    predictions = predict_one_file_per_modality(project, list(tasks_of))
    assert set(predictions) == set(tasks_of)
    for modality, result in predictions.items():
        assert set(result["tasks"]) == set(tasks_of[modality])
    assert predictions["reviews"]["tasks"]["opinion"]["label"] in user_datasets.REVIEW_CLASSES
    assert predictions["motions"]["tasks"]["gesture"]["label"] in user_datasets.MOTION_CLASSES
    assert predictions["shoppers"]["tasks"]["bought"]["label"] in user_datasets.SHOPPER_CLASSES
    for dataset, task, names in (("clips", "motion", user_formats.CLIP_CLASSES), ("shapes", "form", user_formats.SHAPE_CLASSES),
                                 ("rooms", "scene", user_formats.ROOM_CLASSES),
                                 ("molecules", "solubility", user_formats.MOLECULE_CLASSES)):
        assert predictions[dataset]["tasks"][task]["label"] in names
    assert predictions["rooms"]["tasks"]["furniture"]["classes"] == user_formats.ROOM_MASK
    # The same shoppers row as the user has it (categories by name), through `omnivec2 predict`'s CSV reader.
    assert predict_shoppers_row_by_name(tiny_run) == predictions["shoppers"]["tasks"]
    from omnivec2.inference import Predictor

    photo = next((tiny_run.user_data / "photos/fox").glob("*.png"))
    answer = Predictor(project / "data/06_models/train_multitask", project / "data/03_primary/tokens").predict("photos", photo)
    assert answer["tasks"]["species"]["label"] in user_datasets.PHOTO_CLASSES


def test_mlflow_has_one_parent_run_with_a_nested_run_per_stage(tiny_run):
    """Per-step losses, checkpoint and validation artifacts, and the run's provenance tags."""
    project = tiny_run.project
    runs, parents, tags, metrics_rows = mlflow_runs(project)
    by_name = {name: run_id for run_id, name, _ in runs}
    parent = by_name["__default__"]
    assert all(status == "FINISHED" for *_, status in runs)
    for stage in STAGES:
        assert parents[by_name[stage]] == parent
        steps = sorted(step for run_id, key, step in metrics_rows if run_id == by_name[stage] and key == "loss")
        assert steps == [2, 4, 6, 8, 10, 12]
        assert list(project.glob(f"mlartifacts/*/{by_name[stage]}/artifacts/checkpoints/{stage}/model.safetensors"))
    for modality in tiny_run.tasks_of:
        assert list(project.glob(f"mlartifacts/*/{parent}/artifacts/validation/{modality}.json"))
    parent_tags = {k: v for run_id, k, v in tags if run_id == parent}
    assert {"git.commit", "dvc.lock.sha256", "kedro.command"} <= set(parent_tags)
    assert list(project.glob(f"mlartifacts/*/{parent}/artifacts/plots/training_curves.png"))


def test_the_log_has_each_stage_s_progress_lines(tiny_run):
    """Rank 0 prints stage, step/steps, loss, steps/s and ETA every log_every (2) steps of each stage;
    the single-task baselines print a plain progress line per task (the output is not a terminal);
    the timing table is still printed at the end."""
    import re

    log = tiny_run.log  # stdout, then stderr
    for stage in STAGES:
        steps = [int(m.group(1)) for m in re.finditer(
            rf"\[omnivec2\] {stage}: step (\d+)/12 loss \d+\.\d{{4}} \| \d+\.\d\d steps/s \| ETA \d+:\d\d", log)]
        assert steps == [2, 4, 6, 8, 10, 12], (stage, steps)  # in order, each once (Ray's print patch is off)
    tasks = sum(len(t) for t in tiny_run.tasks_of.values())
    done = [int(n) for n in re.findall(rf"\[omnivec2\] single-task baselines: (\d+)/{tasks} \(", log)]
    assert list(dict.fromkeys(done)) == list(range(1, tasks + 1)), done
    assert "node wall times:" in log and re.search(r"^total +\d+\.\d\d s$", log, re.M)


def test_the_results_notebook_reproduces_the_main_table(tiny_run):
    notebook = execute_notebook(PROJECT / "notebooks" / "results.ipynb", tiny_run.project)
    table = notebook.cells[3].outputs[0]["data"]["text/plain"]
    assert "image/digit" in table and "classical baseline" in table


def predict_one_file_per_modality(project, names: list[str]) -> dict:
    """Each dataset's first test sample saved as .npy -> `predict_file`; then the command line on
    a native file (registry reference) and on a malformed one."""
    import sys

    from omnivec2.data.sample_table import decode_payload
    from omnivec2.inference import PredictionError, Predictor

    predictor = Predictor(project / "data/06_models/train_multitask", project / "data/03_primary/tokens")
    results = {}
    for modality in names:
        table = pd.read_parquet(project / f"data/02_intermediate/{modality}/samples.parquet")
        path = project / f"{modality}.npy"
        np.save(path, decode_payload(table[table["split"] == "test"].iloc[0]))
        results[modality] = predictor.predict(modality, path)
    bad = project / "bad.npy"
    np.save(bad, np.full((8, 8), np.inf, np.float32))
    with pytest.raises(PredictionError, match=r"dataset 'image': .*bad.npy: expect_column_values_to_be_between on column 'inf_count'"):
        predictor.predict("image", bad)

    text = project / "tweet.txt"
    text.write_text("what a great phone, love it")
    command = [str(Path(sys.executable).parent / "omnivec2")]  # the console script `pip install -e .` declares
    assert Path(command[0]).exists()
    ok = subprocess.run([*command, "predict", "--model", "models:/omnivec2@champion", "--tracking-uri",
                         f"sqlite:///{project / 'mlflow.db'}", "--modality", "text", str(text), str(text)],
                        cwd=project, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-3000:]
    answers = [json.loads(line) for line in ok.stdout.splitlines()]  # one model load, a line per file
    assert len(answers) == 2 and answers[0] == answers[1]
    sentiment = answers[0]["tasks"]["sentiment"]
    assert sentiment["prediction"] in (0, 1, 2) and sentiment["label"] == DATASETS["text"].task("sentiment").classes[
        sentiment["prediction"]]
    (project / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    failed = subprocess.run([*command, "predict", "--modality", "xray", "broken.png"], cwd=project,
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode == 2 and "dataset 'xray'" in failed.stderr and "not a decodable PNG" in failed.stderr
    return results


def predict_shoppers_row_by_name(tiny_run) -> dict:
    """The first test row of the users' shoppers table (the one `predict_one_file_per_modality` sent
    as a cached payload), written as a CSV row with its category names -> the predicted tasks."""
    from omnivec2.inference import Predictor

    project = tiny_run.project
    samples = pd.read_parquet(project / "data/02_intermediate/shoppers/samples.parquet")
    sample = samples[samples["split"] == "test"].iloc[0]["sample_id"]
    source = tiny_run.user["shoppers"]["source"]
    raw = pd.read_csv(source["path"], sep=source["separator"], decimal=source["decimal"], encoding=source["encoding"])
    row = raw.set_index("id").loc[sample]
    cells = ["" if pd.isna(row[c]) else str(row[c]) for c in ("age", "income", "colour", "size")]
    (project / "shopper.csv").write_text("age,income,colour,size\n" + ",".join(cells) + "\n", encoding="utf-8")
    predictor = Predictor(project / "data/06_models/train_multitask", project / "data/03_primary/tokens")
    return predictor.predict("shoppers", project / "shopper.csv")["tasks"]


def execute_notebook(path, project):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    os.environ["OMNIVEC2_PROJECT"] = str(project)
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    finally:
        del os.environ["OMNIVEC2_PROJECT"]
    return notebook


def test_corrupt_input_stops_the_run_at_validation(project):
    """A tabular source with three faults (a missing value, a label outside the classes, a repeated id)
    stops `kedro run` with one message that names the dataset, each failed check and its sample;
    nothing is tokenized or trained from it, and the validation report is saved."""
    wine = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    wine.insert(0, "sample_id", [f"wine-{i:05d}" for i in range(len(wine))])
    wine.loc[17, "alcohol"] = np.nan
    wine.loc[40, "cultivar"] = 7
    wine.loc[91, "sample_id"] = wine.loc[90, "sample_id"]
    wine.to_csv(project / "wine.csv", index=False)
    # --env tiny loads conf/base + conf/tiny (not conf/local), so the user's override goes there; the
    # other datasets are dropped, which keeps the run to this one dataset's ingestion.
    dropped = "".join(f"  {name}: null\n" for name in DATASETS if name != "tabular")
    (project / "conf/tiny/parameters_datasets.yml").write_text(
        "datasets:\n" + dropped + "  tabular:\n    source:\n      kind: table\n"
        f"      path: {project / 'wine.csv'}\n      target_column: cultivar\n      id_column: sample_id\n")

    result = kedro(project, "run", "--env", "tiny", timeout=1500)  # minutes on a loaded 2-core machine
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "validation failed for dataset 'tabular'" in message, message[-5000:]
    for check, sample in (("nan_count", "wine-00017"), ("cultivar", "wine-00040"), ("sample_id", "wine-00090")):
        assert check in message and sample in message, (check, sample, message[-5000:])
    assert "Running node: tokenize" not in message and "Started a local Ray instance" not in message  # no Ray for it
    assert not (project / "data/03_primary/tokens/tabular").exists()
    assert not list((project / "data/06_models").glob("*/model.safetensors"))
    report = json.loads((project / "data/08_reporting/validation/tabular.json").read_text())
    assert report["success"] is False


@pytest.mark.parametrize("entry, message", [
    ("  tabular:\n    source:\n      val_fractoin: 0.2\n",
     "dataset 'tabular', source (sklearn_wine): unknown key(s) ['val_fractoin'] (did you mean 'val_fractoin' -> 'val_fraction'?)"),
    ("  photos:\n    modality: image\n    shape: {size: 16, channels: 1, patch: 2}\n    source: {kind: image_folder, path: PHOTOS}\n"
     "    tasks:\n      species: {classes: [cat, dog]}\n",
     "dataset 'photos', task 'species': label 'fox' in"),
])
def test_a_bad_dataset_entry_stops_the_run_before_anything_trains(project, tmp_path, entry, message):
    """An entry the configuration check refuses stops `kedro run` before any node runs; labels that
    do not match the declared classes stop it at ingestion, before anything is tokenized or trained."""
    user_datasets.write_photos(tmp_path / "photos", per_class=2)
    dropped = "".join(f"  {name}: null\n" for name in DATASETS if f"  {name}:" not in entry)  # a quick run
    (project / "conf/tiny/parameters_datasets.yml").write_text(
        "datasets:\n" + dropped + entry.replace("PHOTOS", str(tmp_path / "photos")))
    result = kedro(project, "run", "--env", "tiny", timeout=900)
    assert result.returncode != 0
    unwrapped = "".join((result.stdout + result.stderr).split())  # the console wraps long messages
    assert "".join(message.split()) in unwrapped, result.stdout[-3000:] + result.stderr[-3000:]
    assert not (project / "data/03_primary/tokens").exists() and not (project / "data/06_models").exists()
