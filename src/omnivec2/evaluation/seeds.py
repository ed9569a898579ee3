"""The main table over several training seeds: mean ± std per task and system.

`make seeds` (`omnivec2 seeds --seeds 1 2`) trains the three stages and evaluates again, once per
extra seed, each in a workspace of its own (a Kedro project under the `seeds.workspaces` folder of
the parameters) that links the main run's ingested data and token cache, so the splits and tokens
are the main run's and only the training seed differs. The main run is seed 0. `aggregate` and
`seeds_table` then give the main table as mean ± std, written beside the main run's metrics.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

from omnivec2.evaluation.chance import ALPHA, chance_level, p_above_chance
from omnivec2.evaluation.headline import PRIMARY, SYSTEMS

SEEDED_STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


def seed_params(seed: int) -> str:
    """Kedro's --params for a run whose training stages draw from `seed`."""
    return ",".join(f"{stage}.training.seed={seed}" for stage in SEEDED_STAGES)


def workspace_path(project: Path, workspaces: str, seed: int) -> Path:
    return Path(project).resolve() / workspaces / f"seed-{seed}"


def prepare_workspace(project: Path, seed: int, workspaces: str, linked: list[str], copied: list[str]) -> Path:
    """`<project>/<workspaces>/seed-<seed>`: the project's configuration, links to its `linked` folders
    (ingested data, token cache: read by the stages, never written) and copies of its `copied` ones
    (inputs of the report) -> the workspace, a Kedro project that `kedro run --from-nodes
    pretrain_unimodal` can run in. Paths are relative to the project."""
    project = Path(project).resolve()
    missing = [p for p in (*linked, *copied) if not (project / p).exists()]
    if missing:
        raise FileNotFoundError(f"the main run's outputs {missing} are missing under {project}: run `kedro run` first")
    root = workspace_path(project, workspaces, seed)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copytree(project / "conf", root / "conf")
    shutil.copy(project / "pyproject.toml", root / "pyproject.toml")
    for path in linked:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).symlink_to(project / path, target_is_directory=True)
    for path in copied:
        shutil.copytree(project / path, root / path)
    return root


def aggregate(metrics_by_seed: dict[int, dict]) -> dict:
    """{seed: metrics.json} -> {"seeds": [...], "tasks": {task: {"kind", "metric", "higher_is_better",
    ["chance": {"value", "trials"}], system: {"mean", "std", "values", ["p_above_chance"]}}}} over the
    tasks every seed has; std is the sample standard deviation (0 with one seed). Where the task has a
    chance level (`chance.chance_level`), each system's mean is tested against it as if it were one
    run's score on the test rows (`chance.p_above_chance`)."""
    seeds = sorted(metrics_by_seed)
    common = set.intersection(*(set(metrics_by_seed[s]["tasks"]) for s in seeds))
    tasks = {}
    for task in sorted(common):
        first = metrics_by_seed[seeds[0]]["tasks"][task]
        name, higher = PRIMARY[first["kind"]]
        row = {"kind": first["kind"], "metric": name, "higher_is_better": higher}
        level = chance_level(first)
        if level is not None:
            row["chance"] = {"value": level, "trials": first["test_samples"]}
        for system in SYSTEMS:
            values = [metrics_by_seed[s]["tasks"][task].get(system, {}).get(name) for s in seeds]
            if any(v is None for v in values):
                continue
            row[system] = {"mean": statistics.fmean(values),
                           "std": statistics.stdev(values) if len(values) > 1 else 0.0, "values": values}
            if level is not None:
                row[system]["p_above_chance"] = p_above_chance(row[system]["mean"], first["test_samples"], level)
        tasks[task] = row
    return {"seeds": seeds, "tasks": tasks}


def seeds_table(summary: dict) -> str:
    """The aggregate as a Markdown table, mean ± std (marked ° where not above chance), the chance
    level, and the counts: tasks where OmniVec2's mean is at or above each baseline's, and tasks at
    chance for each system."""
    lines = [f"Seeds: {', '.join(map(str, summary['seeds']))} (training seed; same splits and tokens)", "",
             "| task | metric | " + " | ".join(SYSTEMS) + " | chance |", "|---|---|" + "---|" * (len(SYSTEMS) + 1)]
    wins = {system: [0, 0] for system in SYSTEMS[1:]}
    at_chance: dict[str, list[str]] = {system: [] for system in SYSTEMS}
    for task, row in summary["tasks"].items():
        cells = []
        for system in SYSTEMS:
            if system not in row:
                cells.append("—")
                continue
            blind = row[system].get("p_above_chance", 0.0) >= ALPHA
            if blind:
                at_chance[system].append(task)
            cells.append(f"{row[system]['mean']:.3f} ± {row[system]['std']:.3f}" + (" °" if blind else ""))
        cells.append(f"{row['chance']['value']:.3f}" if "chance" in row else "—")
        arrow = "↑" if row["higher_is_better"] else "↓"
        lines.append(f"| {task} | {row['metric']} {arrow} | " + " | ".join(cells) + " |")
        for system in wins:
            if "omnivec2" in row and system in row:
                wins[system][0] += at_or_above(row["omnivec2"]["mean"], row[system]["mean"], row["higher_is_better"])
                wins[system][1] += 1
    tested = sum("chance" in row for row in summary["tasks"].values())
    lines.append("")
    lines += [f"OmniVec2 at or above {system} (means): {won}/{total} tasks" for system, (won, total) in wins.items()]
    lines.append(f"° not above chance: a one-sided binomial test of the mean's hits on the test rows, p >= {ALPHA} "
                 f"({tested} tasks have a chance level: classification and retrieval)")
    lines += [f"At chance, {system}: {', '.join(tasks) or 'none'}" for system, tasks in at_chance.items()]
    only_ours = [t for t in at_chance["omnivec2"] if t not in at_chance["classical"]]
    lines.append(f"OmniVec2 at chance where classical is not: {', '.join(only_ours) or 'none'}")
    return "\n".join(lines) + "\n"


# Relative tolerance of a tie: OmniVec2's and the specialists' metrics are float32 (torchmetrics), the
# classical baseline's float64 (sklearn), so the same fraction of test rows (369/450 against 123/150)
# reads 0.81999999 against 0.82. float32 resolves about 1.2e-7 relative; a mean of seeds adds a little.
TIE_TOLERANCE = 1e-6


def at_or_above(ours: float, theirs: float, higher_is_better: bool) -> bool:
    """Whether `ours` is at or above `theirs` in the metric's direction, a tie within float32 rounding
    (`TIE_TOLERANCE`, relative) counting as at."""
    slack = TIE_TOLERANCE * max(1.0, abs(theirs))
    return ours >= theirs - slack if higher_is_better else ours <= theirs + slack


def write_summary(metrics_by_seed: dict[int, Path], out_dir: Path) -> Path:
    """{seed: its metrics.json} -> seeds.json and seeds.md in `out_dir` -> the Markdown file."""
    summary = aggregate({s: json.loads(Path(p).read_text()) for s, p in metrics_by_seed.items()})
    out_dir = Path(out_dir)
    (out_dir / "seeds.json").write_text(json.dumps(summary, indent=2))
    (out_dir / "seeds.md").write_text(seeds_table(summary))
    return out_dir / "seeds.md"
