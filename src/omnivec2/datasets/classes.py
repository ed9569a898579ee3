"""Class lists inferred from the data, for the classification and dense tasks whose configuration
lists neither `classes` nor `num_classes` (`TaskSpec.infer_classes`).

The first ingestion infers each list from the labels the source read: the names the source numbered
string labels by (sorted names, or the source's own `classes` option in its order), else, for integer
labels and dense label maps, "0".."max" (num_classes = largest label + 1, so name i is class i).
The list is written with the run's outputs, and the next ingestion numbers its labels by it: a class
keeps its index when the data changes, and a label outside the list is refused (`NewClassesError`)
instead of renumbering the classes after it under a trained model. A list declared in the
configuration is authoritative and never inferred.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import dense_columns
from omnivec2.datasets.spec import DatasetSpec, TaskSpec

ClassLists = Mapping[str, Sequence[str]]  # task name -> class names in index order


class NewClassesError(ValueError):
    """The data brings classes that are not in the class list an earlier ingestion inferred."""


def infer_class_lists(spec: DatasetSpec, table: pd.DataFrame, names_read: ClassLists,
                      earlier: ClassLists) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """-> (the table with its labels numbered by the class lists, {task: class list}) for the tasks
    of `spec` that infer their classes.

    `names_read`: the names each task's string labels were numbered by (`read_source`); a task not
    in it had integer labels, numbered as themselves. `earlier`: the lists a previous ingestion
    wrote ({} on the first one); where a task has one, it is kept and the labels are renumbered by
    it, and a class the data brings that it lacks raises `NewClassesError`.
    """
    lists = {}
    for task in (t for t in spec.tasks if t.infer_classes):
        numbering, present = _labels(spec, table, task, names_read.get(task.name))
        known = [str(name) for name in earlier.get(task.name) or ()]
        if not known:
            lists[task.name] = numbering
            continue
        new = [name for name in present if name not in known]
        if new:
            raise NewClassesError(
                f"dataset {spec.name!r}, task {task.name!r}: the data brings class(es) {new} that are not in the "
                f"class list an earlier ingestion inferred, {known}. Declare the task's 'classes' in the dataset's "
                "configuration (the model's heads then change: retrain), or delete the earlier list "
                f"(the {spec.name}_classes catalog entry) to infer a new one.")
        if task.kind == "classification" and numbering != known[: len(numbering)]:
            index = {position: known.index(name) for position, name in enumerate(numbering) if name in known}
            table = table.assign(**{task.name: table[task.name].map(index)})
        lists[task.name] = known
    return table, lists


def with_class_lists(spec: DatasetSpec, lists: ClassLists) -> DatasetSpec:
    """`spec` with the class lists of its inferring tasks filled in (names and count); declared tasks
    are kept as they are. ValueError naming the dataset and the task when a list is missing."""
    tasks = []
    for task in spec.tasks:
        if task.infer_classes:
            names = tuple(str(name) for name in lists.get(task.name) or ())
            if not names:
                raise ValueError(f"dataset {spec.name!r}, task {task.name!r}: its classes are inferred at "
                                 f"ingestion, but the class lists ({spec.name}_classes) have none for it; "
                                 "run the ingestion pipeline for this configuration")
            task = replace(task, num_classes=len(names), classes=names)
        tasks.append(task)
    return replace(spec, tasks=tuple(tasks))


def _labels(spec: DatasetSpec, table: pd.DataFrame, task: TaskSpec,
            names: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """-> (the names the table's labels are numbered by, the names of the labels present)."""
    column = dense_columns(task.name)[1] if task.kind == "dense" else task.name  # a label map's largest label
    values = np.unique(table[column].dropna().to_numpy(dtype=np.int64)) if column in table else np.array([], np.int64)
    values = values[values >= 0]  # -1: a row standing for a file the reader skipped (validation refuses it)
    if not len(values):
        raise ValueError(f"dataset {spec.name!r}, task {task.name!r}: no labels to infer its classes from; "
                         "declare its 'classes' in the dataset's configuration")
    numbering = [str(name) for name in names] if names else [str(i) for i in range(int(values.max()) + 1)]
    if task.kind == "dense" or not names:
        return numbering, [str(int(v)) for v in values]
    return numbering, [numbering[int(v)] for v in values]
