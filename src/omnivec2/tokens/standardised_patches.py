"""ViT patches of frames standardised with the training split's pixel mean and deviation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from omnivec2.tokens.patches import ImagePatches


@dataclass(frozen=True)
class StandardisedPatches:
    """Frames `[H, W]` -> `(frame - mean) / std` -> ViT patches `[(H/p)*(W/p), p*p]` float32.

    For raw sensor counts (a thermal camera's 14-bit values) whose useful contrast is a small
    part of the range: dividing by the full scale would leave tokens nearly constant.
    """

    patch: int

    def config(self) -> dict:
        return {"kind": "standardised_patches", "patch": self.patch}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        pixels = np.stack([np.asarray(s, dtype=np.float64) for s in train_samples])
        return {"mean": float(pixels.mean()), "std": float(max(pixels.std(), 1e-6))}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        frames = np.stack([np.asarray(s, dtype=np.float32) for s in samples])
        frames = (frames - np.float32(stats["mean"])) / np.float32(stats["std"])
        return ImagePatches(self.patch).transform(list(frames), {})
