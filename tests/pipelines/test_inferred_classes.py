"""Ingestion and tokenization nodes on an in-memory catalog, with the class-list and category entries
of conf/base/catalog.yml under tmp_path: a task without classes gets them from the labels, they are
written, named in the validation report and the token manifest, and a later ingestion whose data
brings a new class is refused; a table's category names go the same way into the fit statistics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

from omnivec2.datasets import NewClassesError
from pipelines.datasets import set_active_datasets
from pipelines.io import TokenCache
from pipelines.ingestion import create_pipeline as ingestion
from pipelines.tokenization import create_pipeline as tokenization
from tests.pipelines.conftest import PROJECT

CLASS_LISTS = ("{dataset}_classes", "{dataset}_classes_before", "{dataset}_categories")


def write_wine(path, labels) -> None:
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.random(len(labels)), "b": rng.random(len(labels)), "cultivar": labels}).to_csv(path, index=False)


@pytest.fixture
def wine(tmp_path):
    """The `wine` dataset entry (a CSV table whose task lists no classes), active for the pipelines."""
    entry = {"modality": "tabular", "shape": {"columns": 2},
             "source": {"kind": "table", "path": str(tmp_path / "wine.csv"), "target_column": "cultivar"},
             "tasks": {"cultivar": {"kind": "classification"}}}
    set_active_datasets({"wine": entry})
    yield entry
    set_active_datasets(None)


def catalog(tmp_path, entry: dict, dataset: str = "wine", mode: str = "fail") -> DataCatalog:
    config = yaml.safe_load((PROJECT / "conf" / "base" / "catalog.yml").read_text())
    lists = {name: {**config[name], "filepath": f"{tmp_path}/{config[name]['filepath']}"} for name in CLASS_LISTS}
    catalog = DataCatalog.from_config(lists)
    for name, value in {f"params:datasets.{dataset}": entry, "params:ingestion.seed": 0,
                        "params:ingestion.validation_mode": mode,
                        "token_cache": TokenCache(tmp_path / "tokens")}.items():
        catalog[name] = value
    return catalog


def test_inferred_classes_are_written_reported_and_size_the_manifest_s_tasks(tmp_path, wine):
    write_wine(tmp_path / "wine.csv", ["grignolino", "barolo", "barbera"] * 10)
    run = catalog(tmp_path, wine)
    SequentialRunner().run(ingestion() + tokenization(), run)
    written = json.loads((tmp_path / "data" / "02_intermediate" / "wine" / "classes.json").read_text())
    assert written == {"cultivar": ["barbera", "barolo", "grignolino"]}
    assert run.load("wine_validation_report")["classes"] == written
    (task,) = run.load("wine_token_manifest")["tasks"]
    assert task["num_classes"] == 3 and task["classes"] == ["barbera", "barolo", "grignolino"]


def test_a_second_ingestion_keeps_the_list_and_refuses_a_new_class(tmp_path, wine):
    write_wine(tmp_path / "wine.csv", ["grignolino", "barolo", "barbera"] * 10)
    SequentialRunner().run(ingestion(), catalog(tmp_path, wine))

    write_wine(tmp_path / "wine.csv", ["grignolino", "barolo"] * 15)  # one class fewer: indices stay
    again = catalog(tmp_path, wine)
    SequentialRunner().run(ingestion(), again)
    assert again.load("wine_validated_samples")["cultivar"].tolist()[:2] == [2, 1]

    write_wine(tmp_path / "wine.csv", ["grignolino", "barolo", "nebbiolo"] * 10)
    with pytest.raises(NewClassesError, match=r"dataset 'wine', task 'cultivar': the data brings class\(es\) "
                                              r"\['nebbiolo'\] that are not in the class list"):
        SequentialRunner().run(ingestion(), catalog(tmp_path, wine))
    written = json.loads((tmp_path / "data" / "02_intermediate" / "wine" / "classes.json").read_text())
    assert written == {"cultivar": ["barbera", "barolo", "grignolino"]}  # the refused run wrote nothing


def test_a_file_the_reader_skips_is_quarantined_named_in_the_report_and_never_cached(tmp_path):
    """Ingestion in quarantine mode over an image folder holding a file that is not an image: the class
    list is inferred from the images alone, the report names the file, the cache holds every image."""
    from PIL import Image

    for c, name in enumerate(("cat", "dog")):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((8, 8), 40 * i + c, np.uint8)).save(tmp_path / "photos" / name / f"{i}.png")
    (tmp_path / "photos" / "dog" / "notes.txt").write_text("labelled by hand")
    entry = {"modality": "image", "shape": {"size": [8, 8], "patch": 4},
             "source": {"kind": "image_folder", "path": str(tmp_path / "photos")}, "tasks": {"animal": {}}}
    set_active_datasets({"photos": entry})
    try:
        run = catalog(tmp_path, entry, dataset="photos", mode="quarantine")
        SequentialRunner().run(ingestion() + tokenization(), run)
        report = run.load("photos_validation_report")
    finally:
        set_active_datasets(None)
    assert report["classes"] == {"animal": ["cat", "dog"]}
    assert report["source_problems"] == {"photos-dog-notes.txt": f"{tmp_path}/photos/dog/notes.txt: not read, a reader "
                                         "of .png, .jpg, .jpeg, .gif, .bmp, .tif, .tiff, .dcm, .dicom files skips it"}
    assert report["row_counts"]["quarantined"] == 1 and report["row_counts"]["valid"] == 10
    manifest = run.load("photos_token_manifest")
    assert sum(split["rows"] for split in manifest["splits"].values()) == 10


def test_a_table_s_category_names_are_written_and_carried_by_the_fit_statistics(tmp_path):
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.random(30), "grape": ["nebbiolo", "barbera", None] * 10,
                  "cultivar": ["x", "y"] * 15}).to_csv(tmp_path / "wine.csv", index=False)
    entry = {"modality": "tabular", "shape": {"columns": 2},
             "source": {"kind": "table", "path": str(tmp_path / "wine.csv"), "target_column": "cultivar",
                        "categorical_columns": ["grape"]}, "tasks": {"cultivar": {}}}
    set_active_datasets({"wine": entry})
    try:
        run = catalog(tmp_path, entry)
        SequentialRunner().run(ingestion() + tokenization(), run)
    finally:
        set_active_datasets(None)
    written = json.loads((tmp_path / "data" / "02_intermediate" / "wine" / "categories.json").read_text())
    assert written == {"grape": ["barbera", "nebbiolo"]}
    assert run.load("wine_token_manifest")["fit_stats"]["categories"] == [
        {"position": 1, "column": "grape", "names": ["barbera", "nebbiolo"]}]
