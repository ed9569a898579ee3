"""Chance levels, and whether a score is above them: on test splits of 92 rows, 3 right answers out of
92 classes reads 0.033 against a chance of 0.011, yet a model that guesses gets there about one time
in thirteen.

A task's chance level is the score of a model that ignores its input: for classification the share
of the test split's most frequent class (always answering it scores that; any input-blind answer
scores at most that), for retrieval 1 / gallery size (`chance_rank1`, set by the retrieval metrics).
A score is *above chance* when a one-sided binomial test rejects "each test row is right with
probability chance" at `ALPHA`: hits = round(score * rows). Dense and regression tasks have no such
level here (pixels of one image are not independent trials; an RMSE has no input-blind hit rate).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

ALPHA = 0.05


def majority_share(targets: np.ndarray) -> float:
    """Class ids `[S]` -> the share of the most frequent one (the accuracy of always answering it)."""
    targets = np.asarray(targets).reshape(-1)
    if targets.size == 0:
        raise ValueError("majority_share needs at least one target")
    return float(np.unique(targets, return_counts=True)[1].max() / targets.size)


def p_above_chance(score: float, trials: int, chance: float) -> float:
    """One-sided binomial p-value of round(score * trials) or more hits in `trials` rows, each a hit
    with probability `chance`: small means the score is unlikely for an input-blind model."""
    if trials < 1 or not 0.0 <= chance <= 1.0:
        raise ValueError(f"p_above_chance needs trials >= 1 and chance in [0, 1], got {trials} and {chance}")
    hits = int(round(score * trials))
    return float(binom.sf(hits - 1, trials, chance))


def chance_level(entry: dict) -> float | None:
    """A metrics.json task entry -> its chance level in the task's primary metric, None where the
    entry has none (dense, regression, or a metrics.json written before chance levels were)."""
    if entry["kind"] == "classification":
        return entry.get("chance", {}).get("accuracy")
    if entry["kind"] == "retrieval":
        return next((entry[s]["chance_rank1"] for s in ("omnivec2", "classical") if "chance_rank1" in entry.get(s, {})),
                    None)
    return None
