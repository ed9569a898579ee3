"""The report (report.md and report.html as a `Report`): run metadata, the main table (OmniVec2 next
to both baselines), the figures, the ablation table (or a line saying the grid was not run), and a
data card per dataset, each built beforehand as a `ReportPiece` (`data_card_piece`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omnivec2.datasets import DatasetSpec
from omnivec2.evaluation.chance import ALPHA, chance_level, p_above_chance
from omnivec2.reporting.data_cards import card_markdown, data_card, with_manifest_classes
from omnivec2.reporting.figures import PRIMARY, SYSTEMS
from omnivec2.reporting.pieces import Report, ReportPiece, figure_file
from omnivec2.reporting.previews import sample_preview
from omnivec2.reporting.probe_table import INTRO as PROBE_INTRO
from omnivec2.reporting.probe_table import probe_table
from omnivec2.reporting.two_stream_table import INTRO as TWO_STREAM_INTRO
from omnivec2.reporting.two_stream_table import two_stream_table


def main_table(metrics: dict) -> str:
    """Markdown: one row per task, the primary metric of each system (° where not above the task's
    chance level, `chance.p_above_chance` >= `chance.ALPHA`), the chance level, OmniVec2's other metrics."""
    head = "| task | kind | test n | metric | OmniVec2 | classical | single-task | chance | OmniVec2, all metrics |"
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for task, entry in metrics["tasks"].items():
        name, higher = PRIMARY[entry["kind"]]
        level = chance_level(entry)
        values = [entry.get(system, {}).get(name) for system in SYSTEMS]
        known = [v for v in values if v is not None]
        best = (max if higher else min)(known) if known else None
        cells = [("**%.3f**" if v == best and len(known) > 1 else "%.3f") % v if v is not None else "n/a" for v in values]
        if level is not None:
            cells = [c + " °" if v is not None and p_above_chance(v, entry["test_samples"], level) >= ALPHA else c
                     for c, v in zip(cells, values)]
        cells.append("%.3f" % level if level is not None else "—")
        others = ", ".join(f"{k} {v:.3f}" for k, v in entry["omnivec2"].items() if k != name and isinstance(v, float))
        arrow = "↑" if higher else "↓"
        lines.append(f"| {task} | {entry['kind']} | {entry['test_samples']} | {name} {arrow} | {' | '.join(cells)} | {others} |")
    return "\n".join(lines)


def ablation_table(ablations: dict) -> str:
    """ablations.json -> markdown: variant x task, mean ± std over seeds."""
    rows = ablations.get("summary", [])
    if not rows:
        return "_no ablation results_"
    frame = pd.DataFrame(rows)
    tasks = sorted(frame["task"].unique())
    lines = ["| variant | seeds | " + " | ".join(tasks) + " | mean |", "|---" * (len(tasks) + 3) + "|"]
    for variant, group in frame.groupby("variant", sort=False):
        cells = []
        for task in tasks:
            row = group[group["task"] == task]
            cells.append(f"{row['mean'].iloc[0]:.3f} ± {row['std'].iloc[0]:.3f}" if len(row) else "n/a")
        lines.append(f"| {variant} | {int(group['seeds'].max())} | {' | '.join(cells)} | {group['mean'].mean():.3f} |")
    return "\n".join(lines)


def directions_table(directions: list[dict]) -> str:
    lines = ["| variant | design choice | paper | full − variant (mean score) | seeds | here |", "|---|---|---|---|---|---|"]
    lines += [f"| {d['variant']} | {d['question']} | {d['paper']} | {d['full_minus_variant']:+.3f} ± {d['std']:.3f} | "
              f"{d['seeds']} | {d['verdict']} |" for d in directions]
    return "\n".join(lines)


def unseen_table(unseen: list[dict] | None) -> str:
    """Unseen-modality adaptation per seed -> markdown (mean ± std per setting and task)."""
    if not unseen:
        return ""
    settings = [k for k in unseen[0] if k not in ("modality", "seed")]
    tasks = list(unseen[0][settings[0]])
    lines = [f"Unseen modality `{unseen[0]['modality']}` (paper 4.4): stages 1-3 on the other modalities, then only its tokenizer "
             "and heads trained, against the same network from scratch, same steps.", "",
             "| setting | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
    for setting in settings:
        cells = []
        for task in tasks:
            values = [u[setting][task] for u in unseen]
            cells.append(f"{sum(values) / len(values):.3f} ± {pd.Series(values).std(ddof=1) if len(values) > 1 else 0:.3f}")
        lines.append(f"| {setting} | {' | '.join(cells)} |")
    return "\n".join(lines)


def metadata_lines(metadata: dict, stages: dict[str, dict]) -> list[str]:
    lines = [f"- {key}: `{value}`" for key, value in metadata.items()]
    for stage, summary in stages.items():
        if summary.get("skipped"):
            lines.append(f"- {stage}: skipped")
        else:
            lines.append(f"- {stage}: {summary.get('steps')} steps, {summary.get('train_seconds')} s training, "
                         f"{summary.get('wall_seconds')} s wall (Ray run `{summary.get('ray_run')}`)")
    return lines


def to_html(markdown: str, title: str) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:2px 6px}"
             "img{max-width:100%}pre{background:#f6f6f6;padding:0.5em;font-size:0.8em;white-space:pre-wrap}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head><body>{body}</body></html>"


