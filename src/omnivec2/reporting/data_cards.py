"""One data card per dataset: description, provenance and licence (the dataset entry's `card`), the
source actually ingested (generator parameters included), counts per split and class (the
validation report), the token shape and cache size (the manifest), and a picture of a few samples.
Classes are shown by name where the task has names (declared, or inferred and in the manifest)."""

from __future__ import annotations

from pathlib import Path

from omnivec2.datasets import DatasetSpec, with_class_lists


def cache_bytes(cache_root: str | Path, manifest: dict) -> int:
    directory = Path(cache_root) / manifest["dataset"]
    return sum((directory / entry["file"]).stat().st_size for entry in manifest["splits"].values())


def with_manifest_classes(spec: DatasetSpec, manifest: dict) -> DatasetSpec:
    """`spec` with the class lists its token cache was built with (those inferred at ingestion too)."""
    return with_class_lists(spec, {task["name"]: task.get("classes") or () for task in manifest["tasks"]})


def class_balance_by_name(balance: dict, spec: DatasetSpec) -> dict:
    """The validation report's {split: {task: {index: count}}} keyed by class name where the task has names."""
    names = {task.name: task.classes for task in spec.tasks}
    return {split: {task: {class_name(names.get(task, ()), key): count for key, count in counts.items()}
                    for task, counts in per_task.items()}
            for split, per_task in balance.items()}


def class_name(names: tuple[str, ...], index) -> str:
    """Class `index` (an int or its string) by name, or the index itself when there is no name for it."""
    text = str(index)
    return names[int(text)] if text.isdigit() and int(text) < len(names) else text


def data_card(spec: DatasetSpec, validation: dict, manifest: dict, cache_root: str | Path) -> dict:
    """Everything a card shows, as plain data (the picture is drawn separately); `spec` names the
    classes (see `with_manifest_classes`)."""
    card = spec.card
    provenance = "\n".join(filter(None, [f"provenance: {card['provenance']}" if card.get("provenance") else "",
                                          f"licence: {card['licence']}" if card.get("licence") else "",
                                          str(card.get("notes") or "").strip()]))
    return {
        "dataset": spec.name,
        "modality": spec.modality,
        "description": spec.description,
        "provenance": provenance or "not given (add a `card` to the dataset entry)",
        "source": spec.source,
        "shape": spec.settings,
        "payload": {"shape": list(spec.payload.shape), "dtype": spec.payload.dtype},
        "tasks": [{"name": t.name, "kind": t.kind, "classes": t.num_classes, "names": list(t.classes)}
                  for t in spec.tasks],
        "rows": validation.get("row_counts", {}),
        "class_balance": class_balance_by_name(validation.get("class_balance", {}), spec),
        "quarantine_reasons": validation.get("quarantine_reasons", {}),
        "token_shape": manifest["token_shape"],
        "tokenizer": manifest["tokenizer"]["config"],
        "cache_bytes": cache_bytes(cache_root, manifest),
    }


def card_markdown(card: dict, picture: str | None) -> str:
    """A card -> markdown (one `###` section); `picture` is a path relative to the report."""
    rows = card["rows"]
    lines = [f"### {card['dataset']} ({card['modality']})", "", card["description"], ""]
    if picture:
        lines += [f"![{card['dataset']} samples]({picture})", ""]
    lines += ["<details><summary>provenance, licence, generator</summary>", "", "```text", card["provenance"], "```", "",
              "</details>", ""]
    shape = ", ".join(f"{k}={v}" for k, v in card["shape"].items())
    source = ", ".join(f"{k}={v}" for k, v in card["source"].items() if k != "storage_options")
    lines += [
        f"- source: `{source}`; shape settings: `{shape}`",
        f"- payload `{card['payload']['dtype']}{card['payload']['shape']}` -> tokens `{card['token_shape']}` "
        f"({card['tokenizer'].get('kind', '?')}), cache {card['cache_bytes'] / 1e6:.2f} MB",
        f"- samples: {rows.get('valid', '?')} valid of {rows.get('total', '?')} "
        f"({rows.get('quarantined', 0)} quarantined); per split: {_splits(rows.get('valid_per_split', {}))}",
        f"- tasks: {', '.join(_task(t) for t in card['tasks'])}",
    ]
    balance = card["class_balance"]
    if balance:
        lines += ["", "| split | task | samples per class |", "|---|---|---|"]
        for split in ("train", "val", "test"):
            for task, counts in (balance.get(split) or {}).items():
                lines.append(f"| {split} | {task} | {_counts(counts)} |")
    return "\n".join(lines) + "\n"


def _splits(counts: dict) -> str:
    return " / ".join(f"{s} {counts[s]}" for s in ("train", "val", "test") if s in counts)


def _task(task: dict) -> str:
    return f"{task['name']} ({task['kind']}{', ' + str(task['classes']) + ' classes' if task['classes'] else ''})"


def _counts(counts: dict) -> str:
    """Class -> count, shortened past 12 classes to the range."""
    if len(counts) > 12:
        values = list(counts.values())
        return f"{len(counts)} classes, {min(values)}-{max(values)} each"
    return ", ".join(f"{k}: {v}" for k, v in counts.items())
