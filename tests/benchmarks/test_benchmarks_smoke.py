"""Smoke run of the benchmark suite on the tiny preset: no timing assertions, only that it runs and
writes complete, well-formed results (every benchmark present, every ratio finite and positive)."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks.__main__ import MODULES, main
from benchmarks.f_main_job import breakdown


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["--preset", "tiny", "--out", str(out), "--main-job", "latest"]) == 0
    return out, json.loads((out / "benchmarks.json").read_text())


def test_every_benchmark_writes_rows(results):
    _, payload = results
    assert {row["benchmark"] for row in payload["rows"]} == set(MODULES)
    assert payload["meta"]["preset"] == "tiny" and payload["meta"]["versions"]["torch"]


def test_every_ratio_is_finite_and_positive_or_says_why_not(results):
    _, payload = results
    for row in payload["rows"]:
        if row["ratio"] is None:
            # Only (f) without a recorded main job, and GPU figures without a GPU, may be missing.
            assert row["note"].startswith("not measured: ") and len(row["note"]) > 20, row
            assert row["benchmark"] in ("b", "f"), row
        else:
            assert math.isfinite(row["ratio"]) and row["ratio"] > 0, row
            assert row["met"] in (True, False, None)
            assert (row["met"] is None) == (row["target"] is None), row


def test_a_to_e_and_g_to_k_are_measured_in_the_smoke_run(results):
    _, payload = results
    measured = {row["benchmark"] for row in payload["rows"] if row["ratio"] is not None}
    assert {"a", "b", "c", "d", "e", "g", "h", "i", "j", "k"} <= measured


def test_specialists_side_by_side_train_every_task_on_its_planned_budget(results):
    """(j) trains the same specialists both ways: one metric difference per task, each steps > 0 in total."""
    _, payload = results
    [row] = [row for row in payload["rows"] if row["benchmark"] == "j"]
    assert set(row["extra"]["metric_differences"]) == set(row["extra"]["steps"]) and row["extra"]["steps"]
    assert sum(row["extra"]["steps"].values()) > 0 and set(row["extra"]["seconds"]) == {"in_turn", "side_by_side"}


def test_fits_side_by_side_give_the_same_bits_as_in_turn(results):
    """(h) compares stage 3's refitted weights and every classical baseline's metrics both ways."""
    _, payload = results
    rows = [row for row in payload["rows"] if row["benchmark"] == "h"]
    assert len(rows) == 2 and all(row["extra"]["identical"] is True for row in rows), rows


def test_row_space_fits_get_at_least_as_close_to_the_optimum_as_the_full_fits(results):
    """(i): the same L2 problem in fewer columns; sklearn's stopping test stops the full fit no later."""
    _, payload = results
    [row] = [row for row in payload["rows"] if row["benchmark"] == "i"]
    fits = row["extra"]["tasks"]
    assert fits, row
    for name, fit in fits.items():
        assert fit["columns"] > fit["rows"], name
        assert fit["objective_row_space"] <= fit["objective_full"] * (1 + 1e-6), (name, fit)


def test_markdown_has_one_table_line_per_row(results):
    out, payload = results
    text = (out / "benchmarks.md").read_text()
    table = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| |")]
    assert len(table) == len(payload["rows"])
    for row in payload["rows"]:
        assert row["name"] in text


def test_main_job_breakdown_accounts_for_the_whole_wall_time():
    """(f)'s arithmetic on a synthetic record (the real one takes minutes): parts sum to the total
    and the Ray Train overhead of a stage excludes its steps and its MLflow upload."""
    raw = {"nodes": {"image.ingest": 1.0, "image.validate": 0.5, "image.tokenize": 0.25, "pretrain_unimodal": 10.0,
                     "pretrain_multimodal": 8.0, "train_multitask": 12.0, "evaluate": 3.0,
                     "train_single_task_baselines": 6.0, "render_report": 1.0, "register_final_model": 0.5},
           "timers": {"ray_startup": 4.0, "ray_shutdown": 1.0, "mlflow_hooks": 2.0},
           "stages": {s: {"train_seconds": 5.0, "upload_seconds": 0.5}
                      for s in ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")}}
    raw["stages"]["train_multitask"].update(validation_seconds=1.5, finish_seconds=2.0)
    parts = breakdown(raw, total=60.0)
    assert math.isclose(sum(parts.values()), 60.0)  # every node is in exactly one part
    assert parts["pretrain_unimodal: Ray Train overhead"] == pytest.approx(4.5)
    # the model's own work outside the steps is not orchestration
    assert parts["train_multitask: validation and end-of-stage fits"] == pytest.approx(3.5)
    assert parts["train_multitask: Ray Train overhead"] == pytest.approx(12.0 - 5.0 - 3.5 - 0.5)
    assert parts["ingestion + validation"] == 1.5 and parts["tokenization"] == 0.25  # namespaced node names
    assert parts["MLflow (hooks, uploads)"] == pytest.approx(3.5)
    assert parts["evaluation: single-task baselines"] == 6.0
    assert parts["evaluation: metrics, curves, report, registry"] == pytest.approx(4.5)
    assert parts["Kedro (start, imports, session, catalog I/O)"] == pytest.approx(60.0 - 42.25 - 5.0 - 2.0)


def test_newton_binary_fits_get_at_least_as_close_to_the_optimum_as_lbfgs(results):
    """(k): Newton-Cholesky solves each binary pixel fit to an objective no higher than L-BFGS's, and the
    project picks it for those shapes."""
    _, payload = results
    [row] = [row for row in payload["rows"] if row["benchmark"] == "k"]
    fits = row["extra"]["fits"]
    assert fits and "project's solver for these shapes: newton-cholesky" in row["note"], row
    for name, fit in fits.items():
        assert fit["rows"] > fit["columns"], name
        assert fit["objective_newton"] <= fit["objective_lbfgs"] * (1 + 1e-6), (name, fit)
