"""Choosing each classification head's read-out on the validation split (`head_pooling: select`).

At the end of stage 3, after the heads' statistics and output layers were refitted on the frozen
features (`precise_heads`, `head_refit`), each head that holds a `FittedReadout` gets it fitted: its
normalisation statistics over the train split ("batch" heads), then the classical baseline's
logistic regression (C = 1; fitted in the row space of its wide inputs, `row_space_logistic`) on
the normalised flattened tokens. Both read-outs are then scored (accuracy) on the stream's
validation split, and the flattened one is switched on only where it scores strictly higher; a
tie, or a stream without a validation split, keeps the mean.

Dense heads (`dense_readout: select`) hold a `FittedDenseReadout`: it is fitted as `refit_dense`
fits their output layers (a logistic regression per pixel of a token), on each token's normalised
features beside its input values standardised over the train split, and kept where it scores the
higher validation mIoU than the head's own (refitted) output layer.

The test split is never read. Every data-parallel worker computes the same fit and choice (whole
splits, deterministic solver).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch

from omnivec2.model.fitted_readout import FittedDenseReadout, FittedReadout
from omnivec2.model.omnivec2 import OmniVec2, head_key
from omnivec2.parallel_fits import run_fits
from omnivec2.training.c_choice import best_on_validation, validation_accuracy
from omnivec2.training.data import ModalityData
from omnivec2.training.head_inputs import head_inputs
from omnivec2.training.head_refit import DENSE_ROWS, _dense_logistic, _logistic, normalised


def select_tasks(model: OmniVec2, tasks: list[str], kind: type = FittedReadout) -> list[str]:
    """The tasks of `tasks` ("<stream>/<task>") whose heads hold a fitted read-out of `kind`."""
    return [k for k in tasks if isinstance(getattr(model.heads[head_key(*k.split("/"))], "readout", None), kind)]


def keep_if_better(readout, key: str, scores: dict[str, float], fitted: str, own: str) -> dict[str, float]:
    """Switch `readout` on where its validation score `scores[fitted]` is strictly higher than the
    head's own `scores[own]` -> {"head_readout/<key>": 1.0 or 0.0, "head_readout_val/<key>/<side>": score}."""
    if scores[fitted] > scores[own]:
        readout.active.fill_(1)
    return {f"head_readout/{key}": float(readout.is_active),
            **{f"head_readout_val/{key}/{side}": value for side, value in scores.items()}}


@torch.no_grad()
def select_readouts(model: OmniVec2, train: dict[str, ModalityData], validation: dict[str, ModalityData],
                    tasks: list[str], max_iter: int = 2000, c_grid: tuple[float, ...] = (1.0,)) -> dict[str, float]:
    """Fit the fitted read-outs of `tasks` on `train` and keep each where `validation` ({stream: its
    validation split}) scores it higher than the head's mean read-out -> {"head_readout/<task>": 1.0
    flattened or 0.0 mean, "head_readout_val/<task>/mean" and ".../flattened": validation accuracy}.
    Each read-out is fitted at every inverse L2 strength of `c_grid`, the best on validation kept
    (`c_choice`; with more than one C, "head_readout_c/<task>" says which)."""
    keys = select_tasks(model, tasks)
    validated = [k for k in keys if len(validation.get(k.split("/")[0], ())) > 0]
    flat_train = head_inputs(model, train, validated, fitted_readout=True)
    mean_val = head_inputs(model, validation, validated)
    flat_val = head_inputs(model, validation, validated, fitted_readout=True)
    chosen: dict[str, float] = {}
    fits, costs = {}, {}  # (task, C) -> its logistic regression on the normalised flattened tokens (run below), its size
    for key in keys:
        stream, name = key.split("/")
        head = model.heads[head_key(stream, name)]
        readout = head.readout
        readout.active.zero_()
        chosen[f"head_readout/{key}"] = 0.0
        if key not in validated:
            continue
        x = flat_train[key].double()
        if readout.norm_kind == "batch":
            readout.set_statistics(x.mean(0), x.var(0) if len(x) > 1 else torch.ones(x.shape[1], dtype=x.dtype))
        y = train[stream].targets[name].numpy().astype(np.int64)
        normed = readout.normalise(x).numpy()
        for c in c_grid:
            fits[key, c] = partial(_logistic, normed, y, head.out.out_features, max_iter, c)
            costs[key, c] = x.numel() * head.out.out_features
    results = dict(zip(fits, run_fits(list(fits.values()), costs=list(costs.values()))))
    for key in dict.fromkeys(key for key, _ in fits):
        stream, name = key.split("/")
        head = model.heads[head_key(stream, name)]
        readout = head.readout
        truth = validation[stream].targets[name].numpy()
        flat_val_x = readout.normalise(flat_val[key].double()).numpy()
        best, flat_scores = best_on_validation([results[key, c] for c in c_grid], flat_val_x, truth)
        weight, bias = results[key, c_grid[best]]
        readout.set_linear(torch.from_numpy(weight), torch.from_numpy(bias))

        out_w, out_b = head.out.weight.double().cpu().numpy(), head.out.bias.double().cpu().numpy()
        scores = {"mean": validation_accuracy(out_w, out_b, normalised(model, key, mean_val[key]), truth),
                  "flattened": flat_scores[best]}
        chosen.update(keep_if_better(readout, key, scores, fitted="flattened", own="mean"))
        if len(c_grid) > 1:
            chosen[f"head_readout_c/{key}"] = c_grid[best]
    return chosen


