"""The validation report (JSON-serialisable, deterministic: no timestamps) and the failure message."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import decode_label_map
from omnivec2.datasets.spec import DatasetSpec

MAX_EXAMPLES = 5


def example_ids(table: pd.DataFrame, positions: Sequence[int]) -> list[str]:
    """Up to 5 sample ids at these row positions (`<row N>` where the id itself is missing)."""
    return list(_examples(table, positions))


def example_values(table: pd.DataFrame, positions: Sequence[int], column: str) -> list:
    """The `column` cell of each sample `example_ids` names (its first row among `positions`), in that
    order, as `cell_value` shows it."""
    return [cell_value(table[column].iloc[position]) for position in _examples(table, positions).values()]


def cell_value(cell: object) -> object:
    """A table cell as reports show it: numpy scalars unwrapped (JSON values), bytes (a payload, a
    label map) by their length."""
    if isinstance(cell, (bytes, bytearray)):
        return f"<{len(cell)} bytes>"
    return cell.item() if hasattr(cell, "item") else cell


def _examples(table: pd.DataFrame, positions: Sequence[int]) -> dict[str, int]:
    """{sample id: its first row position}, up to 5 ids, in the order of `positions` (duplicated ids named once)."""
    ids = table["sample_id"] if "sample_id" in table.columns else None
    out: dict[str, int] = {}
    for position in positions:
        value = ids.iloc[position] if ids is not None else None
        out.setdefault(f"<row {position}>" if value is None or pd.isna(value) else str(value), position)
        if len(out) == MAX_EXAMPLES:
            break
    return out


def describe_failure(entry: dict) -> str:
    """One report entry -> the text after `validation failed for dataset 'm': `."""
    where = f"{entry['expectation']} on column {entry['column']!r}" if entry["column"] else entry["expectation"]
    if entry.get("error"):
        return f"{where} could not be evaluated: {entry['error']}"
    if entry["level"] == "table":
        return f"{where} failed: {entry['problem']}"
    values = entry.get("values")
    examples = ", ".join(f"{sample}: {value!r}" for sample, value in zip(entry["examples"], values)) if values \
        else ", ".join(entry["examples"])
    problems = f": {'; '.join(entry['problems'])}" if entry.get("problems") else ""  # files a reader did not read
    return (f"{where} failed for {entry['unexpected_count']} of {entry['element_count']} samples (e.g. {examples})"
            f"{problems}{_expected(entry)}")


def _expected(entry: dict) -> str:
    """What a range or set check wanted, and for the payload's range (its `min`/`max` summaries)
    what to change."""
    kwargs = entry.get("kwargs") or {}
    if entry["expectation"] == "expect_column_values_to_be_in_set":
        return f"; expected one of {kwargs.get('value_set')}"
    if entry["expectation"] != "expect_column_values_to_be_between":
        return ""
    bounds = [f">= {kwargs['min_value']}" if kwargs.get("min_value") is not None else "",
              f"<= {kwargs['max_value']}" if kwargs.get("max_value") is not None else ""]
    text = f"; expected {' and '.join(b for b in bounds if b)}"
    if entry["column"] in ("min", "max"):
        text += (" (the payload's values, the modality's value_range: rescale the data, e.g. with the source's "
                 "`scale` option where it has one, or set the dataset's `value_range` shape setting)")
    return text


def failure_message(modality: str, entries: Sequence[dict]) -> str:
    """One line per failed check, each naming the modality, the expectation, the column and sample ids."""
    return "\n".join(f"validation failed for dataset {modality!r}: {describe_failure(e)}" for e in entries if not e["success"])


def class_balance(table: pd.DataFrame, spec: DatasetSpec) -> dict:
    """{split: {task: {class: count}}} over classification tasks (class keys as strings for JSON).

    Dense tasks count samples by their majority label (so counts still sum to samples); the
    per-class pixel counts are in `pixel_balance`.
    """
    balance: dict = {}
    if "split" not in table.columns:
        return balance
    for split, rows in sorted(table.groupby("split", dropna=False), key=lambda item: str(item[0])):
        per_task = {}
        for task in spec.tasks:
            if task.kind == "classification" and task.name in rows.columns:
                counts = rows[task.name].value_counts(dropna=False).sort_index()
                per_task[task.name] = {str(k): int(v) for k, v in counts.items()}
            elif task.kind == "dense" and task.name in rows.columns:
                majority = pd.Series([int(np.bincount(m.ravel()).argmax()) for m in _label_maps(rows, task.name)], dtype="int64")
                per_task[task.name] = {str(k): int(v) for k, v in majority.value_counts().sort_index().items()}
        balance[str(split)] = per_task
    return balance


def pixel_balance(table: pd.DataFrame, spec: DatasetSpec) -> dict:
    """{split: {task: {class: pixels}}} over dense tasks."""
    balance: dict = {}
    dense = [t for t in spec.tasks if t.kind == "dense" and t.name in table.columns]
    if "split" not in table.columns or not dense:
        return balance
    for split, rows in sorted(table.groupby("split", dropna=False), key=lambda item: str(item[0])):
        per_task = {}
        for task in dense:
            counts = sum((np.bincount(m.ravel(), minlength=256) for m in _label_maps(rows, task.name)),
                         np.zeros(256, np.int64))  # uint8 labels, unknown ones included
            per_task[task.name] = {str(k): int(v) for k, v in enumerate(counts) if v}
        balance[str(split)] = per_task
    return balance


def _label_maps(rows: pd.DataFrame, task: str) -> list[np.ndarray]:
    """Decodable label maps of `rows` (the valid table only holds decodable ones)."""
    maps = []
    for row in rows.to_dict("records"):
        try:
            maps.append(decode_label_map(row, task))
        except (ValueError, KeyError, TypeError):
            continue
    return [m for m in maps if m.size]


def row_counts(table: pd.DataFrame, valid: pd.DataFrame, quarantined: pd.DataFrame) -> dict:
    per_split = valid["split"].astype(str).value_counts().sort_index() if "split" in valid.columns else {}
    return {
        "total": int(len(table)),
        "valid": int(len(valid)),
        "quarantined": int(len(quarantined)),
        "valid_per_split": {str(k): int(v) for k, v in dict(per_split).items()},
    }


def source_report(table: pd.DataFrame) -> dict:
    """What the reader could not use or changed: {"source_problems": {sample id: problem}} for the
    files it skipped (every one, not a sample), {"source_notes": [...]} for what it changed (labels
    it merged); empty when neither column is in the table."""
    out: dict = {}
    if "source_problem" in table.columns:
        problems = table[table["source_problem"].map(lambda p: isinstance(p, str) and bool(p))]
        out["source_problems"] = {str(i): str(p) for i, p in zip(problems["sample_id"], problems["source_problem"])}
    if "source_note" in table.columns:
        notes = {part for text in table["source_note"].dropna() for part in str(text).split("; ") if part}
        out["source_notes"] = sorted(notes)
    return out
