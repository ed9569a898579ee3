"""`dvc repro` on the tiny preset: the stage graph chains every pipeline in order, every stage runs
Kedro's `base` environment (the files dvc.lock records), `dvc metrics show` prints one figure per task,
`dvc plots` draws the confusion matrices and the report's figures, and on a finished run a changed
parameter re-runs only the stages it touches while a re-run of stage 1 with the same result re-runs
nothing after it.

The finished run is a copy of the session's `tiny_run` (one `kedro run` of the whole pipeline),
recorded in `dvc.lock` by `dvc commit`, which refuses a stage whose declared outputs are missing;
re-running every stage from scratch here as well would repeat that run's minutes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tests.pipelines.conftest import PROJECT, copy_project, subprocess_env

pytestmark = [pytest.mark.e2e, pytest.mark.continues_tiny_run]

ABLATION_TABLE = "data/08_reporting/ablations/ablations.json"  # committed to git; the evaluation stage reads it
STAGES = ["ingestion", "tokenization", "pretrain_unimodal", "pretrain_multimodal", "train_multitask", "evaluation"]


def run(cwd: Path, *args: str) -> str:
    # 30 min: stage 3 and evaluation of the tiny preset took over 15 on a 2-core machine shared with other runs
    result = subprocess.run(args, cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def ran_stages(output: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", output)


def fold_preset_into_base(conf: Path, preset: str) -> None:
    """Write `conf/<preset>`'s values into the `conf/base` files that hold their top-level keys, merged
    as Kedro's soft merge does: dvc.yaml's stages run `--env base`, so under DVC a preset's values
    must be base's own (and dvc.lock then records them)."""
    files = {path: yaml.safe_load(path.read_text()) or {} for path in sorted((conf / "base").glob("parameters*.yml"))}
    home = {key: path for path, values in files.items() for key in values}
    for path in sorted((conf / preset).glob("parameters*.yml")):
        for key, value in (yaml.safe_load(path.read_text()) or {}).items():
            target = home[key]  # a preset only overrides keys that base declares
            files[target][key] = OmegaConf.to_container(OmegaConf.merge(files[target].get(key) or {}, value))
    for path, values in files.items():
        path.write_text(yaml.safe_dump(values, sort_keys=False))


def make_dvc_project(root: Path) -> Path:
    """The project's code and DVC pipeline at `root` (which may already hold a run's outputs), with the
    tiny preset (and the users' datasets a tiny run declared in conf/tiny) folded into conf/base, the
    environment dvc.yaml's commands use."""
    for item in ("conf", "pipelines", "src", "dvc.yaml", "pyproject.toml", ABLATION_TABLE):
        source, target = PROJECT / item, root / item
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    fold_preset_into_base(root / "conf", "tiny")
    run(root, "git", "init", "-q")
    run(root, "dvc", "init", "-q")
    return root


def test_every_stage_runs_kedro_s_base_environment_whose_files_it_tracks():
    """dvc.lock cannot record parameters other than those used: no stage reads conf/local or a preset."""
    stages = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        assert stage["cmd"] == f"kedro run --pipeline {name} --env base", name
        assert "conf/base/catalog.yml" in stage["deps"], name
        for entry in stage.get("params", []):
            (path,) = entry
            assert path.startswith("conf/base/parameters"), (name, path)


def test_metrics_show_one_figure_per_task_and_plots_draw_confusion_matrices_and_figures(tmp_path):
    """What `dvc metrics show` and `dvc plots show` make of evaluation's files (written here by hand)."""
    project = make_dvc_project(tmp_path / "project")
    reporting = project / "data/08_reporting"
    (reporting / "predictions/wine").mkdir(parents=True)
    (reporting / "predictions/wine/cultivar.csv").write_text("sample_id,actual,predicted\nw1,barolo,barolo\n")
    (reporting / "figures").mkdir()
    import matplotlib.pyplot as plt

    figure = plt.figure()
    figure.savefig(reporting / "figures/task_bars.png")
    plt.close(figure)
    (reporting / "headline.json").write_text(json.dumps({"wine/cultivar": {"accuracy": 0.75}}))
    (reporting / "metrics.json").write_text(json.dumps({"tasks": {"wine/cultivar": {"omnivec2": {"accuracy": 0.75}}}}))

    (metrics,) = json.loads(run(project, "dvc", "metrics", "show", "--json")).values()  # keyed by revision
    assert metrics["data"] == {"data/08_reporting/headline.json": {"data": {"wine/cultivar": {"accuracy": 0.75}}}}
    assert run(project, "dvc", "metrics", "show").split("\n")[0].split() == ["Path", "wine/cultivar.accuracy"]
    shown = subprocess.run(["dvc", "plots", "show", "--json"], cwd=project, env=subprocess_env(), capture_output=True,
                           text=True, timeout=300, check=True)
    plots = json.loads(shown.stdout)["data"]
    confusion = plots["data/08_reporting/predictions/wine/cultivar.csv"][0]["content"]["spec"]["encoding"]
    assert confusion["x"]["field"] == "actual" and confusion["y"]["field"] == "predicted"
    assert plots["data/08_reporting/figures/task_bars.png"][0]["type"] == "image"