@torch.no_grad()
def select_dense_readouts(model: OmniVec2, train: dict[str, ModalityData], validation: dict[str, ModalityData],
                          tasks: list[str], max_iter: int = 2000, max_rows: int = DENSE_ROWS) -> dict[str, float]:
    """Fit the dense heads' fitted read-outs of `tasks` on `train` and keep each where `validation`
    scores it a higher mIoU than the head's output layer -> {"head_readout/<task>": 1.0 fitted with the
    input tokens, 0.0 the head's own, "head_readout_val/<task>/trained" and ".../with_tokens": mIoU}."""
    from omnivec2.evaluation.metrics import task_metrics

    keys = select_tasks(model, tasks, FittedDenseReadout)
    validated = [k for k in keys if len(validation.get(k.split("/")[0], ())) > 0]
    features_train, features_val = head_inputs(model, train, validated), head_inputs(model, validation, validated)
    chosen: dict[str, float] = {}
    for key in keys:
        stream, name = key.split("/")
        head, task = model.heads[head_key(stream, name)], model.config.modality(stream).task(name)
        readout = head.readout
        readout.active.zero_()
        chosen[f"head_readout/{key}"] = 0.0
        if key not in validated:
            continue
        tokens = train[stream].tokens.flatten(0, 1).double()  # [S * N, P], as the features' rows
        readout.set_statistics(tokens.mean(0), tokens.var(0) if len(tokens) > 1 else torch.ones(tokens.shape[1]))
        x = readout.inputs(torch.from_numpy(normalised(model, key, features_train[key])), tokens).numpy()
        y = train[stream].targets[name].numpy().reshape(len(x), -1).astype(np.int64)  # [S * N, K]
        weight, bias, _ = _dense_logistic(x, y, task.num_classes, task.ignore_index, max_iter, max_rows)  # fits side by side
        readout.set_linear(torch.from_numpy(weight), torch.from_numpy(bias))

        rows, n = len(validation[stream]), validation[stream].tokens.shape[1]
        normed_val = normalised(model, key, features_val[key])  # [S * N, D]
        out_w, out_b = head.out.weight.double().cpu().numpy(), head.out.bias.double().cpu().numpy()
        x_val = readout.inputs(torch.from_numpy(normed_val), validation[stream].tokens.flatten(0, 1).double()).numpy()
        truth = validation[stream].targets[name]
        scores = {}
        for side, logits in {"trained": normed_val @ out_w.T + out_b, "with_tokens": x_val @ weight.T + bias}.items():
            output = torch.from_numpy(logits).reshape(rows, n, task.outputs_per_token, task.num_classes)
            scores[side] = task_metrics("dense", output, truth, task.num_classes, task.ignore_index)["miou"]
        chosen.update(keep_if_better(readout, key, scores, fitted="with_tokens", own="trained"))
    return chosen
