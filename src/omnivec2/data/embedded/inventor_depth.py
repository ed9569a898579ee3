"""`inventor_depth`: synthetic depth-sensor frames of the real inventor meshes standing on a floor.

Per mesh `views` (default 10) poses (`inventor_views`), rendered 64x64 by the numpy z-buffer in
`depth_render`. Sensor model: depth noise sigma = `NOISE` * depth^2 (structured-light-like,
quadratic in range), a fraction `DROPOUT` of pixels without a return (0, as NYUv2's raw holes)
and no return beyond `FAR`. Payload: depth / FAR, float32 `[64, 64]` in [0, 1]. Targets:
`category` (the mesh's folder, 15 classes) and `object_mask` (uint8 `[64, 64]`: 1 where the mesh
is the nearest surface, 0 for floor and empty pixels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError
from omnivec2.data.embedded.depth_render import FAR, render
from omnivec2.data.embedded.inventor_meshes import DEFAULT_ROOT, load_meshes
from omnivec2.data.embedded.inventor_views import plan_views
from omnivec2.datasets.spec import DatasetSpec

NOISE = 0.002
DROPOUT = 0.01


def depth_frame(mesh, view, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One view -> (normalised depth float32 `[S, S]` in [0, 1], object mask uint8 `[S, S]`)."""
    out = render(mesh.vertices, mesh.triangles, view.rotation, view.elevation, size)
    valid = out.depth > 0
    noisy = out.depth + view.rng.standard_normal(out.depth.shape) * NOISE * out.depth**2
    noisy = np.where(valid & (view.rng.random(out.depth.shape) >= DROPOUT), noisy, 0.0)
    return np.clip(noisy / FAR, 0.0, 1.0).astype(np.float32), out.mask.astype(np.uint8)


def load_inventor_depth(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[64, 64]`; targets `category` (int) and `object_mask` (label map)."""
    meshes = load_meshes(source.get("root", DEFAULT_ROOT))
    size = int(spec.payload.shape[0])
    try:
        views = plan_views(meshes, seed, int(source.get("views", 10)), int(source.get("test_views", 2)),
                           int(source.get("val_views", 1)), source.get("holdout", "view"), salt=1)
    except ValueError as error:
        raise SourceError(f"dataset {spec.name!r}: {error}") from None
    frames, masks = zip(*(depth_frame(meshes[v.mesh], v, size) for v in views))
    return build_sample_table(
        [v.sample_id for v in views], [v.split for v in views], list(frames),
        {"category": np.array([v.category for v in views], dtype=np.int64), "object_mask": list(masks)},
    )
