"""Result rows and the JSON / markdown writers.

A row is one figure: a subject measured against a baseline in the same run, their ratio, and the
target it is checked against. A figure that could not be measured keeps `ratio=None` and says
why in `note`; nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import asdict, dataclass, field
from pathlib import Path

_OPS = {">=": operator.ge, "<=": operator.le}


@dataclass
class Target:
    op: str  # ">=" or "<="
    threshold: float

    def met(self, value: float | None) -> bool | None:
        return None if value is None else bool(_OPS[self.op](value, self.threshold))

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass
class Row:
    """One figure. `subject`/`baseline` are medians in `unit`; `ratio` is what the target reads."""

    benchmark: str  # "a" .. "k"
    name: str  # what is measured
    subject: float | None
    baseline: float | None
    unit: str  # of subject and baseline
    ratio: float | None
    ratio_means: str  # how the ratio is formed, e.g. "subject / baseline tokens/s"
    target: Target | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        return self.target.met(self.ratio) if self.target else None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["target"] = str(self.target) if self.target else None
        out["met"] = self.met
        return out


def not_measured(benchmark: str, name: str, why: str, target: Target | None = None) -> Row:
    return Row(benchmark, name, None, None, "", None, "", target, note=f"not measured: {why}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"


def markdown(rows: list[Row], meta: dict, timings: dict[str, float]) -> str:
    met = {True: "met", False: "NOT met", None: "-"}
    lines = [
        f"# omnivec2 benchmarks: preset `{meta['preset']}`, {meta['date']}",
        "",
        f"Machine: {meta['machine']['summary']}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
        f"Commit {meta.get('git_commit', '?')}. GPU: {meta['machine']['gpu'] or 'none'}.",
        "",
        "Every ratio is formed from medians of repetitions interleaved with its baseline in this run.",
        "",
        "| | figure | subject | baseline | unit | ratio | ratio is | target | met | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.benchmark} | {r.name} | {_fmt(r.subject)} | {_fmt(r.baseline)} | {r.unit} | {_fmt(r.ratio)} | "
            f"{r.ratio_means} | {r.target or '-'} | {met[r.met]} | {r.note} |"
        )
    lines += ["", "Benchmark wall times: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()), ""]
    return "\n".join(lines)


def write(rows: list[Row], meta: dict, timings: dict[str, float], out_dir: Path) -> tuple[Path, Path]:
    """Write `benchmarks.json` and `benchmarks.md` into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "rows": [r.to_dict() for r in rows], "benchmark_seconds": timings}
    json_path, md_path = out_dir / "benchmarks.json", out_dir / "benchmarks.md"
    json_path.write_text(json.dumps(payload, indent=2, default=_json_default, allow_nan=False))
    md_path.write_text(markdown(rows, meta, timings))
    return json_path, md_path


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)
