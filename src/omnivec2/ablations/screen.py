"""Screen a change of parameters: the main job's network, trained in-process at the main job's
settings with and without the change, over training seeds -> each task's before and after.

`omnivec2 screen --set model.overrides.head_pooling=flatten --seeds 0 1 2` is how a switch earns (or
does not earn) its place in `conf/base`: the issue-13 rule is a 3-seed before/after per task. A run
follows the pipeline's stages exactly (each stage seeds every generator, builds the network afresh
and loads the previous stage's weights, as `training.worker.initial_model` does), so a screen's
reference at seed s scores what `kedro run` at seed s does, without Ray, MLflow or checkpoints.
Each finished run is one JSON line in a file named by the fingerprint of everything it depends on,
so a reference (or a variant) already trained is reused by every later screen.
"""

from __future__ import annotations

import copy
import hashlib
import json
import statistics
import time
from dataclasses import asdict
from pathlib import Path

import torch
import yaml

from omnivec2.ablations.progress import cache_identities
from omnivec2.ablations.runner import load_splits, score, stage3_pairs, train_run
from omnivec2.ablations.variants import STAGES
from omnivec2.datasets import resolve_datasets
from omnivec2.datasets.pairing import with_contrastive_pairs
from omnivec2.durable_files import replace_atomically
from omnivec2.evaluation.evaluate import evaluate_retrieval
from omnivec2.training.code_key import training_code_key
from omnivec2.training.stage_runner import model_config_from_manifests


def parse_assignment(text: str) -> tuple[str, object]:
    """'a.b.c=value' -> ("a.b.c", value parsed as YAML, as `kedro run --params` reads it)."""
    path, sep, value = text.partition("=")
    if not sep or not path or any(not part for part in path.split(".")):
        raise ValueError(f"--set {text!r}: expected <dotted.parameter.path>=<value>, e.g. "
                         "model.overrides.head_pooling=flatten")
    return path, yaml.safe_load(value)


def with_assignments(params: dict, assignments: list[tuple[str, object]]) -> dict:
    """A deep copy of the project's parameters with each dotted path set (missing levels created)."""
    out = copy.deepcopy(params)
    for path, value in assignments:
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ValueError(f"--set {path}: {part!r} holds {child!r}, not a mapping")
            node = child
        node[leaf] = value
    return out


def run_plan(params: dict, manifests: list[dict]) -> dict:
    """What a run of the main job trains, from the project's parameters: the network's config and,
    per enabled stage, its training settings (their `steps` included)."""
    config = model_config_from_manifests(dict(params["model"]), manifests)
    stages = {}
    for stage in STAGES:
        block = params.get(stage) or {}
        if block.get("enabled", True):
            stages[stage] = dict(block.get("training") or {})
    if "train_multitask" not in stages:
        raise ValueError("train_multitask is disabled in these parameters: a screen scores stage 3's heads")
    stages["train_multitask"] = with_contrastive_pairs(stages["train_multitask"],  # as the pipeline's stage-3 node
                                                       resolve_datasets(params.get("datasets") or {}))
    return {"config": config, "stages": stages}


