"""The linear-probe table of the report: per task, the primary metric of a linear model on the frozen
shared features at initialisation and after each stage, beside the classical baseline on raw tokens
and the fine-tuned OmniVec2 (from the main table)."""

from __future__ import annotations

from omnivec2.evaluation.headline import PRIMARY

INTRO = ("A linear model (the classical baseline's) fitted on frozen, pooled single-stream features, train split, "
         "scored on test. `f`: after f and its FC layers; `g`: after g and Fuse, what the heads read. *init* is the "
         "same network at its random initialisation: a stage has taught the shared features something where its "
         "probe beats *init*; pretraining helps a linear probe where stage 1 or 2 beats *raw tokens*.")


def probe_table(probes: dict, metrics: dict) -> str:
    """linear_probe.json and metrics.json -> markdown: one row per probed task."""
    stages = list(probes["stages"])
    tasks = sorted({task for results in probes["stages"].values() for task in results})
    head = ["task", "metric", "raw tokens (classical)"] + [f"{s} {where}" for s in stages for where in ("f", "g")]
    lines = ["| " + " | ".join(head + ["OmniVec2 (fine-tuned)"]) + " |", "|---" * (len(head) + 1) + "|"]
    for task in tasks:
        entry = metrics["tasks"].get(task, {})
        name, higher = PRIMARY[entry.get("kind", "classification")]
        cells = [_cell(entry.get("classical"), name)]
        for stage in stages:
            result = probes["stages"][stage].get(task)
            cells += [_cell(result.get(where) if result else None, name) for where in ("f", "g")]
        cells.append(_cell(entry.get("omnivec2"), name))
        lines.append(f"| {task} | {name} {'↑' if higher else '↓'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(values: dict | None, name: str) -> str:
    value = (values or {}).get(name)
    return "n/a" if value is None else f"{value:.3f}"
