"""Deterministic hyperspectral tokenizer: spatial patches x groups of bands."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from omnivec2.tokens.patches import patchify_labels


@dataclass(frozen=True)
class SpectralPatches:
    """Cubes `[H, W, C]` -> tokens `[(H/p)*(W/p)*G, p*p*g]` with G = C/g groups of g adjacent bands.

    Each band is standardised with the train split's per-band mean and standard deviation. Token
    order: patch-major (row-major over the patch grid), then band group; inside a token the values
    are pixel-major (row-major in the patch), band-minor. With `band_group = C` (G = 1) a token is
    one patch's full spectra; smaller groups give SpectralFormer-style group-wise tokens.
    """

    patch: int
    band_group: int
    bands: int  # C, so that dense targets know G without seeing a cube

    def config(self) -> dict:
        return {"kind": "spectral_patches", **asdict(self)}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        cubes = np.stack([np.asarray(s, dtype=np.float64) for s in train_samples])  # [B, H, W, C]
        return {"mean": cubes.mean(axis=(0, 1, 2)).tolist(), "std": np.maximum(cubes.std(axis=(0, 1, 2)), 1e-6).tolist()}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        cubes = np.stack([np.asarray(s, dtype=np.float32) for s in samples])  # [B, H, W, C]
        cubes = (cubes - np.asarray(stats["mean"], np.float32)) / np.asarray(stats["std"], np.float32)
        b, h, w, c = cubes.shape
        p, g = self.patch, self.band_group
        if c != self.bands or h % p or w % p or c % g:
            raise ValueError(f"cube of {h}x{w}x{c} is not {self.bands} bands divisible into {p}x{p} patches of {g} bands")
        x = cubes.reshape(b, h // p, p, w // p, p, c // g, g).transpose(0, 1, 3, 5, 2, 4, 6)  # [B, Hp, Wp, G, p, p, g]
        return np.ascontiguousarray(x.reshape(b, (h // p) * (w // p) * (c // g), p * p * g), dtype=np.float32)

    def dense_shape(self, payload_shape: Sequence[int]) -> tuple[int, ...]:
        """Label maps are `[H, W]` for cubes `[H, W, C]`."""
        return tuple(payload_shape)[:2]

    def transform_dense(self, label_maps: Sequence[np.ndarray], task) -> np.ndarray:
        """Label maps `[H, W]` -> `[B, N, p*p]` int64: each patch's pixel labels, repeated for its G band-group tokens."""
        groups = self.bands // self.band_group
        labels = patchify_labels(label_maps, self.patch, task)  # [B, patches, p*p]
        return np.repeat(labels, groups, axis=1)
