"""What each step trains on: modality switching (stage 1) and pair sampling (stages 2 and 3).

Pair sampling follows PolyViT's weighted task sampling: uniform, proportional to dataset size, or
by step budgets (each item has a budget of steps; pairs are drawn in proportion to what is left).
All samplers are seeded and checkpointable; every Ray worker draws the same sequence.
"""

from __future__ import annotations

import itertools
import random
from typing import Hashable, Sequence


class ModalitySwitcher:
    """Stage 1's iterative modality switching: one modality per step, cycling or size-weighted."""

    def __init__(self, modalities: Sequence[str], mode: str = "cycle", sizes: dict[str, int] | None = None, seed: int = 0):
        if mode not in ("cycle", "weighted"):
            raise ValueError(f"unknown modality schedule {mode!r}; choose cycle or weighted")
        self.modalities, self.mode = list(modalities), mode
        self.weights = [float((sizes or {}).get(m, 1)) for m in self.modalities]
        self.rng = random.Random(seed)
        self.step = 0

    def next(self) -> str:
        self.step += 1
        if self.mode == "cycle":
            return self.modalities[(self.step - 1) % len(self.modalities)]
        return self.rng.choices(self.modalities, weights=self.weights)[0]

    def state_dict(self) -> dict:
        return {"step": self.step, "rng": _rng_state(self.rng)}

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.rng.setstate(_rng_unstate(state["rng"]))


def valid_pairs(items: Sequence[Hashable], group_of=lambda item: item) -> list[tuple]:
    """Unordered pairs of items from different groups (e.g. tasks of two different modalities)."""
    return [(a, b) for a, b in itertools.combinations(items, 2) if group_of(a) != group_of(b)]


class PairSampler:
    """Draws one pair per step from `pairs` by "uniform", "size" (weight = size_a + size_b) or "budget"."""

    def __init__(self, pairs: Sequence[tuple], mode: str = "uniform", sizes: dict | None = None,
                 budgets: dict | None = None, seed: int = 0):
        if not pairs:
            raise ValueError("pair sampling needs at least one pair of items from different modalities")
        if mode not in ("uniform", "size", "budget"):
            raise ValueError(f"unknown pair sampling {mode!r}; choose uniform, size or budget")
        self.pairs, self.mode = [tuple(p) for p in pairs], mode
        sizes = sizes or {}
        self.size_weights = [float(sizes.get(a, 1) + sizes.get(b, 1)) for a, b in self.pairs]
        items = {x for pair in self.pairs for x in pair}
        self.remaining = {str(x): float((budgets or {}).get(x, 1.0)) for x in items}
        self.rng = random.Random(seed)

    def next(self) -> tuple:
        if self.mode == "uniform":
            return self.rng.choice(self.pairs)
        if self.mode == "size":
            return self.rng.choices(self.pairs, weights=self.size_weights)[0]
        weights = [max(self.remaining[str(a)], 0.0) * max(self.remaining[str(b)], 0.0) for a, b in self.pairs]
        if sum(weights) <= 0:  # every budget spent: fall back to uniform rather than stop training
            pair = self.rng.choice(self.pairs)
        else:
            pair = self.rng.choices(self.pairs, weights=weights)[0]
        for item in pair:
            self.remaining[str(item)] -= 1.0
        return pair

    def state_dict(self) -> dict:
        return {"remaining": dict(self.remaining), "rng": _rng_state(self.rng)}

    def load_state_dict(self, state: dict) -> None:
        self.remaining = {k: float(v) for k, v in state["remaining"].items()}
        self.rng.setstate(_rng_unstate(state["rng"]))


def _rng_state(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_unstate(state: list) -> tuple:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
