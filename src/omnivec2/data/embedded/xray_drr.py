"""`xray_drr`: digitally reconstructed chest radiographs of random 3-D phantoms, nodule present/absent.

Physics (Beer-Lambert, parallel beam along the body's front-back axis z): a detector pixel at
(x, y) receives `I = I0 · exp(-∫ µ(x, y, z) dz)` photons, drawn as Poisson counts; the stored
image is the radiograph in its usual display form, the measured line integral `-ln(counts / I0)`
(bone and soft tissue bright, air dark).

The phantom is a sum of ellipsoids with attenuation µ relative to what they displace, so every
ray sum is analytic: an ellipsoid with semi-axes (a, b) in the image plane, rotated by θ, and
depth semi-axis c contributes `µ · 2c · sqrt(1 - (u/a)^2 - (v/b)^2)` (u, v: rotated coordinates),
exactly the integral of its µ along the ray. Coordinates are normalised: the 64x64 image spans
[-1, 1]^2 (about 2 units = 40 cm, 1 pixel = 6 mm); µ_tissue = 2.5 per unit (0.0125 /mm; water at
~70 keV is 0.019 /mm), bone 2.5 µ_tissue, lung air -0.9 µ_tissue.

Structures, all jittered per image: body (soft tissue), two lungs (air), heart (tissue inside the
left lung field), spine (bone), 8 pairs of ribs (thin tilted bone ellipsoids), and for label 1 one
nodule: a sphere of radius 0.07-0.12 (2.2-3.8 px) of 0.8-1.2 µ_tissue inside a lung. Exposure
I0 is 3000-8000 photons per pixel. A nodule's peak (~0.5 in line integral) is 1.5-2x a rib's and
it sits anywhere in either lung among rib and lung-edge structure: logistic regression on pixels
stays at chance (0.49 on 400 images), a 5-layer CNN trained on 640 images reaches 0.85-0.87
(40 epochs, CPU); datasets.md reports 0.52-0.56 and 1.00 for its variant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, stratified_splits, target_name
from omnivec2.datasets.spec import DatasetSpec

MU_TISSUE = 2.5
RIB_PAIRS = 8


def chord(grid_x: np.ndarray, grid_y: np.ndarray, x0, y0, a, b, c, theta=0.0) -> np.ndarray:
    """Path lengths `[S, H, W]` through ellipsoids (per-image parameters `[S]`) along the beam."""
    x0, y0, a, b, c, theta = (np.asarray(v, dtype=np.float64)[:, None, None] for v in np.broadcast_arrays(x0, y0, a, b, c, theta))
    dx, dy = grid_x - x0, grid_y - y0
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    return 2.0 * c * np.sqrt(np.clip(1.0 - (u / a) ** 2 - (v / b) ** 2, 0.0, None))


def line_integrals(count: int, rng: np.random.Generator, nodule: np.ndarray, size: int = 64) -> np.ndarray:
    """Noise-free ∫µ dz images `[S, size, size]`; `nodule` `[S]` bool says which phantoms get one."""
    centres = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    gy, gx = np.meshgrid(centres, centres, indexing="ij")  # y grows downwards (head at the top)
    u = lambda low, high, shape=count: rng.uniform(low, high, size=shape)  # noqa: E731
    mu = MU_TISSUE * u(0.9, 1.1)
    total = mu[:, None, None] * chord(gx, gy, u(-0.03, 0.03), 0.0, u(0.80, 0.92), u(1.3, 1.6), u(0.5, 0.65))
    lungs = []
    for side in (-1.0, 1.0):
        lung = (side * u(0.33, 0.42), u(-0.12, 0.0), u(0.22, 0.30), u(0.50, 0.65), u(0.30, 0.40), side * u(-0.1, 0.1))
        lungs.append(lung)
        total -= 0.9 * mu[:, None, None] * chord(gx, gy, *lung)
    total += 0.8 * mu[:, None, None] * chord(gx, gy, u(0.08, 0.18), u(0.25, 0.35), u(0.24, 0.30), u(0.18, 0.25), u(0.22, 0.30))
    bone = 2.5 * mu[:, None, None]
    total += bone * chord(gx, gy, u(-0.02, 0.02), 0.0, u(0.06, 0.09), 3.0, u(0.06, 0.09))
    spacing, top = u(0.17, 0.21), u(-0.85, -0.7)
    for k in range(RIB_PAIRS):
        for side in (-1.0, 1.0):
            total += bone * chord(gx, gy, side * u(0.30, 0.38), top + k * spacing, u(0.32, 0.40), u(0.022, 0.032),
                                  u(0.015, 0.025), side * u(0.25, 0.45))
    # the nodule: uniformly inside 70% of one lung's ellipse (axis-aligned approximation of its extent)
    which = rng.integers(0, 2, size=count)
    lx, ly, la, lb = (np.where(which == 0, lungs[0][i], lungs[1][i]) for i in range(4))
    angle, radius = u(0, 2 * np.pi), np.sqrt(u(0, 1)) * 0.7
    r = u(0.07, 0.12)
    density = np.where(nodule, u(0.8, 1.2), 0.0) * mu
    total += density[:, None, None] * chord(gx, gy, lx + la * radius * np.cos(angle), ly + lb * radius * np.sin(angle), r, r, r)
    return np.clip(total, 0.0, None)


def radiographs(count: int, seed: int, size: int = 64) -> dict[str, np.ndarray]:
    """-> {"images": [S, size, size] float32 (-ln(counts/I0)), "nodule": [S] int64, balanced 50/50}."""
    rng = np.random.default_rng(seed)
    nodule = rng.permutation(np.arange(count) % 2).astype(bool)
    integrals = line_integrals(count, rng, nodule, size)
    i0 = rng.uniform(3000, 8000, size=count)[:, None, None]
    counts = rng.poisson(i0 * np.exp(-integrals))
    images = -np.log(np.maximum(counts, 0.5) / i0)  # a pixel with no photon reads as half a count
    return {"images": images.astype(np.float32), "nodule": nodule.astype(np.int64)}


def load_xray_drr(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[64, 64]`; target `nodule` (0 absent, 1 present); splits stratified by label.

    Source keys: `count` (800), `val_fraction`, `test_fraction`. `sample_id` is `drr-<seed>-<index>`.
    """
    count = int(source.get("count", 800))
    if count < 10:
        raise SourceError(f"dataset {spec.name!r}: xray_drr needs count >= 10, got {count}")
    data = radiographs(count, seed)
    splits = stratified_splits(data["nodule"], seed, val=source.get("val_fraction", 0.1), test=source.get("test_fraction", 0.2))
    ids = [f"drr-{seed}-{i:04d}" for i in range(count)]
    return build_sample_table(ids, splits, list(data["images"]), {target_name(spec): data["nodule"]})
