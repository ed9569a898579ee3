"""Class lists inferred from the data: a task that lists neither `classes` nor `num_classes` gets its
classes from the labels the source read, keeps them on the next ingestion and refuses a new class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources import read_source
from omnivec2.datasets import NewClassesError, infer_class_lists, resolve_dataset, with_class_lists


def wine_table(path, labels) -> str:
    """A CSV of two feature columns and a `cultivar` target, one row per label."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.random(len(labels)), "b": rng.random(len(labels)), "cultivar": labels})
    frame.to_csv(path, index=False)
    return str(path)


def wine(path, **task) -> dict:
    return {"modality": "tabular", "shape": {"columns": 2}, "source": {"kind": "table", "path": path,
                                                                      "target_column": "cultivar"},
            "tasks": {"cultivar": {"kind": "classification", **task}}}


def test_a_task_without_classes_or_a_count_infers_them():
    task = resolve_dataset("wine", wine("/data/wine.csv")).tasks[0]
    assert task.infer_classes and task.num_classes == 0 and task.classes == ()
    declared = resolve_dataset("wine", wine("/data/wine.csv", num_classes=3)).tasks[0]
    assert not declared.infer_classes and declared.num_classes == 3


def test_string_labels_give_their_names_in_sorted_order(tmp_path):
    spec = resolve_dataset("wine", wine(wine_table(tmp_path / "w.csv", ["barolo", "barbera", "grignolino"] * 10)))
    table, names = read_source(spec, spec.source, seed=0)
    table, lists = infer_class_lists(spec, table, names, {})
    assert lists == {"cultivar": ["barbera", "barolo", "grignolino"]}
    assert table["cultivar"].tolist()[:3] == [1, 0, 2]
    filled = with_class_lists(spec, lists).tasks[0]
    assert filled.num_classes == 3 and filled.classes == ("barbera", "barolo", "grignolino")


def test_integer_labels_give_0_to_the_largest_label(tmp_path):
    spec = resolve_dataset("wine", wine(wine_table(tmp_path / "w.csv", [0, 1, 3] * 10)))
    table, names = read_source(spec, spec.source, seed=0)
    assert names == {}  # integer labels are class indices already
    _, lists = infer_class_lists(spec, table, names, {})
    assert lists == {"cultivar": ["0", "1", "2", "3"]}
    assert with_class_lists(spec, lists).tasks[0].num_classes == 4


def test_a_dense_task_counts_up_to_its_largest_pixel_label():
    spec = resolve_dataset("seg", {"modality": "depth", "source": {"kind": "depth_folder", "path": "/d"},
                                   "tasks": {"mask": {"kind": "dense"}}})
    maps = [np.full((64, 64), label, np.uint8) for label in (0, 2, 1)]
    table = build_sample_table(["a", "b", "c"], ["train"] * 3, [np.zeros((64, 64), np.float32)] * 3, {"mask": maps})
    assert infer_class_lists(spec, table, {}, {})[1] == {"mask": ["0", "1", "2"]}
    with pytest.raises(NewClassesError, match=r"dataset 'seg', task 'mask': the data brings class\(es\) \['2'\]"):
        infer_class_lists(spec, table, {}, {"mask": ["0", "1"]})


def test_a_later_ingestion_keeps_the_earlier_list_and_its_numbering(tmp_path):
    spec = resolve_dataset("wine", wine(wine_table(tmp_path / "w.csv", ["grignolino", "barolo"] * 10)))
    table, names = read_source(spec, spec.source, seed=0)  # barbera is absent this time
    table, lists = infer_class_lists(spec, table, names, {"cultivar": ["barbera", "barolo", "grignolino"]})
    assert lists == {"cultivar": ["barbera", "barolo", "grignolino"]}
    assert table["cultivar"].tolist()[:2] == [2, 1]  # numbered by the earlier list, not by [barolo, grignolino]


def test_a_later_ingestion_with_a_new_class_is_refused_naming_it(tmp_path):
    spec = resolve_dataset("wine", wine(wine_table(tmp_path / "w.csv", ["barolo", "nebbiolo", "dolcetto"] * 10)))
    table, names = read_source(spec, spec.source, seed=0)
    with pytest.raises(NewClassesError) as info:
        infer_class_lists(spec, table, names, {"cultivar": ["barbera", "barolo", "grignolino"]})
    assert ("dataset 'wine', task 'cultivar': the data brings class(es) ['dolcetto', 'nebbiolo'] that are not in "
            "the class list an earlier ingestion inferred, ['barbera', 'barolo', 'grignolino']") in str(info.value)
    assert "Declare the task's 'classes'" in str(info.value)


def test_declared_classes_are_neither_inferred_nor_checked_against_an_earlier_list(tmp_path):
    spec = resolve_dataset("wine", wine(wine_table(tmp_path / "w.csv", ["b", "a"] * 10), classes=["b", "a"]))
    table, names = read_source(spec, spec.source, seed=0)
    table, lists = infer_class_lists(spec, table, names, {"cultivar": ["x"]})
    assert lists == {} and table["cultivar"].tolist()[:2] == [0, 1]
    assert with_class_lists(spec, {}).tasks == spec.tasks


def test_a_spec_without_its_inferred_list_is_refused_naming_the_task():
    spec = resolve_dataset("wine", wine("/data/wine.csv"))
    with pytest.raises(ValueError, match=r"dataset 'wine', task 'cultivar': its classes are inferred at ingestion"):
        with_class_lists(spec, {})
