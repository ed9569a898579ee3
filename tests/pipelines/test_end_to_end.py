"""`kedro run --env tiny` for real: Ray Train workers (not local mode), MLflow, GX, the token cache.

Most tests read the session's one run (`tiny_run`, tests/pipelines/conftest.py), or continue from a
copy of it (the DVC re-run, the resume drill); the ones that break a run get their own project. Every
test of that run is in this module, so that `pytest -n 2 --dist loadfile` runs it on one worker
(tests/conftest.py puts this module first). These are the slow tests; `make test-fast` leaves them out.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.datasets import load_wine

from tests.default_suite import DATASETS
from tests.pipelines import user_datasets
from tests.pipelines.conftest import KEDRO, PROJECT, copy_project, kedro, subprocess_env
from tests.pipelines.test_dvc import make_dvc_project, ran_stages, run

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
    for task, entry in metrics["tasks"].items():
        key = headline[entry["kind"]]
        assert np.isfinite(entry["omnivec2"][key]) and np.isfinite(entry["classical"][key])
        if task in supervised:  # a specialist per supervised task, with the budget the task got in stage 3
            assert np.isfinite(entry["single_task"][key]) and entry["single_task"]["steps"] >= 1
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


def test_the_ablation_grid_then_the_report_with_its_table(tiny_run):
    """The grid on the run's caches (3 seeds, every variant, unseen-modality adaptation), then the
    report re-rendered with its table. Comes after the tests that read the first report."""
    project = tiny_run.project
    result = kedro(project, "run", "--env", "tiny", "--pipeline", "ablations")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    ablations = json.loads((project / "data/08_reporting/ablations/ablations.json").read_text())
    from omnivec2.ablations.variants import VARIANTS

    assert {(r["variant"], r["seed"]) for r in ablations["runs"]} == {(v.name, s) for v in VARIANTS for s in (0, 1, 2)}
    assert {d["variant"] for d in ablations["directions"]} == {v.name for v in VARIANTS[1:]}
    assert all(np.isfinite(r["std"]) for r in ablations["summary"]) and len(ablations["unseen_modality"]) == 3
    result = kedro(project, "run", "--env", "tiny", "--pipeline", "evaluation", "--nodes", "render_report")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    report = (project / "data/08_reporting/report.md").read_text()
    assert "## Ablations" in report and "| unified tokenizer | 3 |" in report and "Unseen modality `tabular`" in report


def test_the_results_notebook_reproduces_the_main_table(tiny_run):
    notebook = execute_notebook(PROJECT / "notebooks" / "results.ipynb", tiny_run.project)
    table = notebook.cells[3].outputs[0]["data"]["text/plain"]
    assert "image/digit" in table and "classical baseline" in table


def predict_one_file_per_modality(project, names: list[str]) -> dict:
    """Each dataset's first test sample saved as .npy -> `predict_file`; then the command line on
    a native file (registry reference) and on a malformed one."""
    import subprocess
    import sys

    from omnivec2.data.sample_table import decode_payload
    from omnivec2.inference import PredictionError, predict_file

    results = {}
    for modality in names:
        table = pd.read_parquet(project / f"data/02_intermediate/{modality}/samples.parquet")
        path = project / f"{modality}.npy"
        np.save(path, decode_payload(table[table["split"] == "test"].iloc[0]))
        results[modality] = predict_file(project / "data/06_models/train_multitask", modality, path,
                                         project / "data/03_primary/tokens")
    bad = project / "bad.npy"
    np.save(bad, np.full((8, 8), np.inf, np.float32))
    with pytest.raises(PredictionError, match=r"dataset 'image': .*bad.npy: expect_column_values_to_be_between on column 'inf_count'"):
        predict_file(project / "data/06_models/train_multitask", "image", bad, project / "data/03_primary/tokens")

    text = project / "tweet.txt"
    text.write_text("what a great phone, love it")
    command = [str(Path(sys.executable).parent / "omnivec2")]  # the console script `pip install -e .` declares
    assert Path(command[0]).exists()
    ok = subprocess.run([*command, "predict", "--model", "models:/omnivec2/latest", "--tracking-uri",
                         f"sqlite:///{project / 'mlflow.db'}", "--modality", "text", str(text)],
                        cwd=project, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert json.loads(ok.stdout)["tasks"]["sentiment"]["prediction"] in (0, 1, 2)
    (project / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    failed = subprocess.run([*command, "predict", "--modality", "xray", "broken.png"], cwd=project,
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode == 2 and "dataset 'xray'" in failed.stderr and "not a decodable PNG" in failed.stderr
    return results


def execute_notebook(path, project):
    import os

    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    os.environ["OMNIVEC2_PROJECT"] = str(project)
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    finally:
        del os.environ["OMNIVEC2_PROJECT"]
    return notebook


@pytest.mark.parametrize("corruption, expected", [
    ("nan", "nan_count"),
    ("label", "cultivar"),
    ("duplicate", "sample_id"),
])
def test_corrupt_input_stops_the_run_at_validation(project, corruption, expected):
    """A bad tabular source stops `kedro run` with a message naming the dataset, check and sample;
    nothing is tokenized or trained from it, and the report is saved."""
    wine = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    wine.insert(0, "sample_id", [f"wine-{i:05d}" for i in range(len(wine))])
    if corruption == "nan":
        wine.loc[17, "alcohol"] = np.nan
    elif corruption == "label":
        wine.loc[17, "cultivar"] = 7
    else:
        wine.loc[17, "sample_id"] = wine.loc[16, "sample_id"]
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
    assert "validation failed for dataset 'tabular'" in message and expected in message
    assert "wine-00017" in message or "wine-00016" in message
    assert not (project / "data/03_primary/tokens/tabular").exists()
    assert not list((project / "data/06_models").glob("*/model.safetensors"))
    report = json.loads((project / "data/08_reporting/validation/tabular.json").read_text())
    assert report["success"] is False


@pytest.mark.parametrize("entry, message", [
    ("  tabular:\n    source:\n      val_fractoin: 0.2\n",
     "dataset 'tabular', source (sklearn_wine): unknown key(s) ['val_fractoin'] (did you mean 'val_fractoin' -> 'val_fraction'?)"),
    ("  photos:\n    modality: image\n    shape: {size: 16, channels: 1, patch: 2}\n    source: {kind: image_folder, path: PHOTOS}\n"
     "    tasks:\n      species: {classes: [cat, dog]}\n",
     "dataset 'photos': label 'fox' in"),
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


# DVC on a finished run.

def test_repro_reruns_only_what_a_parameter_change_touches(tiny_run, tmp_path):
    project = make_dvc_project(copy_project(tiny_run.project, tmp_path / "project"))
    run(project, "dvc", "commit", "--force")  # the finished run's outputs, as the stages' results
    assert (project / "dvc.lock").exists()

    second = run(project, "dvc", "repro")
    assert ran_stages(second) == [] and "up to date" in second

    # A stage-3 parameter: the two stages that read it re-run, everything upstream is kept.
    params = project / "conf/base/parameters_train_multitask.yml"
    params.write_text(params.read_text().replace("lr: 1.0e-3", "lr: 9.0e-4", 1))
    third = run(project, "dvc", "repro")
    assert ran_stages(third) == ["train_multitask", "evaluation"]
    assert (project / "data/08_reporting/metrics.json").exists()


# Kill the driver (`kedro run`) in the middle of a training stage, then run again with
# `--only-missing-outputs`: the interrupted stage resumes from its latest Ray checkpoint and the
# stages that had finished (ingestion, tokenization, stage 1) are not redone.
# 
# It starts from a copy of the session's finished tiny run without stage 2 and what follows it
# (outputs and Ray runs), so only stage 2 trains.
# 
# The worker is held at step 8 of stage 2 by the fault hook (`action: pause`, via the environment
# variable `OMNIVEC2_FAULT_INJECTION`), so the kill lands mid-stage at a known point, after the step-6
# checkpoint; the kill itself is a plain SIGKILL of the kedro process from outside.

RESUMED_STAGE = "pretrain_multimodal"
# Up to stage 2 only, to keep the test short; the whole pipeline resumes the same way.
RESUME_RUN = ("run", "--env", "tiny", "--to-nodes", RESUMED_STAGE, "--only-missing-outputs")
UNFINISHED = ("data/06_models/pretrain_multimodal*", "data/06_models/train_multitask*",
              "data/06_models/ray_runs/pretrain_multimodal-*", "data/06_models/ray_runs/train_multitask-*",
              "data/08_reporting/curves/pretrain_multimodal.csv", "data/08_reporting/curves/train_multitask.csv")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stop_leftovers(processes: list[psutil.Process]) -> list[str]:
    """Processes of the killed run still alive after a grace period, killed by PID; returns them."""
    _, alive = psutil.wait_procs(processes, timeout=10)
    names = []
    for process in alive:
        try:
            names.append(f"{process.pid} {process.name()}")
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    return names


def test_a_killed_driver_resumes_the_interrupted_stage_and_skips_finished_ones(tiny_run, tmp_path):
    project = copy_project(tiny_run.project, tmp_path / "project", without=UNFINISHED)
    signal_file = tmp_path / "paused"
    fault = {"stage": RESUMED_STAGE, "at_step": 8, "action": "pause", "seconds": 600,
             "marker": str(tmp_path / "fired"), "signal_file": str(signal_file)}
    env = subprocess_env(OMNIVEC2_FAULT_INJECTION=json.dumps(fault))
    log = open(tmp_path / "first-run.log", "w")
    driver = subprocess.Popen([KEDRO, *RESUME_RUN], cwd=project, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    descendants: list[psutil.Process] = []
    launched = time.time()
    try:
        deadline = time.time() + 400
        while not signal_file.exists():
            assert driver.poll() is None, (tmp_path / "first-run.log").read_text()[-3000:]
            assert time.time() < deadline, "stage 2 never reached step 8"
            time.sleep(0.5)
        time.sleep(2.0)  # Ray registers the step-6 checkpoint within a poll (0.2 s) of its report
        descendants = psutil.Process(driver.pid).children(recursive=True)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
        log.close()
        leftovers = stop_leftovers(descendants)
    print(f"killed the driver {time.time() - launched:.1f} s after launch; processes of the killed run "
          f"still alive 10 s later (stopped by PID): {leftovers}")

    models = project / "data" / "06_models"
    finished = {name: (sha256(models / "pretrain_unimodal" / name), (models / "pretrain_unimodal" / name).stat().st_mtime_ns)
                for name in ("model.safetensors", "trainer.safetensors")}
    stage1_summary = (models / "pretrain_unimodal.json").read_text()
    assert not (models / RESUMED_STAGE).exists() and not (models / f"{RESUMED_STAGE}.json").exists()  # interrupted mid-stage
    assert list((models / "ray_runs").glob(f"{RESUMED_STAGE}-*/checkpoint_*"))  # ... with checkpoints in Ray storage

    started = time.time()
    result = kedro(project, *RESUME_RUN)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    print(f"rerun: {time.time() - started:.1f} s")
    (tmp_path / "rerun.log").write_text(output)

    assert f"{RESUMED_STAGE}: resumed at step 6 of 12 from the latest checkpoint" in output
    summary = json.loads((models / f"{RESUMED_STAGE}.json").read_text())
    assert summary["resumed_at_steps"] == [6] and summary["steps"] == 12
    assert list(pd.read_csv(project / f"data/08_reporting/curves/{RESUMED_STAGE}.csv")["step"]) == [2, 4, 6, 8, 10, 12]
    # Finished work is not redone: ingestion, tokenization and stage 1 were skipped, files untouched.
    for name, (digest, mtime) in finished.items():
        path = models / "pretrain_unimodal" / name
        assert (sha256(path), path.stat().st_mtime_ns) == (digest, mtime)
    assert (models / "pretrain_unimodal.json").read_text() == stage1_summary
    assert f"Running node: {RESUMED_STAGE}" in output
    assert "pretrain_unimodal: resumed" not in output and "Running node: pretrain_unimodal" not in output
    assert (models / RESUMED_STAGE / "model.safetensors").exists()
