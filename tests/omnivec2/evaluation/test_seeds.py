"""The main table over training seeds: workspaces on the main run's data, and mean ± std."""

import json

import pytest

from omnivec2.evaluation.seeds import aggregate, prepare_workspace, seed_params, seeds_table, write_summary

LINKED = ["data/01_raw", "data/02_intermediate", "data/03_primary"]
COPIED = ["data/08_reporting/validation", "data/08_reporting/report_pieces"]


def metrics(acc: dict[str, float], rmse: float) -> dict:
    return {"tasks": {
        "image/digit": {"kind": "classification", "omnivec2": {"accuracy": acc["ours"]},
                        "classical": {"accuracy": acc["classical"]}, "single_task": {"accuracy": acc["single"]}},
        "tabular_regression/progression": {"kind": "regression", "omnivec2": {"rmse": rmse},
                                           "classical": {"rmse": 0.8}, "single_task": {"rmse": 0.9}},
    }}


def test_mean_and_sample_std_per_task_and_system_with_the_direction_of_each_metric():
    summary = aggregate({0: metrics({"ours": 0.9, "classical": 0.95, "single": 0.5}, 0.7),
                         1: metrics({"ours": 0.8, "classical": 0.95, "single": 0.7}, 0.9)})
    digit = summary["tasks"]["image/digit"]
    assert summary["seeds"] == [0, 1] and digit["metric"] == "accuracy" and digit["higher_is_better"]
    assert digit["omnivec2"]["mean"] == pytest.approx(0.85) and digit["omnivec2"]["values"] == [0.9, 0.8]
    assert digit["omnivec2"]["std"] == pytest.approx(0.0707107, rel=1e-5) and digit["classical"]["std"] == 0.0
    table = seeds_table(summary)
    assert "| image/digit | accuracy ↑ | 0.850 ± 0.071 | 0.950 ± 0.000 | 0.600 ± 0.141 | — |" in table
    # rmse is lower-better: 0.8 (ours) against 0.8 (classical) counts as at or above it
    assert "OmniVec2 at or above classical (means): 1/2 tasks" in table
    assert "OmniVec2 at or above single_task (means): 2/2 tasks" in table


def test_scores_not_above_chance_are_marked_and_counted_per_system():
    def seed(ours: float) -> dict:
        # 92 test rows, 92 classes: 3 hits (0.033) is not above chance, 10 hits (0.109) is
        return {"tasks": {"infrared/object": {
            "kind": "classification", "test_samples": 92, "chance": {"accuracy": 1 / 92},
            "omnivec2": {"accuracy": ours}, "classical": {"accuracy": 10 / 92}, "single_task": {"accuracy": 3 / 92}}}}

    summary = aggregate({0: seed(0.0), 1: seed(2 / 92)})
    row = summary["tasks"]["infrared/object"]
    assert row["chance"] == {"value": pytest.approx(1 / 92), "trials": 92}
    assert row["omnivec2"]["p_above_chance"] > 0.05 > row["classical"]["p_above_chance"]
    table = seeds_table(summary)
    assert "| infrared/object | accuracy ↑ | 0.011 ± 0.015 ° | 0.109 ± 0.000 | 0.033 ± 0.000 ° | 0.011 |" in table
    assert "At chance, omnivec2: infrared/object" in table and "At chance, classical: none" in table
    assert "OmniVec2 at chance where classical is not: infrared/object" in table
    # with the classical baseline at chance too, the task is not counted against OmniVec2
    both = aggregate({0: seed(0.0)})
    both["tasks"]["infrared/object"]["classical"]["p_above_chance"] = 0.08
    assert "OmniVec2 at chance where classical is not: none" in seeds_table(both)


def test_one_seed_has_zero_spread_and_only_common_tasks_are_kept():
    one = metrics({"ours": 0.9, "classical": 0.95, "single": 0.5}, 0.7)
    fewer = {"tasks": {"image/digit": one["tasks"]["image/digit"]}}
    assert aggregate({0: one})["tasks"]["image/digit"]["omnivec2"]["std"] == 0.0
    assert list(aggregate({0: one, 1: fewer})["tasks"]) == ["image/digit"]


