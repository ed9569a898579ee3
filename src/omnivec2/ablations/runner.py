"""Train a variant's stages in-process on the token cache, score it, and summarise over seeds.

In-process (plain PyTorch, one `train_stage` per stage) because an ablation grid is dozens of small
runs and Ray's start-up would dominate them. A run follows the pipeline's stages exactly, as a screen's
does (`train_run`: each stage seeds every generator, builds the network afresh and takes the previous
stage's weights), so the grid's full model at seed s is the main job's recipe at seed s, scaled down.
Scores: each task's primary test metric (accuracy, mIoU; minus RMSE for regression, so higher is
better everywhere).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np
import torch

from omnivec2.ablations.variants import STAGES, VARIANTS, Variant, stage_steps
from omnivec2.evaluation.headline import PRIMARY
from omnivec2.evaluation.metrics import predict_task, task_metrics
from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.tokens.cache import read_token_split
from omnivec2.training.config import TrainConfig
from omnivec2.training.contrastive import PairedRows, require_pairs, stage3_paired_rows
from omnivec2.training.data import load_training_data
from omnivec2.training.step_loop import seed_everything, train_stage
from omnivec2.training.validation import Validation, load_validation_data

# The main table's figure per task kind, signed so that higher is better.
SIGNED = {kind: (name, 1.0 if higher else -1.0) for kind, (name, higher) in PRIMARY.items()}


def load_splits(cache_root, modalities: list[str]) -> tuple[dict, dict, dict]:
    """-> ({modality: ModalityData train}, {modality: TokenSplit test}, {modality: ModalityData
    validation}, the last for the modalities that have a validation split)."""
    return (load_training_data(cache_root, modalities), {m: read_token_split(cache_root, m, "test") for m in modalities},
            load_validation_data(cache_root, modalities))


def stage3_validation(validation: dict | None, stage: str) -> Validation | None:
    """The validation splits stage 3's end-of-stage refit reads (`head_pooling: select`), as in the
    pipeline; no learning curves are measured."""
    return Validation(validation, 0) if validation and stage == "train_multitask" else None


def stage3_pairs(settings: dict, cache_root, modalities: list[str]) -> list[PairedRows]:
    """The paired train rows stage 3's contrastive term draws from when `settings` (its training
    settings) turn it on, read as the pipeline's workers read them (`training.contrastive.stage3_paired_rows`);
    [] when off."""
    return stage3_paired_rows(TrainConfig.from_dict({**settings, "stage": "train_multitask"}), cache_root, modalities)


def train_run(config: ModelConfig, stages: dict[str, dict], data: dict, seed: int,
              log: Callable[[str], None] = print, validation: dict | None = None,
              initial: dict[str, torch.Tensor] | None = None, pairs: list[PairedRows] = ()) -> OmniVec2:
    """The stages in order at `seed` ({stage: its settings, `steps` included}), each from a freshly
    seeded network that takes the previous stage's weights (shape-matched, as
    `checkpoint.load_weights(strict=False)`; the first stage takes `initial`'s when given) -> the final
    network. `validation` ({stream: its validation split}) reaches stage 3's end-of-stage refit, as in
    the pipeline (`head_pooling: select` reads it); no learning curves are measured. `pairs`
    (`stage3_pairs`) feed stage 3's contrastive term; a stage 3 that turns the term on without them
    is refused, since the trainer would train without it and the run would look like the term's."""
    if "train_multitask" in stages:  # refused before stages 1-2 train, not only when stage 3 starts
        require_pairs(stages["train_multitask"].get("contrastive_weight", 0.0), list(pairs),
                      stages["train_multitask"].get("contrastive_pairs"), data)
    previous, model = initial, None
    for stage, settings in stages.items():
        started = time.perf_counter()
        seed_everything(seed)
        model = OmniVec2(config)
        if previous is not None:
            own = model.state_dict()
            model.load_state_dict({k: v for k, v in previous.items() if k in own and own[k].shape == v.shape},
                                  strict=False)
        train_stage(model, data, TrainConfig.from_dict({**settings, "stage": stage, "seed": seed}),
                    validation=stage3_validation(validation, stage), pairs=pairs if stage == "train_multitask" else ())
        previous = model.state_dict()
        log(f"  {stage} ({settings.get('steps')} steps) in {time.perf_counter() - started:.0f} s")
    if model is None:
        raise ValueError("train_run: no stage to run")
    return model


