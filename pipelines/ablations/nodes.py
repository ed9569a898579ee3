"""Run the ablation grid and unseen-modality adaptation over seeds; write their tables."""

from __future__ import annotations

import logging

import torch

from omnivec2.ablations.pool import GridRun, run_all
from omnivec2.ablations.progress import GridProgress, grid_fingerprint
from omnivec2.ablations.runner import summarise
from omnivec2.ablations.variants import STAGES, VARIANTS, variant_by_name
from omnivec2.progress import progress_bar
from omnivec2.tracking import log_json_artifact, log_metrics_flat
from omnivec2.training.stage_runner import model_config_from_manifests
from pipelines.io import Location, TokenCache

logger = logging.getLogger(__name__)


def run_ablations(params: dict, model_params: dict, stage1: dict, stage2: dict, stage3: dict, token_cache: TokenCache,
                  progress_file: Location, *manifests: dict) -> dict:
    modalities = list(params["modalities"])
    known = {m["dataset"] for m in manifests}
    if unknown := set(modalities) - known:
        raise ValueError(f"ablations.modalities names {sorted(unknown)}, which have no token cache; cached: {sorted(known)}")
    if len(modalities) < 2:
        raise ValueError("ablations.modalities needs at least two modalities (stage 2 pairs them)")
    config = model_config_from_manifests(model_params, [m for m in manifests if m["dataset"] in modalities])
    settings = {stage: dict(p.get("training") or {}) for stage, p in zip(STAGES, (stage1, stage2, stage3))}
    steps = {stage: int(params["steps"][stage]) for stage in STAGES}
    names = params.get("variants") or "all"
    variants = VARIANTS if names == "all" else [VARIANTS[0], *[variant_by_name(n) for n in names if variant_by_name(n) is not VARIANTS[0]]]
    seeds = [int(s) for s in params["seeds"]]
    workers = int(params.get("workers") or 1)
    threads = 1 if workers > 1 else torch.get_num_threads()
    progress = GridProgress(progress_file.path,
                            grid_fingerprint(config, settings, steps, modalities, list(manifests), threads))
    logger.info("ablations: %d finished runs reused from %s (%d lines of another grid dropped)",
                len(progress.done), progress.path, progress.discarded)
    unseen = params.get("unseen_modality")
    if unseen and (unseen not in modalities or len(modalities) < 3):
        raise ValueError(f"ablations.unseen_modality {unseen!r} must be one of ablations.modalities, with two others")
    plan = {"config": config, "settings": settings, "steps": steps}
    grid = [GridRun("variant", v.name, seed, plan) for v in variants for seed in seeds]
    grid += [GridRun("unseen", unseen, seed, plan) for seed in (seeds if unseen else ())]
    # one line per finished run, so an interrupted grid resumes where it stopped; a bar over all runs
    with progress_bar(len(grid), "ablation grid") as bar:
        for run in grid:
            if progress.get(run.kind, run.name, run.seed) is not None:
                bar.advance(f"{run.name}, seed {run.seed} (reused)")

        def record(run: GridRun, result: dict) -> None:
            progress.add(run.kind, result)
            bar.advance(f"{run.name}, seed {run.seed}")

        run_all([r for r in grid if progress.get(r.kind, r.name, r.seed) is None], token_cache.path, modalities,
                workers, record, logger.info)
    runs = [progress.get("variant", r.name, r.seed) for r in grid if r.kind == "variant"]
    unseen_runs = [progress.get("unseen", r.name, r.seed) for r in grid if r.kind == "unseen"]
    summary, directions = summarise(runs)
    result = {
        "description": (f"Modalities {modalities}; model preset {model_params.get('preset')}; steps per stage {steps} "
                        f"(a skipped stage's steps go to the next stage: equal compute); seeds {seeds}; {threads} torch "
                        f"thread(s) per run, {workers} run(s) at a time. Scores: each "
                        "task's test accuracy / mIoU / -RMSE; mean ± std over seeds. A direction reproduces when the "
                        "full model's mean score beats the variant's by more than the seed-to-seed std of the paired "
                        "difference."),
        "runs": runs, "summary": summary, "directions": directions,
    }
    if unseen:
        result["unseen_modality"] = unseen_runs
    log_metrics_flat({d["variant"]: {"full_minus_variant": d["full_minus_variant"]} for d in directions}, prefix="ablation")
    log_json_artifact(result, "ablations/ablations.json")
    return result
