"""Geometry shared by the mesh-based generators: uniform random rotations, surface sampling, views."""

from __future__ import annotations

import numpy as np


def random_rotations(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` rotations uniform on SO(3) (Haar): unit quaternions from 4 Gaussians -> `[count, 3, 3]`."""
    q = rng.standard_normal((count, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=1),
        ],
        axis=1,
    )


def triangle_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """vertices `[V, 3]`, triangles `[F, 3]` -> areas `[F]`."""
    a, b, c = (vertices[triangles[:, i]] for i in range(3))
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def sample_surface(vertices: np.ndarray, triangles: np.ndarray, count: int, rng: np.random.Generator,
                   cdf: np.ndarray | None = None) -> np.ndarray:
    """`count` points uniform on the surface (area-weighted triangle, uniform barycentrics) -> `[count, 3]`.

    `cdf` (cumulative normalised areas `[F]`) may be passed to skip recomputing it per call.
    """
    if cdf is None:
        areas = triangle_areas(vertices, triangles)
        cdf = np.cumsum(areas) / areas.sum()
    faces = np.minimum(np.searchsorted(cdf, rng.random(count), side="right"), len(cdf) - 1)
    r1, r2 = np.sqrt(rng.random(count)), rng.random(count)
    a, b, c = (vertices[triangles[faces, i]] for i in range(3))
    return (1 - r1)[:, None] * a + (r1 * (1 - r2))[:, None] * b + (r1 * r2)[:, None] * c


def resample(points: np.ndarray, count: int) -> np.ndarray:
    """Deterministically bring a point set `[n, 3]` to `count` points: an evenly spaced subset when
    n >= count, otherwise every point repeated cyclically (`[count, 3]`)."""
    n = len(points)
    index = np.linspace(0, n, count, endpoint=False).astype(np.int64) if n >= count else np.arange(count) % n
    return points[index]


def to_unit_sphere(points: np.ndarray) -> np.ndarray:
    """Centre on the bounding box and scale the farthest point to radius 1 (`[n, 3]`)."""
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    radius = np.linalg.norm(points - centre, axis=1).max()
    return (points - centre) / max(radius, 1e-12)
