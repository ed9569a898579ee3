"""Linear probes of the frozen shared features after each stage: does a stage give features that a
linear model can use?

For every classification and regression task, the network's weights are frozen, each sample is
embedded single-stream (A removed), and a linear model (the classical baseline's: standardised
logistic regression / ridge) is fitted on the train split and scored on the test split, so its
figure sits beside the main table's *classical* column (same splits, same fit). Two feature sets:

* `f`: pooled z = FC(f(x)), `[S, D_g]`: what f alone gives;
* `g`: pooled o = Fuse(g(z), z), `[S, D_g]`: what the heads read.

`init` is the same architecture at its random initialisation (seeded): the reference a stage's
probe must beat before one can say the stage taught the shared features anything. Dense tasks are
left out (a per-token probe would need the dense baseline's sampling; not done).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch

from omnivec2.checkpoint import load_model, read_config
from omnivec2.evaluation.baselines import classical_baseline
from omnivec2.evaluation.device import model_device
from omnivec2.model.heads import pool
from omnivec2.model.omnivec2 import OmniVec2, Stream
from omnivec2.parallel_fits import run_fits
from omnivec2.tokens.cache import read_token_split

PROBED_KINDS = ("classification", "regression")
FEATURES = ("f", "g")


@torch.no_grad()
def frozen_features(model: OmniVec2, modality: str, tokens: torch.Tensor, batch_size: int = 256) -> dict[str, np.ndarray]:
    """tokens `[S, N, P]` -> {"f": pooled z `[S, D_g]`, "g": pooled o `[S, D_g]`}, single stream,
    padding left out of the pooling when the model masks it."""
    model.eval()
    device, parts = model_device(model), {name: [] for name in FEATURES}
    for i in range(0, len(tokens), batch_size):
        stream = Stream(modality, tokens[i : i + batch_size].to(device))
        pad = model.padding(stream)
        z = model.encode_f(model.embed(modality, stream.tokens), pad)
        parts["f"].append(pool(z, pad).cpu())
        parts["g"].append(pool(model.encode_g(z, z, pad), pad).cpu())
    return {name: torch.cat(chunks).numpy() for name, chunks in parts.items()}


def probe_model(model: OmniVec2, splits: dict[str, tuple], tasks: dict[str, list], seed: int = 0,
                max_iter: int = 2000) -> dict[str, dict[str, dict[str, float]]]:
    """`splits`: {stream: (train, test) `TokenSplit`s}; `tasks`: {stream: [TaskConfig]} ->
    {"<stream>/<task>": {"f": metrics, "g": metrics}} for the streams this model embeds (a stage-1
    model may lack a stream the final model has)."""
    present = {m.name for m in model.config.modalities}
    fits = {}  # (task, feature set) -> its fit and score, run side by side below
    for stream, stream_tasks in tasks.items():
        if stream not in present:
            continue
        train, test = splits[stream]
        train_x = frozen_features(model, stream, torch.from_numpy(train.tokens.copy()))
        test_x = frozen_features(model, stream, torch.from_numpy(test.tokens.copy()))
        for task in stream_tasks:
            for name in FEATURES:
                fits[f"{stream}/{task.name}", name] = partial(
                    classical_baseline, task.kind, train_x[name][:, None, :], train.targets[task.name],
                    test_x[name][:, None, :], test.targets[task.name], seed, max_iter)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for (key, name), metrics in zip(fits, run_fits(list(fits.values()))):
        results.setdefault(key, {})[name] = metrics
    return results


def linear_probes(checkpoints: dict[str, str | Path], final_checkpoint: str | Path, cache_root: str | Path,
                  seed: int = 0, max_iter: int = 2000, device: torch.device | str = "cpu") -> dict:
    """`checkpoints`: {stage: checkpoint folder}, in stage order; the final model's config names the
    tasks and builds the `init` network -> {"features": ..., "stages": {"init" | stage: {task: {f, g}}}}.
    The features are computed on `device`, the probes fitted on the CPU."""
    config, _ = read_config(final_checkpoint)
    tasks = {m.name: [t for t in m.tasks if t.kind in PROBED_KINDS] for m in config.modalities}
    tasks = {stream: ts for stream, ts in tasks.items() if ts}
    # Read (and checksum) each split once for all the stages' models.
    splits = {s: (read_token_split(cache_root, s, "train"), read_token_split(cache_root, s, "test")) for s in tasks}
    torch.manual_seed(seed)
    stages = {"init": probe_model(OmniVec2(config).to(device), splits, tasks, seed, max_iter)}
    for stage, folder in checkpoints.items():
        stages[stage] = probe_model(load_model(folder).to(device), splits, tasks, seed, max_iter)
    return {"features": {"f": "pooled FC(f(x))", "g": "pooled Fuse(g(z), z)"}, "split": "fit on train, scored on test",
            "stages": stages}
