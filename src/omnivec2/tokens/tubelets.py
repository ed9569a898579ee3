"""Deterministic video tokenizer: tubelets (VideoMAE / ViViT "tubelet embedding")."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Tubelets:
    """Clips `[T, H, W]` -> tokens `[(T/t)*(H/p)*(W/p), t*p*p]`, pixel values divided by `scale`.

    Token order is time-major: token `i * S + j` is spatial position j (row-major over the patch
    grid) of temporal slice i, with S = (H/p)*(W/p) spatial tokens per slice, which is the layout
    tube masking expects (`MaskSpec.tube_period = S`). Inside a token: frame, then row, then column.
    """

    frames: int  # t
    patch: int  # p
    scale: float = 255.0

    def config(self) -> dict:
        return {"kind": "tubelets", **asdict(self)}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        return {}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        clips = np.stack([np.asarray(s, dtype=np.float32) for s in samples])  # [B, T, H, W]
        b, t, h, w = clips.shape
        f, p = self.frames, self.patch
        if t % f or h % p or w % p:
            raise ValueError(f"clip of {t}x{h}x{w} is not divisible into {f}x{p}x{p} tubelets")
        x = clips.reshape(b, t // f, f, h // p, p, w // p, p).transpose(0, 1, 3, 5, 2, 4, 6)  # [B, T', H', W', f, p, p]
        return (x.reshape(b, (t // f) * (h // p) * (w // p), f * p * p) / self.scale).astype(np.float32)