def fingerprint(plan: dict, manifests: list[dict]) -> str:
    """sha256 over the run's config, stage settings and token caches (source and tokenizer), the
    training code (`training_code_key`: a run of older code is not reused) and torch's thread count,
    seed aside. The threads count because they change float rounding, which 1400 steps grow into
    differences as large as the seed spread: a pair compares runs on equal terms."""
    blob = json.dumps({"config": asdict(plan["config"]), "stages": plan["stages"],
                       "caches": cache_identities(manifests), "code": training_code_key(),
                       "threads": torch.get_num_threads()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class RunStore:
    """Finished runs of one plan (`<folder>/<fingerprint>.jsonl`, a line per seed)."""

    def __init__(self, folder: Path, key: str):
        self.path = Path(folder) / f"{key}.jsonl"
        self.runs: dict[int, dict] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash: that seed runs again
                self.runs[int(entry["seed"])] = entry
            # only whole lines stay, so the next one appended does not join a cut one
            replace_atomically(self.path, "".join(json.dumps(r) + "\n" for r in self.runs.values()).encode())

    def get_or_run(self, seed: int, run) -> tuple[dict, bool]:
        """(the seed's record, whether it was reused); `run()` -> the record's fields ({"scores": ...,
        "retrieval": ...}), timed into its `seconds`."""
        if seed in self.runs:
            return self.runs[seed], True
        started = time.perf_counter()
        record = {"seed": seed, **run(), "seconds": round(time.perf_counter() - started, 1)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")
        self.runs[seed] = record
        return record, False


def compare(reference: list[dict], variant: list[dict]) -> list[dict]:
    """Per task: both systems' mean ± std over seeds and the per-seed paired difference (variant -
    reference; scores signed so that higher is better), with a verdict against its spread; then the
    mean over tasks; then each retrieval protocol's Rank-1 that every paired run scored (runs stored
    before screens scored retrieval have none), outside the mean, so that it stays the mean the
    earlier screens report."""
    rows = []
    by_seed = {r["seed"]: r for r in reference}
    paired = [(by_seed[r["seed"]], r) for r in sorted(variant, key=lambda r: r["seed"]) if r["seed"] in by_seed]
    tasks = sorted(set.intersection(*(set(a["scores"]) & set(b["scores"]) for a, b in paired))) if paired else []
    protocols = sorted(set.intersection(*(set(a.get("retrieval") or {}) & set(b.get("retrieval") or {})
                                          for a, b in paired))) if paired else []
    picks = {task: (lambda r, task=task: r["scores"][task]) for task in tasks}
    picks["mean over tasks"] = lambda r: statistics.fmean(r["scores"][t] for t in tasks)
    picks.update({f"{name} (Rank-1)": (lambda r, name=name: r["retrieval"][name]) for name in protocols})
    for task, pick in picks.items():
        before, after = [pick(a) for a, _ in paired], [pick(b) for _, b in paired]
        diffs = [b - a for a, b in zip(before, after)]
        spread = statistics.stdev(diffs) if len(diffs) > 1 else float("inf")
        mean = statistics.fmean(diffs)
        verdict = ("one seed: not judged" if len(diffs) < 2 else "better" if mean > spread
                   else "worse" if mean < -spread else "within seed noise")
        rows.append({"task": task, "reference": summary(before), "variant": summary(after),
                     "difference": {"mean": mean, "std": spread if len(diffs) > 1 else None}, "verdict": verdict})
    return rows


def summary(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values}


def screen_table(result: dict) -> str:
    """Markdown: the change, the seeds, and per task reference / variant / difference / verdict."""
    lines = [f"Change: {', '.join(f'{p}={v!r}' for p, v in result['assignments'])}; seeds "
             f"{', '.join(map(str, result['seeds']))}. Scores: test accuracy / mIoU / -RMSE (higher is better); "
             "retrieval: Rank-1, outside the mean over tasks; a difference counts when its mean exceeds the "
             "seed-to-seed std of the paired difference.",
             f"Runs: data/09_screens/runs/{result['fingerprints']['reference']}.jsonl (reference), "
             f"{result['fingerprints']['variant']}.jsonl (variant).", *_time_line(result), "",
             "| task | reference | variant | variant - reference | verdict |", "|---|---|---|---|---|"]
    for row in result["rows"]:
        r, v, d = row["reference"], row["variant"], row["difference"]
        spread = "" if d["std"] is None else f" ± {d['std']:.3f}"
        lines.append(f"| {row['task']} | {r['mean']:.3f} ± {r['std']:.3f} | {v['mean']:.3f} ± {v['std']:.3f} | "
                     f"{d['mean']:+.3f}{spread} | {row['verdict']} |")
    return "\n".join(lines) + "\n"


def _time_line(result: dict) -> list[str]:
    """The mean training time of a run on each side, as each run recorded it (stages and end-of-stage
    work, not the evaluation), so a change's score sits beside what it costs."""
    if not result.get("reference") or not result.get("variant"):
        return []
    before, after = (statistics.fmean(r["seconds"] for r in result[side]) for side in ("reference", "variant"))
    return [f"Time per run (mean over seeds, as each run was timed): reference {before:.0f} s, variant {after:.0f} s "
            f"({after / before:.2f}x); two runs side by side share the cores, so compare the two sides of one "
            "screen only."]


def screen_plans(params: dict, assignments: list[tuple[str, object]],
                 manifests: list[dict]) -> tuple[dict[str, dict], dict[str, str]]:
    """The reference and changed plans and their run keys -> ({label: plan}, {label: key}); ValueError
    for a change a screen cannot make: a dataset's parameters (they change its token cache, which both
    sides read as it was built) or a change that leaves the run as it is."""
    if dataset_paths := [path for path, _ in assignments if path.split(".")[0] == "datasets"]:
        raise ValueError(f"--set {', '.join(dataset_paths)}: a dataset's parameters change its token cache, which "
                         "both sides of a screen read as it was built; screens change training and model "
                         "parameters only. Compare two token caches with two runs of the pipeline instead")
    plans = {"reference": run_plan(params, manifests), "variant": run_plan(with_assignments(params, assignments),
                                                                           manifests)}
    keys = {label: fingerprint(plan, manifests) for label, plan in plans.items()}
    if keys["reference"] == keys["variant"]:
        raise ValueError(f"--set {assignments}: the change leaves the run as it is (same config and settings)")
    return plans, keys


def table_name(assignments: list[tuple[str, object]]) -> str:
    """A screen's file name: each change as `<leaf>-<value>`, led by its stage where the path is a
    stage's (`train_multitask.training.lr=3e-4` -> `train_multitask-lr-0.0003`), so that the same
    option changed in two stages does not write one table over the other."""
    from omnivec2.training.config import STAGES

    parts = []
    for path, value in assignments:
        keys = path.split(".")
        if isinstance(value, (list, tuple)):  # `augment=[audio, imu]` -> `augment-audio+imu`, no brackets or quotes
            value = "+".join(map(str, value))
        parts.append(f"{keys[0]}-{keys[-1]}-{value}" if keys[0] in STAGES else f"{keys[-1]}-{value}")
    return "_".join(parts).replace("/", "-").replace(" ", "")[:120]


def screen_scores(model, test: dict, modalities: list[str], cache_root: Path, retrieval: dict[str, dict],
                  retrieval_seed: int = 0) -> dict:
    """A trained network's record fields: {"scores": each task's primary test metric (signed, see
    `score`), "retrieval": {"<query>/<name>": OmniVec2's Rank-1}} for each retrieval protocol whose
    two datasets are screened, as evaluation scores it (the token grid through a CCA fitted on the
    paired train rows, `evaluate_retrieval`, at the evaluation's seed)."""
    ranks = {f"{p['query']}/{name}": evaluate_retrieval(model, cache_root, p, retrieval_seed)["omnivec2"]["rank1"]
             for name, p in retrieval.items() if p["query"] in modalities and p["gallery"] in modalities}
    return {"scores": score(model, test, modalities), "retrieval": ranks}


def run_screen(params: dict, assignments: list[tuple[str, object]], seeds: list[int], cache_root: Path,
               manifests: list[dict], runs_folder: Path, only: str | None = None, log=print,
               retrieval: dict[str, dict] | None = None, retrieval_seed: int = 0) -> dict:
    """Train (or reuse) the reference and the changed plan at each seed -> {assignments, seeds,
    reference/variant runs, rows (see `compare`)}. `only` ("reference" or "variant") trains that
    side alone and leaves out the rows: two processes can then share the cores, and a last call
    without it reuses both sides' runs. `retrieval` ({name: protocol}, `retrieval_protocols`) is
    scored too (`screen_scores`)."""
    plans, keys = screen_plans(params, assignments, manifests)
    data, test, validation = load_splits(cache_root, [m["dataset"] for m in manifests])
    modalities = sorted(data)
    runs = {}
    for label, plan in plans.items():
        if only not in (None, label):
            continue
        store = RunStore(runs_folder, keys[label])
        pairs = stage3_pairs(plan["stages"]["train_multitask"], cache_root, modalities)
        runs[label] = []
        for seed in seeds:
            log(f"screen: {label} seed {seed} ({store.path})")
            record, reused = store.get_or_run(seed, lambda plan=plan, seed=seed, pairs=pairs: screen_scores(
                train_run(plan["config"], plan["stages"], data, seed, lambda line: log(f"screen: {line}"), validation,
                          pairs=pairs),
                test, modalities, cache_root, retrieval or {}, retrieval_seed))
            done = "reused" if reused else f"trained in {record['seconds']} s"
            log(f"screen: {label} seed {seed} {done}")
            runs[label].append(record)
    result = {"assignments": [list(a) for a in assignments], "seeds": seeds, "fingerprints": keys, **runs}
    return result if only else {**result, "rows": compare(runs["reference"], runs["variant"])}