def test_a_workspace_links_the_main_run_s_data_and_copies_the_report_inputs(tmp_path):
    project = tmp_path / "project"
    for folder in ("conf/base", "data/01_raw", "data/02_intermediate", "data/03_primary/tokens",
                   "data/08_reporting/validation", "data/08_reporting/report_pieces"):
        (project / folder).mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.kedro]\n")
    (project / "data/08_reporting/report_pieces/image.json").write_text("{}")
    root = prepare_workspace(project, 2, "data/09_seeds", LINKED, COPIED)
    assert root == project.resolve() / "data/09_seeds/seed-2"
    assert (root / "data/03_primary").is_symlink() and (root / "data/03_primary/tokens").is_dir()
    assert not (root / "data/08_reporting").is_symlink() and (root / "data/08_reporting/report_pieces/image.json").exists()
    assert (root / "conf/base").is_dir() and (root / "pyproject.toml").exists()
    assert seed_params(2) == ("pretrain_unimodal.training.seed=2,pretrain_multimodal.training.seed=2,"
                              "train_multitask.training.seed=2")


def test_a_workspace_needs_a_finished_main_run(tmp_path):
    (tmp_path / "conf").mkdir()
    with pytest.raises(FileNotFoundError, match=r"run `kedro run` first"):
        prepare_workspace(tmp_path, 1, "data/09_seeds", LINKED, COPIED)


def test_the_summary_reads_each_seed_s_metrics_and_writes_beside_the_main_run_s(tmp_path):
    main, other = tmp_path / "main.json", tmp_path / "seed-1.json"
    main.write_text(json.dumps(metrics({"ours": 0.9, "classical": 0.9, "single": 0.5}, 0.7)))
    other.write_text(json.dumps(metrics({"ours": 0.7, "classical": 0.9, "single": 0.5}, 0.7)))
    table = write_summary({0: main, 1: other}, tmp_path)
    assert table == tmp_path / "seeds.md" and "0.800 ± 0.141" in table.read_text()
    assert json.loads((tmp_path / "seeds.json").read_text())["seeds"] == [0, 1]


def test_the_command_finds_its_settings_and_the_metrics_in_the_project(tmp_path, monkeypatch):
    """`omnivec2 seeds` reads the `seeds` parameters and the catalog's `metrics` entry of the project;
    with seed 0 alone it only summarises the main run."""
    import shutil

    from omnivec2.cli import run_seeds
    from tests.pipelines.conftest import PROJECT

    shutil.copytree(PROJECT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf/local").mkdir()  # a developer's own settings stay out
    metrics_file = tmp_path / "data/08_reporting/metrics.json"
    metrics_file.parent.mkdir(parents=True)
    metrics_file.write_text(json.dumps(metrics({"ours": 0.9, "classical": 0.9, "single": 0.5}, 0.7)))
    assert run_seeds([0], None, tmp_path) == 0
    assert (metrics_file.parent / "seeds.md").exists()


def test_a_tie_read_in_float32_against_float64_counts_as_at_the_baseline():
    from omnivec2.evaluation.seeds import at_or_above

    # 369 of 450 test rows (three seeds, float32 accuracies) against 123 of 150 (sklearn, float64)
    ours = (0.7799999713897705 + 0.846666693687439 + 0.8333333134651184) / 3
    assert ours < 0.82 and at_or_above(ours, 0.82, higher_is_better=True)
    assert not at_or_above(368 / 450, 0.82, higher_is_better=True)  # one row of 450 fewer is below
    assert at_or_above(0.8000001, 0.8, higher_is_better=False) and not at_or_above(0.81, 0.8, higher_is_better=False)
    summary = aggregate({0: metrics({"ours": ours, "classical": 0.82, "single": 0.9}, 0.9)})
    assert "OmniVec2 at or above classical (means): 1/2 tasks" in seeds_table(summary)