def score(model: OmniVec2, test: dict, modalities: list[str]) -> dict[str, float]:
    """{"<modality>/<task>": primary metric, signed so that higher is better}."""
    scores = {}
    for m in modalities:
        tokens = torch.from_numpy(np.array(test[m].tokens))
        for task in model.config.modality(m).tasks:
            name, sign = SIGNED[task.kind]
            output = predict_task(model, m, task.name, tokens)
            target = torch.from_numpy(np.array(test[m].targets[task.name]))
            scores[f"{m}/{task.name}"] = sign * task_metrics(task.kind, output, target, task.num_classes,
                                                                task.ignore_index)[name]
    return scores


def variant_stages(variant: Variant, seed: int, settings: dict[str, dict], steps: dict[str, int]) -> dict[str, dict]:
    """{stage that runs: its settings at `seed`, with its steps (`stage_steps`: equal compute) and, for
    stage 3, the variant's training overrides}."""
    return {stage: {**settings[stage], "seed": seed, "steps": n, **(variant.train if stage == "train_multitask" else {})}
            for stage, n in stage_steps(variant, steps).items()}


def run_variant(variant: Variant, seed: int, config: ModelConfig, data: dict, test: dict,
                settings: dict[str, dict], steps: dict[str, int], validation: dict | None = None,
                log: Callable[[str], None] = print) -> dict:
    started = time.perf_counter()
    model = train_run(replace(config, **variant.model), variant_stages(variant, seed, settings, steps), data, seed,
                      log, validation)
    return {"variant": variant.name, "seed": seed, "seconds": round(time.perf_counter() - started, 1),
            "scores": score(model, test, sorted(data))}


def summarise(runs: list[dict]) -> tuple[list[dict], list[dict]]:
    """Per (variant, task): mean and std over seeds; per variant: the paper's direction checked
    against the full model with the per-seed difference of mean scores (same seeds paired)."""
    rows = []
    variants = list(dict.fromkeys(r["variant"] for r in runs))
    for variant in variants:
        mine = [r for r in runs if r["variant"] == variant]
        for task in mine[0]["scores"]:
            values = np.array([r["scores"][task] for r in mine])
            rows.append({"variant": variant, "task": task, "mean": float(values.mean()),
                         "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0, "seeds": len(values)})
    full = {r["seed"]: np.mean(list(r["scores"].values())) for r in runs if r["variant"] == VARIANTS[0].name}
    directions = []
    for variant in variants[1:]:
        diffs = np.array([full[r["seed"]] - np.mean(list(r["scores"].values()))
                          for r in runs if r["variant"] == variant and r["seed"] in full])
        if not len(diffs):
            continue
        spread = float(diffs.std(ddof=1)) if len(diffs) > 1 else float("inf")
        mean = float(diffs.mean())
        verdict = "reproduces" if mean > spread else "reversed" if mean < -spread else "inconclusive (within seed noise)"
        spec = next(v for v in VARIANTS if v.name == variant)
        directions.append({"variant": variant, "question": spec.question, "paper": spec.paper,
                           "full_minus_variant": mean, "std": spread, "seeds": len(diffs), "verdict": verdict})
    return rows, directions


def unseen_modality(config: ModelConfig, data: dict, test: dict, settings: dict[str, dict], steps: dict[str, int],
                    modality: str, seed: int, validation: dict | None = None,
                    log: Callable[[str], None] = print) -> dict:
    """Paper 4.4: all three stages without `modality` (the other modalities' tasks trained), then only
    its tokenizer and heads trained (f, g frozen) -> scores; against the same model trained from
    scratch on it alone, same steps."""
    others = {m: d for m, d in data.items() if m != modality}
    adapt = {**settings["train_multitask"], "seed": seed, "steps": steps["train_multitask"],
             "freeze_shared": True, "mode": "sequential"}
    own_validation = {modality: validation[modality]} if validation and modality in validation else None
    stages = {s: {**settings[s], "seed": seed, "steps": steps[s]} for s in STAGES}
    others_validation = {m: v for m, v in validation.items() if m != modality} if validation else None
    pretrained = train_run(config, stages, others, seed, log, others_validation)
    adapted = train_run(config, {"train_multitask": adapt}, {modality: data[modality]}, seed, log, own_validation,
                        initial=pretrained.state_dict())
    scratch = train_run(config, {"train_multitask": {**adapt, "freeze_shared": False}}, {modality: data[modality]},
                        seed, log, own_validation)
    return {"modality": modality, "seed": seed, "adapted (f, g frozen)": score(adapted, test, [modality]),
            "from scratch": score(scratch, test, [modality])}
