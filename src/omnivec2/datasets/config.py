"""Datasets are configuration: a `datasets:` block (conf/<env>/parameters_datasets.yml) -> `DatasetSpec`s.

An entry names its modality, its source (`kind` + the reader's or generator's options), its shape
settings (the modality's defaults, overridable), its tasks, optionally the dataset it is paired with
(rows aligned by sample id; it implies a retrieval evaluation, see `omnivec2.datasets.pairing`) and
its data card. Everything is checked here, before anything reads or
trains: unknown keys (with a did-you-mean), unknown modalities and source kinds, shape settings the
modality cannot build, and tasks that do not fit the modality. Each message names the dataset, the
key and the value. A classification or dense task may leave out both `classes` and `num_classes`:
its class list is then inferred from the labels at ingestion (`omnivec2.datasets.classes`).
"""

from __future__ import annotations

from omnivec2.config_checks import check_class_names, check_keys
from omnivec2.data.sample_table import FIXED_COLUMNS, dense_columns
from omnivec2.datasets.pairing import match_task, read_pairing
from omnivec2.datasets.spec import TASK_KINDS, DatasetSpec, TaskSpec
from omnivec2.modalities import get_modality
from omnivec2.tokens.shards import SHARD_COLUMNS

DATASET_KEYS = ("modality", "source", "shape", "tasks", "paired_with", "card")
TASK_KEYS = ("kind", "classes", "num_classes", "ignore_index")
CARD_KEYS = ("description", "provenance", "licence", "notes")
# A task is a column of the sample table and of the token shards, so it cannot take one of theirs.
RESERVED_TASK_NAMES = tuple(sorted({*FIXED_COLUMNS, *SHARD_COLUMNS}))


def is_plain_name(name) -> bool:
    """Letters, digits and '_', starting with a letter: what a dataset or task name may be (they
    become file names, metric keys and column names)."""
    return isinstance(name, str) and name.replace("_", "").isalnum() and name[:1].isalpha()


def resolve_datasets(block: dict) -> dict[str, DatasetSpec]:
    """Every entry of a `datasets:` block, resolved and checked; sorted by name. An entry set to
    null (an environment dropping a dataset of the base configuration) is left out."""
    if not isinstance(block, dict) or not any(entry is not None for entry in block.values()):
        raise ValueError(f"datasets: expected a mapping of dataset name -> entry, got {block!r}")
    specs = {name: resolve_dataset(name, entry) for name, entry in sorted(block.items()) if entry is not None}
    for spec in specs.values():
        if spec.paired_with is not None and spec.paired_with not in specs:
            raise ValueError(f"dataset {spec.name!r}: paired_with names {spec.paired_with!r}, which is not a "
                             f"configured dataset; datasets: {sorted(specs)}")
        if spec.paired_with == spec.name:
            raise ValueError(f"dataset {spec.name!r}: paired_with names the dataset itself")
        if spec.paired_with is not None:
            match_task(spec, specs[spec.paired_with])  # a declared `match` must be a task of both
    return specs


def resolve_dataset(name: str, entry: dict) -> DatasetSpec:
    """One dataset entry -> its `DatasetSpec` (raises ValueError naming the dataset, the key and the value)."""
    where = f"dataset {name!r}"
    if not is_plain_name(name):
        raise ValueError(f"{where}: a dataset name is letters, digits and '_', starting with a letter")
    check_keys(where, entry, DATASET_KEYS)
    if "modality" not in entry:
        raise ValueError(f"{where}: no 'modality'; name one of the modality families")
    try:
        modality = get_modality(entry["modality"])
    except KeyError as error:
        raise ValueError(f"{where}: modality: {error.args[0]}") from None
    settings, parts = modality.resolve(entry.get("shape"), f"{where}, shape")
    source = entry.get("source")
    if not isinstance(source, dict) or "kind" not in source:
        raise ValueError(f"{where}: source must be a mapping with a 'kind', got {source!r}")
    from omnivec2.data.sources import check_source, source_parts

    check_source(where, modality.name, source)
    parts = source_parts(where, source, parts)
    tasks = tuple(_task(where, task_name, task, parts.dense_outputs_per_token)
                  for task_name, task in (entry.get("tasks") or {}).items())
    _check_task_columns(where, tasks)
    card = dict(entry.get("card") or {})
    check_keys(f"{where}, card", card, CARD_KEYS)
    partner, pairing = read_pairing(where, entry.get("paired_with"))
    return DatasetSpec(name=name, modality=modality.name, payload=parts.payload, tokenizer=parts.tokenizer,
                       embedding=parts.embedding, mask=parts.mask, tasks=tasks, norm_targets=parts.norm_targets,
                       reconstruction=parts.reconstruction, vocab_size=parts.vocab_size, source=dict(source),
                       settings=settings, paired_with=partner, pairing=pairing, card=card)