def test_the_stage_graph_chains_every_pipeline(tmp_path):
    """Each stage depends on the one before it, so `dvc repro` on a fresh project runs them in order."""
    dot = run(make_dvc_project(tmp_path / "project"), "dvc", "dag", "--dot")
    edges = set(re.findall(r'"(\w+)" -> "(\w+)"', dot))
    assert set(zip(STAGES, STAGES[1:])) <= edges
    assert set(re.findall(r'^"(\w+)";$', dot, re.MULTILINE)) == set(STAGES)


def test_repro_reruns_only_what_a_parameter_change_touches(tiny_run, tmp_path):
    from mlflow.tracking import MlflowClient

    project = make_dvc_project(copy_project(tiny_run.project, tmp_path / "project"))
    run(project, "dvc", "commit", "--force")  # the finished run's outputs, as the stages' results
    assert (project / "dvc.lock").exists()

    second = run(project, "dvc", "repro")
    assert ran_stages(second) == [] and "up to date" in second

    # Stage 1 again with nothing changed (issue 14): it writes new timings (and curves, which hold
    # time per step), but its summary and weights, which stage 2 depends on, hold none, so stages 2
    # and 3 stay up to date; only the report, which shows both, is out of date (and re-runs below).
    timings = project / "data/08_reporting/timings/pretrain_unimodal.json"
    before = timings.read_text()
    forced = run(project, "dvc", "repro", "--force", "--single-item", "pretrain_unimodal")
    assert ran_stages(forced) == ["pretrain_unimodal"] and timings.read_text() != before
    status = subprocess.run(["dvc", "status", "--json"], cwd=project, env=subprocess_env(), capture_output=True,
                            text=True, timeout=300, check=True).stdout
    (changed,) = json.loads(status)["evaluation"]
    assert set(json.loads(status)) == {"evaluation"}, status
    assert set(changed["changed deps"]) <= {"data/08_reporting/timings", "data/08_reporting/curves"}, status

    # A stage-3 parameter: the two stages that read it re-run, everything upstream is kept.
    params = project / "conf/base/parameters_train_multitask.yml"
    values = yaml.safe_load(params.read_text())
    values["train_multitask"]["training"]["lr"] = 9.0e-4
    params.write_text(yaml.safe_dump(values, sort_keys=False))
    third = run(project, "dvc", "repro")
    assert ran_stages(third) == ["train_multitask", "evaluation"]
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    assert lock["train_multitask"]["params"]["conf/base/parameters_train_multitask.yml"]["train_multitask"][
        "training"]["lr"] == 9.0e-4  # what the stage ran with: conf/base is all it read
    headline = json.loads((project / "data/08_reporting/headline.json").read_text())
    assert set(headline) == set(json.loads((project / "data/08_reporting/metrics.json").read_text())["tasks"])

    # MLflow: the last `dvc repro`'s two stages under one parent, each tagged with its DVC stage.
    client = MlflowClient(f"sqlite:///{project}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("omnivec2").experiment_id],
                              filter_string="tags.`dvc.parent` = 'true'", order_by=["attributes.start_time DESC"])
    last = runs[0]
    assert last.info.run_name == "dvc repro" and last.info.status == "FINISHED"
    children = client.search_runs([last.info.experiment_id],
                                  filter_string=f"tags.`mlflow.parentRunId` = '{last.info.run_id}'")
    assert sorted(r.data.tags["dvc.stage"] for r in children) == ["evaluation", "train_multitask"]
