"""Task balancing for stage 3: Dynamic Weight Average adapted to sparse task visits, equal, uncertainty.

DWA (Liu, Johns & Davison, CVPR 2019): w_k = K exp(r_k / T) / sum_i exp(r_i / T), r_k = L_k(t-1) / L_k(t-2).
Here a task is present only on the steps whose pair includes it, so t counts the task's own visits,
and L_k(t) is the mean loss over a window of its most recent visits (window=1 is the original
formula on visits). Tasks without two full windows of history get r = 1. K is the number of tasks
in the step, so the weights of a pair sum to 2 as in the original.
"""

from __future__ import annotations

import math
from collections import deque

import torch
from torch import nn


class DynamicWeightAverage:
    """With `normalise`, each task's weight is also divided by its first visit's loss (L_k / L_k(0)),
    so that tasks enter the pair's sum on one scale: raw, a 92-class cross-entropy (~4.5 at the start)
    outweighs a binary one (~0.7) whatever DWA's ratios say. A task's first visit, before L_k(0) is
    known, is not rescaled."""

    def __init__(self, temperature: float = 2.0, window: int = 1, normalise: bool = False):
        self.temperature, self.window, self.normalise = temperature, window, normalise
        self.history: dict[str, deque] = {}
        self.initial: dict[str, float] = {}

    def ratio(self, task: str) -> float:
        """r_k: mean of the latest `window` visits over the mean of the `window` before them."""
        losses = list(self.history.get(task, ()))
        if len(losses) < 2 * self.window:
            return 1.0
        recent = sum(losses[-self.window:]) / self.window
        before = sum(losses[-2 * self.window : -self.window]) / self.window
        return recent / max(before, 1e-12)

    def weights(self, tasks: list[str]) -> dict[str, float]:
        logits = {t: self.ratio(t) / self.temperature for t in tasks}
        # A loss that had fallen to ~0 and rises again gives a ratio of 1e6 and more: exp overflows.
        # Shifting by the max is the same softmax; only done then, so ordinary steps keep their bits.
        shift = max(logits.values()) if max(logits.values(), default=0.0) > 700 else 0.0
        exps = {t: math.exp(logit - shift) for t, logit in logits.items()}
        total = sum(exps.values())
        weights = {t: len(tasks) * e / total for t, e in exps.items()}
        if self.normalise:
            weights = {t: w / max(self.initial.get(t, 1.0), 1e-12) for t, w in weights.items()}
        return weights

    def combine(self, losses: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted sum of this step's task losses, with weights from the visits before this step."""
        weights = self.weights(list(losses))
        total = sum(weights[t] * loss for t, loss in losses.items())
        for t, loss in losses.items():
            self.history.setdefault(t, deque(maxlen=2 * self.window)).append(float(loss.detach()))
            self.initial.setdefault(t, float(loss.detach()))
        return total, weights

    def state_dict(self) -> dict:
        return {"history": {t: list(h) for t, h in self.history.items()}, "initial": dict(self.initial)}

    def load_state_dict(self, state: dict) -> None:
        if "history" not in state:  # checkpoints written before L_k(0) was kept: {task: losses}
            state = {"history": state, "initial": {}}
        self.history = {t: deque(map(float, h), maxlen=2 * self.window) for t, h in state["history"].items()}
        self.initial = {t: float(v) for t, v in state["initial"].items()}


class EqualWeighting:
    def combine(self, losses: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        return sum(losses.values()), {t: 1.0 for t in losses}

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class UncertaintyWeighting(nn.Module):
    """Kendall, Gal & Cipolla (2018): L = sum_k exp(-s_k) L_k + s_k, with a learned s_k = log sigma_k^2 per task."""

    def __init__(self, tasks: list[str]):
        super().__init__()
        self.log_vars = nn.ParameterDict({t: nn.Parameter(torch.zeros(())) for t in tasks})

    def combine(self, losses: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        total = sum(torch.exp(-self.log_vars[t]) * loss + self.log_vars[t] for t, loss in losses.items())
        return total, {t: float(torch.exp(-self.log_vars[t]).detach()) for t in losses}


def build_balancer(kind: str, tasks: list[str], temperature: float = 2.0, window: int = 1, normalise: bool = False):
    if kind == "dwa":
        return DynamicWeightAverage(temperature, window, normalise)
    if kind == "equal":
        return EqualWeighting()
    if kind == "uncertainty":
        return UncertaintyWeighting(tasks)
    raise ValueError(f"unknown task balancing {kind!r}; choose dwa, equal or uncertainty")
