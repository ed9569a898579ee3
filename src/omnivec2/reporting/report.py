"""report.md and report.html in one folder: run metadata, the main table (OmniVec2 next to both
baselines), the figures, the ablation table when one was run, and a data card per modality."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from omnivec2.reporting.data_cards import card_markdown, data_card, with_manifest_classes
from omnivec2.reporting.figures import PRIMARY, SYSTEMS
from omnivec2.reporting.previews import sample_preview

FIGURES = "figures"


def save_figure(figure, out_dir: Path, name: str) -> str:
    """-> the path relative to the report."""
    relative = f"{FIGURES}/{name}.png"
    (out_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_dir / relative, dpi=90, bbox_inches="tight")
    plt.close(figure)
    return relative


def main_table(metrics: dict) -> str:
    """Markdown: one row per task, the primary metric of each system, OmniVec2's other metrics."""
    head = "| task | kind | test n | metric | OmniVec2 | classical | single-task | OmniVec2, all metrics |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for task, entry in metrics["tasks"].items():
        name, higher = PRIMARY[entry["kind"]]
        values = [entry.get(system, {}).get(name) for system in SYSTEMS]
        known = [v for v in values if v is not None]
        best = (max if higher else min)(known) if known else None
        cells = [("**%.3f**" if v == best and len(known) > 1 else "%.3f") % v if v is not None else "n/a" for v in values]
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
    lines = [f"Unseen modality `{unseen[0]['modality']}` (paper 4.4): stages 1-2 without it, then only its tokenizer "
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


def write_report(out_dir: str | Path, metrics: dict, figures: dict[str, str], metadata: dict, stages: dict[str, dict],
                 cards: list[tuple[dict, str | None]], ablations: dict | None) -> dict[str, str]:
    """Assemble report.md / report.html in `out_dir` from already-saved figures -> their paths."""
    out_dir = Path(out_dir)
    parts = ["# omnivec2 evaluation report", "", "## Run", "", *metadata_lines(metadata, stages), "",
             "## Results (test splits, single-stream inference)", "",
             "OmniVec2 is the multitask model after the three stages; *classical* is a scikit-learn model on the raw "
             "cached tokens (logistic regression / ridge; per-token for dense tasks; PCA + CCA for retrieval); "
             "*single-task* is the same backbone trained from scratch on that task alone with the steps and samples "
             "the task got in stage 3. Bold: best of the three.", "", main_table(metrics), ""]
    for title, key in (("Per-task comparison", "bars"), ("Training curves", "curves"), ("Confusion matrices", "confusion"),
                       ("Shared embedding space", "embedding")):
        if key in figures:
            parts += [f"### {title}", "", f"![{title}]({figures[key]})", ""]
    for key in sorted(k for k in figures if k.startswith("dense/")):
        parts += [f"### Dense predictions: {key[6:]}", "", f"![{key}]({figures[key]})", ""]
    if ablations is not None:
        parts += ["## Ablations", "", ablations.get("description", ""), "", ablation_table(ablations), "",
                  directions_table(ablations.get("directions", [])), "", unseen_table(ablations.get("unseen_modality")), ""]
    parts += ["## Data cards", ""] + [card_markdown(card, picture) for card, picture in cards]
    markdown = "\n".join(parts)
    (out_dir / "report.md").write_text(markdown)
    (out_dir / "report.html").write_text(to_html(markdown, "omnivec2 evaluation report"))
    return {"markdown": str(out_dir / "report.md"), "html": str(out_dir / "report.html")}


def draw_cards(out_dir: Path, specs: dict, validation: dict, manifests: dict, samples: dict[str, pd.DataFrame],
               cache_root) -> list[tuple[dict, str]]:
    """A card and its sample picture per dataset (`specs`: name -> DatasetSpec, in report order)."""
    cards = []
    for name, spec in specs.items():
        spec = with_manifest_classes(spec, manifests[name])
        card = data_card(spec, validation[name], manifests[name], cache_root)
        label = next((t.name for t in spec.tasks if t.kind == "classification"), None)
        picture = save_figure(sample_preview(spec, samples[name], label), out_dir, f"cards/{name}")
        cards.append((card, picture))
    return cards