def _check_task_name(where: str, name) -> None:
    """A task name is a column of the sample table and the token shards, and a part of metric keys
    ("<dataset>/<task>"), file names and head names: letters, digits and '_', starting with a letter,
    and not one of the columns every table has."""
    if not is_plain_name(name):
        raise ValueError(f"{where}: a task name is letters, digits and '_', starting with a letter")
    if name in RESERVED_TASK_NAMES:
        raise ValueError(f"{where}: {name!r} is a column every sample table or token shard has "
                         f"({', '.join(RESERVED_TASK_NAMES)}); rename the task (its labels keep their source "
                         "column: the name is only the task's)")


def _check_task_columns(where: str, tasks: tuple[TaskSpec, ...]) -> None:
    """A dense task adds `<task>_shape` and `<task>_max` columns: no other task of the dataset may be named so."""
    names = {task.name for task in tasks}
    for task in (t for t in tasks if t.kind == "dense"):
        taken = sorted(names.intersection(dense_columns(task.name)))
        if taken:
            raise ValueError(f"{where}, task {taken[0]!r}: the dense task {task.name!r} stores its label maps' "
                             f"summaries in the column {taken[0]!r}; rename one of the two tasks")


def _task(where: str, name: str, entry: dict | None, dense_outputs: int | None) -> TaskSpec:
    where = f"{where}, task {name!r}"
    _check_task_name(where, name)
    entry = dict(entry or {})
    check_keys(where, entry, TASK_KEYS)
    kind = entry.get("kind", "classification")
    if kind not in TASK_KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {list(TASK_KINDS)}")
    check_class_names(where, entry.get("classes"))
    classes = tuple(str(c) for c in entry.get("classes") or ())
    if len(set(classes)) != len(classes):
        raise ValueError(f"{where}: classes lists a name twice: {list(classes)}")
    count = entry.get("num_classes")
    infer = kind in ("classification", "dense") and not classes and count is None
    if kind == "regression":
        if classes or count not in (None, 1):
            raise ValueError(f"{where}: a regression task has no classes")
        count = 1
    elif classes:
        if count is not None and int(count) != len(classes):
            raise ValueError(f"{where}: num_classes {count} but {len(classes)} classes are listed")
        count = len(classes)
    elif infer:
        count = 0  # filled in from the labels at ingestion (omnivec2.datasets.classes)
    if not infer and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        leave_out = "; or leave both out to infer the classes from the labels" if kind != "embedding" else ""
        raise ValueError(f"{where}: list its 'classes' (names in label order) or give 'num_classes' "
                         f"(a positive integer), got num_classes={count!r}{leave_out}")
    outputs = 1
    if kind == "dense":
        if dense_outputs is None:
            raise ValueError(f"{where}: this modality has no dense (per-pixel) tasks")
        outputs = dense_outputs
    ignore = entry.get("ignore_index")
    if ignore is not None and (not isinstance(ignore, int) or isinstance(ignore, bool)):
        raise ValueError(f"{where}: ignore_index must be an integer label, got {ignore!r}")
    return TaskSpec(name=name, kind=kind, num_classes=count, outputs_per_token=outputs, classes=classes,
                    ignore_index=ignore, infer_classes=infer)
