"""The paper's ablation grid (`kedro run --pipeline ablations`) on a finished run, and the report
with its table. Continues from a copy of the session's tiny run."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.pipelines.conftest import copy_project, kedro

pytestmark = [pytest.mark.e2e, pytest.mark.continues_tiny_run]


def test_the_ablation_grid_then_the_report_with_its_table(tiny_run, tmp_path):
    """The grid on the run's caches (3 seeds, every variant, unseen-modality adaptation), then the
    report re-rendered with its table, in a copy of the finished run."""
    project = copy_project(tiny_run.project, tmp_path / "project")
    result = kedro(project, "run", "--env", "tiny", "--pipeline", "ablations")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    ablations = json.loads((project / "data/08_reporting/ablations/ablations.json").read_text())
    from omnivec2.ablations.variants import VARIANTS

    assert {(r["variant"], r["seed"]) for r in ablations["runs"]} == {(v.name, s) for v in VARIANTS for s in (0, 1, 2)}
    assert {d["variant"] for d in ablations["directions"]} == {v.name for v in VARIANTS[1:]}
    assert all(np.isfinite(r["std"]) for r in ablations["summary"]) and len(ablations["unseen_modality"]) == 3
    total = 3 * len(VARIANTS) + 3  # the output is not a terminal: a plain progress line per run of the grid
    done = re.findall(rf"\[omnivec2\] ablation grid: (\d+)/{total} \(", result.stdout + result.stderr)
    assert [int(n) for n in done] == list(range(1, total + 1)), done
    result = kedro(project, "run", "--env", "tiny", "--pipeline", "evaluation", "--nodes", "render_report")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    report = (project / "data/08_reporting/report.md").read_text()
    assert "## Ablations" in report and "| unified tokenizer | 3 |" in report and "Unseen modality `tabular`" in report
