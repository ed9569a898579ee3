"""The validation report (JSON-serialisable, deterministic: no timestamps) and the failure message."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from omnivec2.modalities.spec import ModalitySpec

MAX_EXAMPLES = 5


def example_ids(table: pd.DataFrame, positions: Sequence[int]) -> list[str]:
    """Up to 5 sample ids at these row positions (`<row N>` where the id itself is missing)."""
    ids = table["sample_id"] if "sample_id" in table.columns else None
    out: dict[str, None] = {}  # ordered set: duplicated ids are named once
    for position in positions:
        value = ids.iloc[position] if ids is not None else None
        out[f"<row {position}>" if value is None or pd.isna(value) else str(value)] = None
        if len(out) == MAX_EXAMPLES:
            break
    return list(out)


def describe_failure(entry: dict) -> str:
    """One report entry -> the text after `validation failed for modality 'm': `."""
    where = f"{entry['expectation']} on column {entry['column']!r}" if entry["column"] else entry["expectation"]
    if entry.get("error"):
        return f"{where} could not be evaluated: {entry['error']}"
    if entry["level"] == "table":
        return f"{where} failed: {entry['problem']}"
    examples = ", ".join(entry["examples"])
    return f"{where} failed for {entry['unexpected_count']} of {entry['element_count']} samples (e.g. {examples})"


def failure_message(modality: str, entries: Sequence[dict]) -> str:
    """One line per failed check, each naming the modality, the expectation, the column and sample ids."""
    return "\n".join(f"validation failed for modality {modality!r}: {describe_failure(e)}" for e in entries if not e["success"])


def class_balance(table: pd.DataFrame, spec: ModalitySpec) -> dict:
    """{split: {task: {class: count}}} over classification tasks (class keys as strings for JSON)."""
    balance: dict = {}
    if "split" not in table.columns:
        return balance
    for split, rows in sorted(table.groupby("split", dropna=False), key=lambda item: str(item[0])):
        per_task = {}
        for task in spec.tasks:
            if task.kind == "classification" and task.name in rows.columns:
                counts = rows[task.name].value_counts(dropna=False).sort_index()
                per_task[task.name] = {str(k): int(v) for k, v in counts.items()}
        balance[str(split)] = per_task
    return balance


def row_counts(table: pd.DataFrame, valid: pd.DataFrame, quarantined: pd.DataFrame) -> dict:
    per_split = valid["split"].astype(str).value_counts().sort_index() if "split" in valid.columns else {}
    return {
        "total": int(len(table)),
        "valid": int(len(valid)),
        "quarantined": int(len(quarantined)),
        "valid_per_split": {str(k): int(v) for k, v in dict(per_split).items()},
    }
