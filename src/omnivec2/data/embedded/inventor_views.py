"""Views of the inventor meshes shared by the depth and infrared generators: which mesh, which pose,
which split.

Each mesh gets `views` poses: a Haar-uniform random rotation and a camera elevation uniform in
[`ELEVATION_MIN`, `ELEVATION_MAX`] radians, all drawn from `default_rng([seed, mesh, view, salt])`.
Split `holdout="view"` (default): per mesh a random `test` views test, `val` views val, the rest
train (every mesh is seen in training; the test is on unseen poses). `holdout="model"`: whole
meshes are held out, per category (leave-model-out; a category of one model stays in train).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnivec2.data.embedded.inventor_catalog import CATEGORIES
from omnivec2.data.embedded.inventor_meshes import Mesh
from omnivec2.data.embedded.inventor_points import mesh_id, view_splits
from omnivec2.data.embedded.mesh_sampling import random_rotations

ELEVATION_MIN, ELEVATION_MAX = 0.15, 0.9


@dataclass(frozen=True)
class View:
    sample_id: str
    mesh: int  # index into the mesh list (the `object` label)
    category: int  # index into CATEGORIES
    view: int
    split: str
    rotation: np.ndarray  # [3, 3]
    elevation: float
    rng: np.random.Generator  # for everything else this view draws (noise, temperatures...)


def plan_views(meshes: list[Mesh], seed: int, views: int, test: int, val: int, holdout: str, salt: int) -> list[View]:
    """Every (mesh, view) of the data set with its pose, labels and split, in mesh-then-view order."""
    if holdout not in ("view", "model"):
        raise ValueError(f"holdout must be 'view' or 'model', not {holdout!r}")
    model_split = _model_splits(meshes, seed) if holdout == "model" else None
    out = []
    for index, mesh in enumerate(meshes):
        splits = view_splits(views, test, val, np.random.default_rng([seed, index, salt, 1 << 20]))
        for v in range(views):
            rng = np.random.default_rng([seed, index, v, salt])
            rotation = random_rotations(rng, 1)[0]
            elevation = float(rng.uniform(ELEVATION_MIN, ELEVATION_MAX))
            split = model_split[index] if model_split is not None else splits[v]
            out.append(View(f"{mesh_id(mesh.name)}-v{v:02d}", index, CATEGORIES.index(mesh.category), v, split,
                            rotation, elevation, rng))
    return out


def _model_splits(meshes: list[Mesh], seed: int) -> list[str]:
    """Leave-model-out: per category with >= 2 models, ~20% (at least one) test, one val when >= 4."""
    splits = ["train"] * len(meshes)
    rng = np.random.default_rng([seed, 7919])
    for category in CATEGORIES:
        members = [i for i, m in enumerate(meshes) if m.category == category]
        if len(members) < 2:
            continue
        order = rng.permutation(members)
        n_test = max(1, round(0.2 * len(members)))
        for i in order[:n_test]:
            splits[i] = "test"
        if len(members) >= 4:
            splits[order[n_test]] = "val"
    return splits
