"""`inventor_points`: point clouds sampled from the real inventor meshes under random rotations.

For each of the 92 meshes (`inventor_meshes.load_meshes`) `rotations` samples (default 12): a
fresh area-weighted uniform surface sample of `points` points (default 1024) in the unit sphere,
rotated by a Haar-uniform random rotation. Every sample draws from `default_rng([seed, model,
rotation])`, so it does not depend on which other samples are made. Task `object`: the model's
index in sorted path order (instance recognition under SO(3)). Split by rotation, per model:
`test_rotations` (3) test, `val_rotations` (1) val, the rest train, so every model is seen in
training and the test asks for unseen orientations and surface samples. `sample_id` is
`<model path with / as ->-r<rotation>`, e.g. `chess-king-r03`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, target_name
from omnivec2.data.embedded.inventor_meshes import DEFAULT_ROOT, load_meshes
from omnivec2.data.embedded.mesh_sampling import random_rotations, sample_surface
from omnivec2.datasets.spec import DatasetSpec


def view_splits(count: int, test: int, val: int, rng: np.random.Generator) -> list[str]:
    """Splits for one model's `count` samples: a random `test` of them test, `val` val, the rest train."""
    if test + val >= count:
        raise ValueError(f"{count} samples per model cannot give {test} test and {val} val and any train")
    splits = np.array(["test"] * test + ["val"] * val + ["train"] * (count - test - val), dtype=object)
    return list(splits[rng.permutation(count)])


def mesh_id(name: str) -> str:
    return name.replace("/", "-")


def load_inventor_points(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[points, 3]` in [-1, 1]; target `object` in [0, number of meshes)."""
    meshes = load_meshes(source.get("root", DEFAULT_ROOT))
    num_classes = spec.tasks[0].num_classes
    if len(meshes) > num_classes and not spec.tasks[0].infer_classes:
        raise SourceError(f"dataset {spec.name!r}: {len(meshes)} meshes but the task has {num_classes} classes")
    rotations, points = int(source.get("rotations", 12)), int(source.get("points", spec.payload.shape[0]))
    ids, splits, clouds, labels = [], [], [], []
    for index, mesh in enumerate(meshes):
        areas = mesh.areas()
        cdf = np.cumsum(areas) / areas.sum()
        split_rng = np.random.default_rng([seed, index, 1 << 20])
        splits += view_splits(rotations, int(source.get("test_rotations", 3)), int(source.get("val_rotations", 1)), split_rng)
        for r in range(rotations):
            rng = np.random.default_rng([seed, index, r])
            rotation = random_rotations(rng, 1)[0]
            cloud = sample_surface(mesh.vertices, mesh.triangles, points, rng, cdf) @ rotation.T
            clouds.append(np.clip(cloud, -1.0, 1.0).astype(np.float32))
            ids.append(f"{mesh_id(mesh.name)}-r{r:02d}")
            labels.append(index)
    return build_sample_table(ids, splits, clouds, {target_name(spec): np.array(labels, dtype=np.int64)})
