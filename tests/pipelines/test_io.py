"""The project's own Kedro datasets (pipelines/io/), through the catalog as conf/base/catalog.yml
declares them: round trips, atomic writes, and the optional file that is not there yet."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from kedro.io import DataCatalog
from kedro.io.core import DatasetError

from omnivec2.reporting.pieces import Report, ReportPiece
from pipelines.io import Location, TokenCache
from tests.pipelines.conftest import PROJECT

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # any bytes: the datasets never decode them


@pytest.fixture
def catalog(tmp_path, monkeypatch) -> DataCatalog:
    """The project's catalog, run from tmp_path as from a project root (relative paths land there)."""
    monkeypatch.chdir(tmp_path)
    return DataCatalog.from_config(yaml.safe_load((PROJECT / "conf" / "base" / "catalog.yml").read_text()))


def test_token_cache_and_model_folders_load_as_locations_relative_to_the_project(catalog, tmp_path):
    cache = catalog.load("token_cache")
    assert isinstance(cache, TokenCache)
    assert cache.recorded == "data/03_primary/tokens" and cache.path == tmp_path / "data/03_primary/tokens"
    (cache.path / "image").mkdir(parents=True)
    (cache.path / "image" / "manifest.json").write_text(json.dumps({"dataset": "image"}))
    assert cache.manifest("image") == {"dataset": "image"}

    model = catalog.load("train_multitask_model")
    assert type(model) is Location and model.recorded == "data/06_models/train_multitask"
    assert model.path == tmp_path / "data/06_models/train_multitask"
    assert not catalog.exists("train_multitask_model")  # nothing trained yet: loading still works
    with pytest.raises(DatasetError, match="written by the library code"):
        catalog.save("train_multitask_model", model)


def test_summaries_record_a_folder_relative_to_the_project_even_when_kedro_made_the_path_absolute(tmp_path,
                                                                                                monkeypatch):
    from kedro.framework.context.context import _convert_paths_to_absolute_posix

    from pipelines.io import locate

    monkeypatch.chdir(tmp_path)  # `kedro run` runs in the project root
    config = yaml.safe_load((PROJECT / "conf" / "base" / "catalog.yml").read_text())
    catalog = DataCatalog.from_config(_convert_paths_to_absolute_posix(tmp_path, config))  # what KedroContext does
    model = catalog.load("pretrain_unimodal_model")
    assert model.recorded == "data/06_models/pretrain_unimodal"  # what the stage summary, versioned by DVC, holds
    assert locate(model.recorded) == model
    assert Location(tmp_path.parent / "elsewhere").recorded == (tmp_path.parent / "elsewhere").as_posix()


def test_the_ablation_table_loads_as_none_until_the_grid_has_run(catalog, tmp_path):
    assert catalog.load("ablation_results") is None
    catalog.save("ablation_results", {"summary": [{"variant": "full"}]})
    assert catalog.load("ablation_results") == {"summary": [{"variant": "full"}]}
    assert (tmp_path / "data/08_reporting/ablations/ablations.json").is_file()


def test_the_class_lists_of_an_earlier_run_are_empty_before_it_and_read_only(catalog):
    assert catalog.load("image_classes_before") == {}
    catalog.save("image_classes", {"digit": ["0", "1"]})
    assert catalog.load("image_classes_before") == {"digit": ["0", "1"]}
    with pytest.raises(DatasetError, match="read back from an earlier run"):
        catalog.save("image_classes_before", {})


def test_a_report_piece_round_trips_through_one_json_file(catalog, tmp_path):
    piece = ReportPiece("image", "### image\n\n![image samples](figures/cards/image.png)\n",
                        {"figures/cards/image.png": PNG})
    catalog.save("image_report_card", piece)
    assert catalog.load("image_report_card") == piece
    assert [p.name for p in (tmp_path / "data/08_reporting/report_pieces").iterdir()] == ["image.json"]  # no temp


def test_the_report_folder_round_trips_and_leaves_the_folder_s_other_files(catalog, tmp_path):
    folder = tmp_path / "data/08_reporting"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    markdown = "# r\n\n![bars](figures/task_bars.png)\n\n![image samples](figures/cards/image.png)\n"
    report = Report(markdown, "<html></html>", {"figures/task_bars.png": PNG, "figures/cards/image.png": PNG[::-1]})
    catalog.save("report", report)
    assert catalog.load("report") == report
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "figures/cards/image.png", "figures/task_bars.png", "metrics.json", "report.html", "report.md"]


def test_a_writer_that_dies_mid_file_leaves_the_previous_report_whole(catalog, tmp_path, monkeypatch):
    """Each file is replaced atomically (temporary file, then rename), pictures before report.md."""
    old = Report("![bars](figures/task_bars.png)\n", "<p>old</p>", {"figures/task_bars.png": PNG})
    catalog.save("report", old)
    written = []

    def dies_on_the_markdown(src, dst):
        if str(dst).endswith("report.md"):
            raise OSError("killed")
        written.append(os.path.basename(dst))
        return real_replace(src, dst)

    real_replace = os.replace
    monkeypatch.setattr(os, "replace", dies_on_the_markdown)
    new = Report("![bars](figures/task_bars.png)\nnew\n", "<p>new</p>", {"figures/task_bars.png": PNG[::-1]})
    with pytest.raises(DatasetError, match="killed"):
        catalog.save("report", new)
    monkeypatch.setattr(os, "replace", real_replace)
    assert written == ["task_bars.png"]  # the picture first, then the report: never a report without its pictures
    assert catalog.load("report") == Report(old.markdown, old.html, new.files)


def test_the_data_docs_folder_is_replaced_whole_next_to_the_report(catalog, tmp_path):
    """A new site replaces the old one (no stale page of a dataset that left the run); the folder
    sits next to the report, which links it as data_docs/index.html."""
    assert catalog.load("data_docs") is None  # before the first ingestion: the report leaves the link out
    catalog.save("data_docs", {"index.html": b"<p>1</p>", "validations/gone/x.html": b"old"})
    catalog.save("data_docs", {"index.html": b"<p>2</p>", "validations/wine/x.html": b"new"})
    docs = catalog.load("data_docs")
    assert sorted(p.relative_to(docs.path).as_posix() for p in docs.path.rglob("*") if p.is_file()) == [
        "index.html", "validations/wine/x.html"]
    assert (docs.path / "index.html").read_bytes() == b"<p>2</p>" and docs.path.parent == tmp_path / "data/08_reporting"
    assert [p.name for p in docs.path.parent.iterdir()] == ["data_docs"]  # no .new / .old left behind
    with pytest.raises(DatasetError, match="needs an index.html"):
        catalog.save("data_docs", {"other.html": b""})
    with pytest.raises(DatasetError, match="outside"):
        catalog.save("data_docs", {"index.html": b"", "../escape.html": b""})
