"""Choosing the L2 strength of an end-of-stage logistic fit on the validation split
(`training.refit_c_grid`): every C of the grid is fitted on the train split, and the one whose
predictions score the highest accuracy on the validation split is kept (the first listed on a tie,
so a grid that lists the default first keeps it unless another C is strictly better). The test
split is never read. As linear-probe protocols sweep the regulariser on held-out data (CLIP's
logistic probes): the refitted heads and read-outs are linear probes of the frozen features.
"""

from __future__ import annotations

import numpy as np


def validation_accuracy(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """A fitted linear layer (weight [C, D], bias [C]) on validation rows x [V, D], labels y [V] -> accuracy."""
    return float(((x @ weight.T + bias).argmax(1) == y).mean())


def best_on_validation(fits: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray) -> tuple[int, list[float]]:
    """fits[i]: (weight, bias) at the grid's i-th C -> (the index of the highest validation accuracy, the
    first on a tie; every fit's accuracy)."""
    scores = [validation_accuracy(weight, bias, x, y) for weight, bias in fits]
    return int(np.argmax(scores)), scores
