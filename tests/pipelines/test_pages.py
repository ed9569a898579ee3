"""The pages a run makes, opened in headless Chromium as a person would (README "Pages to browse"):
the report, the Great Expectations Data Docs (index and a validation page) of the session's tiny run,
and the `kedro viz build` site of the project. Each gets a screenshot, and must have rendered: its
expected text on the page, no error page, not a blank picture.

Screenshots: `<pytest tmp>/test_the_report_the_data_docs_*/screenshots/*.png`, and also under
$OMNIVEC2_SCREENSHOTS when set (`make pages` takes them from the main run instead)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from omnivec2.reporting.browse import open_page, rendered_problems, serve_folder
from tests.pipelines.conftest import kedro, make_project

pytestmark = pytest.mark.e2e


def test_the_report_the_data_docs_and_kedro_viz_render_in_chromium(tiny_run, tmp_path):
    reporting = tiny_run.project / "data/08_reporting"
    docs = reporting / "data_docs"
    report_md = (reporting / "report.md").read_text()
    assert "[Great Expectations Data Docs (every dataset's validation)](data_docs/index.html)" in report_md
    validation_pages = sorted(docs.glob("validations/*/*/*/*.html"))
    assert sorted(p.relative_to(docs).parts[1] for p in validation_pages) == sorted(tiny_run.tasks_of)
    assert list(tiny_run.project.glob("mlartifacts/*/*/artifacts/data_docs/index.html"))  # logged to MLflow

    started = time.perf_counter()
    viz = make_project(tmp_path / "viz_project")
    result = kedro(viz, "viz", "build")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    viz_seconds = time.perf_counter() - started

    shots = tmp_path / "screenshots"
    wine = next(p for p in validation_pages if p.relative_to(docs).parts[1] == "tabular")
    pages = {
        "report": (open_page((reporting / "report.html").as_uri(), shots / "report.png"),
                   ["omnivec2 evaluation report", "Pages to browse", "Data cards"]),
        "data_docs": (open_page((docs / "index.html").as_uri(), shots / "data_docs.png"),
                      ["Data Docs", "Validation Results", "Expectation Suites"]),
        "data_docs_tabular": (open_page(wine.as_uri(), shots / "data_docs_tabular.png"),
                              ["Expectation Suite: tabular", "Status: Succeeded", "Evaluated Expectations"]),
    }
    with serve_folder(viz / "build") as base:  # kedro-viz fetches its data: over HTTP, not file://
        viz_texts = ["tabular_regression", "build_data_docs", "render_report"]
        pages["kedro_viz"] = (open_page(base, shots / "kedro_viz.png", wait_ms=60000, wait_for=viz_texts), viz_texts)
    problems = [problem for page, expected in pages.values() for problem in rendered_problems(page, expected)]
    assert problems == []
    print(f"kedro viz build {viz_seconds:.1f} s; " + ", ".join(f"{name} {page.seconds:.1f} s"
                                                            for name, (page, _) in pages.items()))
    if os.environ.get("OMNIVEC2_SCREENSHOTS"):
        target = Path(os.environ["OMNIVEC2_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        for page, _ in pages.values():
            shutil.copy(page.screenshot, target / page.screenshot.name)
