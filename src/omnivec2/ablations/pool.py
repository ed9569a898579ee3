"""The grid's runs side by side: `workers` processes of one thread each.

Why: a grid run is a small network on a few datasets, where one process with two threads keeps the
second core mostly idle; two one-thread processes finish about twice as many runs in the same time
(the screens measured the same). Each worker loads the token cache once (`load_splits`) and answers
one run at a time; results come back to the caller, who records them, so an interrupted grid still
resumes from every run that finished. The runs are identical to in-process runs at one thread (same
seeds, same code); the grid's fingerprint counts the threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from omnivec2.ablations.runner import load_splits, run_variant, unseen_modality
from omnivec2.ablations.variants import variant_by_name
from omnivec2.process_pool import run_in_processes


@dataclass(frozen=True)
class GridRun:
    """One run of the grid: a variant at a seed ("variant"), or unseen-modality adaptation ("unseen")."""

    kind: str  # "variant" | "unseen"
    name: str  # the variant's name, or the unseen modality
    seed: int
    plan: dict = field(default_factory=dict, compare=False)  # config, settings, steps


_SPLITS: tuple | None = None  # a worker's (train, test, validation), loaded once
_PRINT_LINES = False  # whether a worker prints its runs' progress lines


def _load_worker(cache_root: str, modalities: list[str], threads: int, print_lines: bool = False) -> None:
    global _SPLITS, _PRINT_LINES
    torch.set_num_threads(threads)
    _SPLITS, _PRINT_LINES = load_splits(cache_root, modalities), print_lines


def _execute(run: GridRun, splits: tuple, log: Callable[[str], None]) -> dict:
    data, test, validation = splits
    p = run.plan
    if run.kind == "unseen":
        return unseen_modality(p["config"], data, test, p["settings"], p["steps"], run.name, run.seed, validation, log)
    return run_variant(variant_by_name(run.name), run.seed, p["config"], data, test, p["settings"], p["steps"],
                       validation, log)


def _execute_in_worker(run: GridRun) -> dict:
    # Workers share the terminal: each line names its run, since two runs' lines interleave.
    prefix = f"[{run.kind} {run.name!r} seed {run.seed}]"
    log = (lambda line: print(f"{prefix} {line}", flush=True)) if _PRINT_LINES else (lambda line: None)
    return _execute(run, _SPLITS, log)


def run_all(runs: list[GridRun], cache_root: str, modalities: list[str], workers: int,
            on_done: Callable[[GridRun, dict], None], log: Callable[[str], None] | None = print) -> None:
    """Each of `runs` -> `on_done(run, record)` as it finishes (in finishing order). `workers` = 1:
    in this process at its thread count, its progress lines to `log`; more: that many spawned
    one-thread processes, which print their progress lines, each led by its run, unless `log` is
    None. A failed run stops the grid (runs not yet started are cancelled) and its error is raised here."""
    if not runs:
        return
    if workers <= 1:
        splits = load_splits(cache_root, modalities)
        for run in runs:
            on_done(run, _execute(run, splits, log or (lambda line: None)))
        return
    run_in_processes([(run, _execute_in_worker, (run,)) for run in runs], workers, on_done,
                     lambda run: f"ablation grid: {run.kind} {run.name!r} seed {run.seed} failed",
                     initializer=_load_worker, initargs=(str(cache_root), modalities, 1, log is not None))
