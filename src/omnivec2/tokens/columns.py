"""Deterministic tabular tokenizer: one token per numeric column (FT-Transformer style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class NumericColumns:
    """Rows `[C]` -> tokens `[C, 1]`: each column standardised with training-split statistics.

    The learnable half gives every column its own embedding (value * w_c + b_c), so a token's
    identity is its column.
    """

    def config(self) -> dict:
        return {"kind": "numeric_columns"}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        rows = np.stack([np.asarray(s, dtype=np.float64) for s in train_samples])  # [B, C]
        return {"mean": rows.mean(axis=0).tolist(), "std": np.maximum(rows.std(axis=0), 1e-6).tolist()}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        rows = np.stack([np.asarray(s, dtype=np.float32) for s in samples])  # [B, C]
        rows = (rows - np.asarray(stats["mean"], dtype=np.float32)) / np.asarray(stats["std"], dtype=np.float32)
        return rows[:, :, None].astype(np.float32)
