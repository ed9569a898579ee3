"""Deterministic point-cloud tokenizer (Point-BERT / Point-MAE): farthest-point sampling + kNN groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def farthest_point_sampling(points: np.ndarray, count: int) -> np.ndarray:
    """points `[B, n, 3]` -> indices `[B, count]` of farthest-point-sampled centres, vectorised over B.

    The first centre of each cloud is its point farthest from the cloud's mean (independent of the
    point order up to ties, unlike "start at index 0"); ties resolve to the lowest index.
    """
    b, n, _ = points.shape
    rows = np.arange(b)
    x, y, z = (np.ascontiguousarray(points[..., i]) for i in range(3))  # [B, n] planes: faster than a 3-axis sum
    chosen = np.empty((b, count), dtype=np.int64)
    mean = points.mean(axis=1)
    chosen[:, 0] = np.argmax((x - mean[:, :1]) ** 2 + (y - mean[:, 1:2]) ** 2 + (z - mean[:, 2:]) ** 2, axis=1)
    nearest = np.full((b, n), np.inf, dtype=points.dtype)  # squared distance to the closest chosen centre
    for i in range(1, count):
        last = chosen[:, i - 1]
        d = (x - x[rows, last][:, None]) ** 2 + (y - y[rows, last][:, None]) ** 2 + (z - z[rows, last][:, None]) ** 2
        np.minimum(nearest, d, out=nearest)
        chosen[:, i] = np.argmax(nearest, axis=1)
    return chosen


def knn_groups(points: np.ndarray, centres: np.ndarray, k: int) -> np.ndarray:
    """points `[B, n, 3]`, centres `[B, G, 3]` -> indices `[B, G, k]` of each centre's k nearest points,
    nearest first (a centre that is one of the points comes first, at distance 0).

    One k-d tree per cloud (scipy): a dense `[B, G, n]` distance matrix plus a partition costs ~10x more.
    """
    from scipy.spatial import cKDTree

    out = np.empty((*centres.shape[:2], k), dtype=np.int64)
    for i in range(len(points)):
        out[i] = cKDTree(points[i]).query(centres[i], k=k)[1]
    return out


@dataclass(frozen=True)
class PointGroups:
    """Point clouds `[n, 3]` -> tokens `[G, k*3 + 3]` float32.

    Each token is one kNN group: its k points relative to the group centre (nearest first,
    flattened xyz), then the centre's absolute xyz as the last 3 values (the mini-PointNet embeds
    those as the token's position). Clouds are processed in chunks of `chunk` to bound memory.
    """

    groups: int = 64
    k: int = 16
    chunk: int = 128

    def config(self) -> dict:
        return {"kind": "point_groups", "groups": self.groups, "k": self.k}

    def degenerate(self, cloud: np.ndarray) -> str | None:
        """Why validation must refuse one cloud `[n, 3]`, or None: a cloud of identical points (zero extent,
        which a reader's unit-sphere scaling collapses to the origin) gives every kNN group the same
        zero offsets, so its tokens describe no shape at all and the label would be learnt from nothing."""
        cloud = np.asarray(cloud)
        if cloud.ndim == 2 and len(cloud) and not np.ptp(cloud, axis=0).any():
            return f"all {len(cloud)} points are identical (zero extent): no shape for the point groups to describe"
        return None

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        return {}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        clouds = np.stack([np.asarray(s, dtype=np.float32) for s in samples])  # [B, n, 3]
        if clouds.ndim != 3 or clouds.shape[-1] != 3:
            raise ValueError(f"point clouds must be [n, 3]; got a batch of shape {clouds.shape}")
        if clouds.shape[1] < max(self.groups, self.k):
            raise ValueError(f"a cloud of {clouds.shape[1]} points cannot give {self.groups} groups of {self.k}")
        out = [self._chunk(clouds[i : i + self.chunk]) for i in range(0, len(clouds), self.chunk)]
        return np.concatenate(out).astype(np.float32)

    def _chunk(self, clouds: np.ndarray) -> np.ndarray:
        b = len(clouds)
        centre_index = farthest_point_sampling(clouds, self.groups)  # [b, G]
        centres = np.take_along_axis(clouds, centre_index[..., None], axis=1)  # [b, G, 3]
        members = knn_groups(clouds, centres, self.k)  # [b, G, k]
        grouped = clouds[np.arange(b)[:, None, None], members]  # [b, G, k, 3]
        local = (grouped - centres[:, :, None, :]).reshape(b, self.groups, self.k * 3)
        return np.concatenate([local, centres], axis=-1)
