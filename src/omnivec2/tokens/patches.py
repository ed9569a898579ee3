"""Deterministic patch tokenizers: 2-D images and multichannel time series."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class ImagePatches:
    """ViT patchify: images `[H, W]` or `[C, H, W]` -> tokens `[(H/p)*(W/p), C*p*p]`.

    Pixels are divided by `scale` (the source's maximum value) so tokens lie in [0, 1].
    """

    patch: int
    scale: float = 1.0

    def config(self) -> dict:
        return {"kind": "image_patches", **asdict(self)}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        return {}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        images = np.stack([np.asarray(s, dtype=np.float32) for s in samples])  # [B, (C,) H, W]
        if images.ndim == 3:
            images = images[:, None]
        b, c, h, w = images.shape
        p = self.patch
        if h % p or w % p:
            raise ValueError(f"image of {h}x{w} is not divisible into {p}x{p} patches")
        patches = images.reshape(b, c, h // p, p, w // p, p).transpose(0, 2, 4, 1, 3, 5)
        return (patches.reshape(b, (h // p) * (w // p), c * p * p) / self.scale).astype(np.float32)

    def dense_shape(self, payload_shape: Sequence[int]) -> tuple[int, ...]:
        """Label-map shape for a payload shape: `[H, W]` for `[H, W]` and `[C, H, W]`."""
        return tuple(payload_shape)[-2:]

    def transform_dense(self, label_maps: Sequence[np.ndarray], task) -> np.ndarray:
        """Label maps `[H, W]` -> `[B, N, p*p]` int64, token n holding its patch's pixels row-major."""
        return patchify_labels(label_maps, self.patch, task)


def patchify_labels(label_maps: Sequence[np.ndarray], patch: int, task) -> np.ndarray:
    """Label maps `[H, W]` -> `[B, (H/p)*(W/p), p*p]` int64, in the patch order of `ImagePatches`."""
    labels = np.stack([np.asarray(m, dtype=np.int64) for m in label_maps])  # [B, H, W]
    b, h, w = labels.shape
    p = patch
    if h % p or w % p:
        raise ValueError(f"label map of {h}x{w} is not divisible into {p}x{p} patches")
    if task.outputs_per_token != p * p:
        raise ValueError(f"task {task.name!r} declares {task.outputs_per_token} outputs per token, {p}x{p} patches give {p * p}")
    return labels.reshape(b, h // p, p, w // p, p).transpose(0, 1, 3, 2, 4).reshape(b, (h // p) * (w // p), p * p)


PIXEL_GRID_TOKENIZERS = ("image_patches", "standardised_patches")  # ViT patches in `ImagePatches`' layout


def pixel_grid(config: dict, token_shape: Sequence[int], settings: dict) -> tuple[int, ...]:
    """A token cache's tokenizer config, token shape `[N, P]` and stream settings (`size`: side, or
    [height, width]) -> the layout of its ViT patch tokens `(rows, cols, channels, patch)`, which a
    horizontal flip needs to undo the patching; `()` for any other tokenizer (or a size that does not
    give the token shape)."""
    if config.get("kind") not in PIXEL_GRID_TOKENIZERS or not config.get("patch"):
        return ()
    patch, (n, p) = int(config["patch"]), token_shape
    size = settings.get("size")
    height, width = (size, size) if isinstance(size, int) else tuple(size or (0, 0))
    rows, cols, channels = height // patch, width // patch, p // (patch * patch)
    return (rows, cols, channels, patch) if rows * cols == n and channels * patch * patch == p else ()


@dataclass(frozen=True)
class TimePatches:
    """Time-series patching: series `[C, T]` -> tokens `[T/p, C*p]`, standardised per channel.

    Channel means and standard deviations come from the training split (`fit`).
    """

    patch: int

    def config(self) -> dict:
        return {"kind": "time_patches", **asdict(self)}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        series = np.stack([np.asarray(s, dtype=np.float64) for s in train_samples])  # [B, C, T]
        return {
            "mean": series.mean(axis=(0, 2)).tolist(),
            "std": np.maximum(series.std(axis=(0, 2)), 1e-6).tolist(),
        }

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        series = np.stack([np.asarray(s, dtype=np.float32) for s in samples])  # [B, C, T]
        mean = np.asarray(stats["mean"], dtype=np.float32)[None, :, None]
        std = np.asarray(stats["std"], dtype=np.float32)[None, :, None]
        series = (series - mean) / std
        b, c, t = series.shape
        p = self.patch
        usable = (t // p) * p  # a ragged tail shorter than one patch is dropped
        patches = series[:, :, :usable].reshape(b, c, t // p, p).transpose(0, 2, 1, 3)
        return patches.reshape(b, t // p, c * p).astype(np.float32)
