from dataclasses import replace

import numpy as np

from omnivec2.data.sample_table import build_sample_table
from omnivec2.datasets import resolve_dataset
from omnivec2.reporting.previews import sample_preview
from omnivec2.reporting.report import ablation_table, main_table, to_html

METRICS = {"tasks": {
    "a/cls": {"kind": "classification", "test_samples": 10, "chance": {"accuracy": 0.5}, "omnivec2": {"accuracy": 0.9, "macro_f1": 0.8},
              "classical": {"accuracy": 0.7}, "single_task": {"accuracy": 0.95, "steps": 3}},
    "b/reg": {"kind": "regression", "test_samples": 5, "omnivec2": {"rmse": 0.5, "mae": 0.4},
              "classical": {"rmse": 0.6}},
}}


def test_main_table_bolds_the_best_system_per_task_in_its_direction():
    table = main_table(METRICS).splitlines()
    assert table[2] == "| a/cls | classification | 10 | accuracy ↑ | 0.900 | 0.700 ° | **0.950** | 0.500 | macro_f1 0.800 |"
    assert table[3] == "| b/reg | regression | 5 | rmse ↓ | **0.500** | 0.600 | n/a | — | mae 0.400 |"
    assert "<table>" in to_html("\n".join(table), "t")


def test_ablation_table_shows_mean_std_and_seeds():
    summary = [{"variant": "full", "task": "a/cls", "mean": 0.8, "std": 0.01, "seeds": 3},
               {"variant": "no A", "task": "a/cls", "mean": 0.7, "std": 0.02, "seeds": 3}]
    assert "| no A | 3 | 0.700 ± 0.020 | 0.700 |" in ablation_table({"summary": summary})


def test_a_modality_without_a_registered_preview_gets_one_from_its_shape():
    table = build_sample_table([f"s{i}" for i in range(6)], ["train"] * 6,
                               [np.random.default_rng(i).random((3, 40), dtype=np.float32) for i in range(6)],
                               {"kind": np.arange(6) % 2})
    spec = replace(resolve_dataset("sensor", {"modality": "tabular", "shape": {"columns": 40},
                                              "source": {"kind": "sklearn_wine"}}), modality="someone_elses_sensor")
    figure = sample_preview(spec, table, "kind")
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) == 3  # two classes, one line per channel


def test_the_report_is_assembled_from_its_pieces_and_says_when_the_ablations_did_not_run():
    from omnivec2.reporting.pieces import ReportPiece, linked_files
    from omnivec2.reporting.report import assemble_report

    card = ReportPiece("a", "### a (tabular)\n\n![a samples](figures/cards/a.png)\n", {"figures/cards/a.png": b"card"})
    figures = {"bars": ("figures/task_bars.png", b"bars")}
    report = assemble_report(METRICS, figures, {"git commit": "abc"}, {"train_multitask": {"skipped": True}}, [card], None)
    assert "- git commit: `abc`" in report.markdown and "- train_multitask: skipped" in report.markdown
    assert "## Ablations\n\n_Not run: `kedro run --pipeline ablations`" in report.markdown
    assert report.markdown.index("## Data cards") < report.markdown.index("### a (tabular)")
    assert report.files == {"figures/task_bars.png": b"bars", "figures/cards/a.png": b"card"}
    assert linked_files(report.markdown) == ["figures/task_bars.png", "figures/cards/a.png"]
    assert "<table>" in report.html
    assert list(report.all_files())[-2:] == ["report.md", "report.html"]
    assert "## Pages to browse" not in report.markdown

    pages = [("Data Docs", "data_docs/index.html"), ("Validation of a", "data_docs/validations/a/x.html")]
    linked = assemble_report(METRICS, figures, {}, {}, [card], None, pages=pages)
    assert "## Pages to browse\n\n- [Data Docs](data_docs/index.html)\n- [Validation of a](data_docs/validations/a/x.html)" in linked.markdown
    assert '<a href="data_docs/index.html">Data Docs</a>' in linked.html
    assert linked.files == report.files  # a link, not a picture: the report does not copy the pages

    summary = [{"variant": "full", "task": "a/cls", "mean": 0.8, "std": 0.01, "seeds": 3}]
    with_grid = assemble_report(METRICS, figures, {}, {}, [card], {"description": "grid", "summary": summary})
    assert "## Ablations\n\ngrid\n\n| variant | seeds | a/cls | mean |" in with_grid.markdown


def test_a_cube_with_fewer_bands_than_the_default_gets_a_false_colour_preview():
    cubes = [np.random.default_rng(i).random((16, 16, 8), dtype=np.float32) for i in range(4)]
    table = build_sample_table([f"t{i}" for i in range(4)], ["train"] * 4, cubes, {"kind": np.arange(4) % 2})
    spec = resolve_dataset("fields", {"modality": "hyperspectral", "shape": {"size": 16, "bands": 8, "patch": 4},
                                      "source": {"kind": "hsi_mixing"}})
    figure = sample_preview(spec, table, "kind")
    shown = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(shown[..., 0], np.clip(cubes[0][..., 6] / cubes[0][..., [6, 4, 1]].max(), 0, 1), rtol=1e-5)


def test_the_probe_table_has_a_row_per_task_and_a_column_per_stage_and_feature():
    from omnivec2.reporting.probe_table import probe_table

    probes = {"stages": {"init": {"a/x": {"f": {"accuracy": 0.25}, "g": {"accuracy": 0.5}}},
                         "train_multitask": {"a/x": {"f": {"accuracy": 0.75}, "g": {"accuracy": 1.0}},
                                             "b/y": {"f": {"rmse": 2.0}, "g": {"rmse": 1.5}}}}}
    metrics = {"tasks": {"a/x": {"kind": "classification", "classical": {"accuracy": 0.6}, "omnivec2": {"accuracy": 0.9}},
                         "b/y": {"kind": "regression", "classical": {"rmse": 3.0}, "omnivec2": {"rmse": 1.0}}}}
    lines = probe_table(probes, metrics).splitlines()
    assert lines[0] == ("| task | metric | raw tokens (classical) | init f | init g | train_multitask f | "
                        "train_multitask g | OmniVec2 (fine-tuned) |")
    assert lines[2] == "| a/x | accuracy ↑ | 0.600 | 0.250 | 0.500 | 0.750 | 1.000 | 0.900 |"
    assert lines[3] == "| b/y | rmse ↓ | 3.000 | n/a | n/a | 2.000 | 1.500 | 1.000 |"