RETRIEVAL_NOTE = ("Retrieval (an `embedding` task) is scored the same way for both systems: each side's "
                  "features standardised and reduced by PCA, a CCA fitted on the paired train frames, and each "
                  "test query ranking the paired stream's test gallery by cosine similarity (Rank-1, mAP). "
                  "OmniVec2's side reads g's single-stream output tokens side by side (the token grid, "
                  "`[N * D_g]`); the classical side reads the raw tokens the same way. The mean of g's tokens, "
                  "the protocol before, is kept as `rank1_pooled` / `map_pooled` in the all-metrics column.")


def assemble_report(metrics: dict, figures: dict[str, tuple[str, bytes]], metadata: dict, stages: dict[str, dict],
                    cards: list[ReportPiece], ablations: dict | None, probes: dict | None = None,
                    pages: list[tuple[str, str]] | None = None) -> Report:
    """The report from its pieces: `figures` maps a key (bars, curves, confusion, embedding,
    dense/<dataset>/<task>) to (path relative to the report, PNG bytes); `ablations` is the grid's
    table, or None when `kedro run --pipeline ablations` has not been run; `probes`: the linear
    probes of each stage's frozen features (linear_probe.json), or None; `pages`: (title, link relative
    to the report) of other pages to browse (the Great Expectations Data Docs), listed after the run."""
    links = {key: relative for key, (relative, _) in figures.items()}
    parts = ["# omnivec2 evaluation report", "", "## Run", "", *metadata_lines(metadata, stages), "",
             *_pages_section(pages), "## Results (test splits, single-stream inference)", "",
             "OmniVec2 is the multitask model after the three stages; *classical* is a scikit-learn model on the raw "
             "cached tokens (logistic regression / ridge; per-token for dense tasks; PCA + CCA for retrieval); "
             "*single-task* is the same backbone trained from scratch on that task alone with the steps and samples "
             "the task got in stage 3. Bold: best of the three. °: not above chance (a one-sided binomial test of the "
             f"score's hits on the test rows against the chance level, p >= {ALPHA}; chance: the most frequent test "
             "class's share, or 1 / gallery size for retrieval).", "", RETRIEVAL_NOTE, "", main_table(metrics), ""]
    if (paired := two_stream_table(metrics)) is not None:
        parts += ["### Two-stream inference (paired datasets)", "", TWO_STREAM_INTRO, "", paired, ""]
    for title, key in (("Per-task comparison", "bars"), ("Training curves", "curves"),
                       ("Learning curves (validation split, OmniVec2 in stage 3 and each specialist)", "learning"),
                       ("Confusion matrices", "confusion"),
                       ("Shared embedding space", "embedding")):
        if key in links:
            parts += [f"### {title}", "", f"![{title}]({links[key]})", ""]
    for key in sorted(k for k in links if k.startswith("dense/")):
        parts += [f"### Dense predictions: {key[6:]}", "", f"![{key}]({links[key]})", ""]
    if probes is not None:
        parts += ["## Linear probes of the shared features", "", PROBE_INTRO, "", probe_table(probes, metrics), ""]
    if ablations is not None:
        parts += ["## Ablations", "", ablations.get("description", ""), "", ablation_table(ablations), "",
                  directions_table(ablations.get("directions", [])), "", unseen_table(ablations.get("unseen_modality")), ""]
    else:
        parts += ["## Ablations", "", "_Not run: `kedro run --pipeline ablations`, then this report again._", ""]
    parts += ["## Data cards", ""] + [card.markdown for card in cards]
    markdown = "\n".join(parts)
    files = {relative: png for relative, png in figures.values()}
    for card in cards:
        files.update(card.files)
    return Report(markdown, to_html(markdown, "omnivec2 evaluation report"), files)


def _pages_section(pages: list[tuple[str, str]] | None) -> list[str]:
    if not pages:
        return []
    return ["## Pages to browse", "", *[f"- [{title}]({link})" for title, link in pages], ""]


def data_card_piece(spec: DatasetSpec, validation: dict, manifest: dict, samples: pd.DataFrame,
                    cache_root: str | Path) -> ReportPiece:
    """A dataset's data card and the picture of a few of its samples (`figures/cards/<name>.png`)."""
    spec = with_manifest_classes(spec, manifest)
    card = data_card(spec, validation, manifest, cache_root)
    label = next((t.name for t in spec.tasks if t.kind == "classification"), None)
    picture, png = figure_file(sample_preview(spec, samples, label), f"cards/{spec.name}")
    return ReportPiece(spec.name, card_markdown(card, picture), {picture: png})
