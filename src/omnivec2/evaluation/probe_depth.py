"""Where along the network a task's linearly readable signal is kept or lost (`omnivec2 probe-depth`):
the classical baseline's linear model fitted at every depth of the single-stream pass.

The depths are `network_depths.depth_tokens`' (the cached input tokens, the embedding, each block of
f, z = FC(f(x)) and o = Fuse(g(z), z), A removed as at test time). Two read-outs per depth, each the
classical baseline's fit (`baselines.classical_baseline`: standardised logistic regression or ridge,
fitted on the train split and scored on the test split):

* `flattened`: every token side by side, `[S, N * D]`; at `tokens` this is the main table's
  classical baseline;
* `pooled`: the mean over the tokens (padding left out, when the model masks it), `[S, D]`; at `f`
  and `g` these are the report's linear probes of the same network.

So a row that falls below the raw tokens' shows the depth at which the network stops keeping what a
linear model could read from the input. A diagnostic beside the report, not part of the pipeline.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch

from omnivec2.evaluation.baselines import classical_baseline
from omnivec2.evaluation.chance import majority_share
from omnivec2.evaluation.headline import PRIMARY
from omnivec2.evaluation.linear_probe import PROBED_KINDS
from omnivec2.evaluation.network_depths import depth_tokens
from omnivec2.model.heads import pool
from omnivec2.model.omnivec2 import OmniVec2, Stream
from omnivec2.parallel_fits import run_fits
from omnivec2.tokens.cache import read_token_split


def probed_tasks(model: OmniVec2, names: list[str] | None = None) -> list[str]:
    """`names` ("<stream>/<task>"), checked against the model, or (None) every classification and
    regression task of the model, in its order."""
    known = [f"{m.name}/{t.name}" for m in model.config.modalities for t in m.tasks if t.kind in PROBED_KINDS]
    if names is None:
        return known
    if unknown := [n for n in names if n not in known]:
        raise ValueError(f"probe-depth: {unknown} are not classification or regression tasks of this model; "
                         f"it has {known}")
    return list(names)


def pooled(model: OmniVec2, stream: str, tokens: torch.Tensor, features: np.ndarray) -> np.ndarray:
    """A depth's tokens `[S, N, D]` -> their mean over the tokens `[S, 1, D]`, leaving out the tokens
    the model treats as padding in `tokens` `[S, N, P]`."""
    pad = model.padding(Stream(stream, tokens))
    return pool(torch.from_numpy(features), pad).numpy()[:, None, :]


def probe_by_depth(model: OmniVec2, cache_root: str | Path, tasks: list[str], seed: int = 0,
                   max_iter: int = 2000) -> dict[str, dict]:
    """`tasks` ("<stream>/<task>") -> {task: {"kind", "metric" (its primary one), "higher_is_better",
    "chance" (classification: the test split's majority share; else None), "depths": {depth:
    {"flattened": metric, "pooled": metric}}}}, depths in network order."""
    by_stream: dict[str, list[str]] = {}
    for key in tasks:
        stream, name = key.split("/")
        by_stream.setdefault(stream, []).append(name)
    results, fits = {}, {}  # fits: (task, depth, read-out) -> its fit and score, run side by side below
    for stream, names in by_stream.items():
        train, test = (read_token_split(cache_root, stream, split) for split in ("train", "test"))
        train_tokens, test_tokens = torch.from_numpy(train.tokens.copy()), torch.from_numpy(test.tokens.copy())
        train_depths, test_depths = depth_tokens(model, stream, train_tokens), depth_tokens(model, stream, test_tokens)
        # {depth: {read-out: (train, test) inputs}}, shared by the stream's tasks
        readouts = {depth: {"flattened": (train_depths[depth], test_depths[depth]),
                            "pooled": (pooled(model, stream, train_tokens, train_depths[depth]),
                                       pooled(model, stream, test_tokens, test_depths[depth]))}
                    for depth in train_depths}
        for name in names:
            kind = model.config.modality(stream).task(name).kind
            metric, higher = PRIMARY[kind]
            chance = majority_share(test.targets[name]) if kind == "classification" else None
            results[f"{stream}/{name}"] = {"kind": kind, "metric": metric, "higher_is_better": higher,
                                           "chance": chance, "depths": {}}
            for depth, inputs in readouts.items():
                for readout, (x_train, x_test) in inputs.items():
                    fits[f"{stream}/{name}", depth, readout] = partial(
                        classical_baseline, kind, x_train, train.targets[name], x_test, test.targets[name], seed,
                        max_iter)
    for (key, depth, readout), scores in zip(fits, run_fits(list(fits.values()))):
        results[key]["depths"].setdefault(depth, {})[readout] = scores[results[key]["metric"]]
    return results


def probe_table(task: str, result: dict) -> str:
    """`probe_by_depth`'s entry for `task` -> a markdown table."""
    arrow = "↑" if result["higher_is_better"] else "↓"
    metric = f"{result['metric']} {arrow}"
    lines = [f"## {task} ({result['kind']})", "", f"| depth | flattened, {metric} | pooled, {metric} |", "|---|---|---|"]
    for depth, r in result["depths"].items():
        lines.append(f"| {depth} | {r['flattened']:.3f} | {r['pooled']:.3f} |")
    lines.append("")
    if result["chance"] is not None:
        lines.append(f"Chance (the test split's most frequent class): {result['chance']:.3f}.")
    lines.append("The `tokens` row's flattened figure is the classical baseline; `f` and `g` pooled are the "
                 "report's linear probes.")
    return "\n".join(lines) + "\n"
