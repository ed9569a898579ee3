"""The report's two-stream table: paired datasets' tasks predicted with their partner's row through A,
next to single-stream inference on the same test rows (metrics.json's `two_stream` entries)."""

from __future__ import annotations

from omnivec2.evaluation.headline import PRIMARY

INTRO = ("Tasks of paired datasets (`paired_with`), on the test rows whose paired row is in the partner's test split: "
         "*single-stream* is the main table's protocol (A removed, as in the paper); *two-stream* feeds the partner's "
         "row through the cross-attention A that stage 3 trained.")


def two_stream_table(metrics: dict) -> str | None:
    """Markdown, one row per task with a `two_stream` entry; None when no task has one."""
    lines = ["| task | partner | test n | metric | single-stream | two-stream | two − single |", "|---|---|---|---|---|---|---|"]
    for task, entry in metrics["tasks"].items():
        pair = entry.get("two_stream")
        if not pair:
            continue
        name, higher = PRIMARY[entry["kind"]]
        single, two = pair["single_stream"][name], pair["two_stream"][name]
        lines.append(f"| {task} | {pair['partner']} | {pair['test_samples']} | {name} {'↑' if higher else '↓'} | "
                     f"{single:.3f} | {two:.3f} | {two - single:+.3f} |")
    return "\n".join(lines) if len(lines) > 2 else None
