"""`inventor_rgb`: visible-light (RGB) frames of the real inventor meshes, paired with `inventor_thermal`.

Same meshes, poses and splits as the infrared frames (`plan_views` with the infrared salt), so
frame `<mesh>-rgbNN` and frame `<mesh>-irNN` are one scene seen by two cameras, as in the paired
RGB-infrared re-identification sets (RegDB). Per frame:

* the mesh is painted one matte colour per mesh (hue uniform, saturation 0.35-0.8, value 0.45-0.9,
  drawn from the mesh index: a colour the infrared camera cannot see);
* Lambertian shading, n . l, with a light direction drawn per view (elevation 30-75 degrees,
  azimuth uniform) plus 0.25 ambient; normals from the z-buffer's camera-space points;
* grey floor (albedo 0.55) lit the same way, background a far wall at 0.3;
* sensor: Gaussian noise sigma 0.01, clipped to [0, 1].

Payload float32 `[3, 64, 64]` in [0, 1]; target `object` (the mesh index, as the infrared frames).
"""

from __future__ import annotations

import colorsys

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError
from omnivec2.data.embedded.depth_render import pixel_rays, render
from omnivec2.data.embedded.inventor_meshes import DEFAULT_ROOT, load_meshes
from omnivec2.data.embedded.inventor_views import plan_views
from omnivec2.datasets.spec import DatasetSpec

INFRARED_SALT = 2  # the salt `inventor_thermal` plans its views with: same poses, same splits
FLOOR_ALBEDO, WALL, AMBIENT, NOISE = 0.55, 0.3, 0.25, 0.01


def mesh_colour(seed: int, mesh: int) -> np.ndarray:
    """The mesh's paint, RGB `[3]` in [0, 1]."""
    rng = np.random.default_rng([seed, mesh, 0xC010])
    return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.35, 0.8), rng.uniform(0.45, 0.9)))


def surface_normals(depth: np.ndarray) -> np.ndarray:
    """Depth along the optical axis `[S, S]` -> unit camera-space normals `[S, S, 3]` facing the camera."""
    points = pixel_rays(depth.shape[0]) * depth[..., None]
    normals = np.cross(np.gradient(points, axis=1), np.gradient(points, axis=0))
    normals /= np.maximum(np.linalg.norm(normals, axis=-1, keepdims=True), 1e-12)
    facing = np.sign(np.einsum("ijk,ijk->ij", normals, -points))
    return normals * np.where(facing == 0, 1.0, facing)[..., None]


def rgb_frame(mesh, view, colour: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """One view -> float32 `[3, S, S]` in [0, 1]."""
    scene = render(mesh.vertices, mesh.triangles, view.rotation, view.elevation, size)
    elevation, azimuth = np.radians(rng.uniform(30, 75)), rng.uniform(0, 2 * np.pi)
    light = np.array([np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)])
    shade = AMBIENT + (1 - AMBIENT) * np.clip(surface_normals(scene.depth) @ light, 0.0, 1.0)  # [S, S]
    albedo = np.where(scene.mask[..., None], colour, FLOOR_ALBEDO)  # [S, S, 3]
    image = np.where((scene.mask | scene.floor)[..., None], albedo * shade[..., None], WALL)
    image = image + rng.standard_normal(image.shape) * NOISE
    return np.clip(image, 0.0, 1.0).transpose(2, 0, 1).astype(np.float32)


def load_inventor_rgb(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[3, 64, 64]`; target `object`. `views`, `test_views`, `val_views` and
    `holdout` must match the infrared source's for the frames to pair."""
    meshes = load_meshes(source.get("root", DEFAULT_ROOT))
    size = int(spec.payload.shape[-1])
    try:
        views = plan_views(meshes, seed, int(source.get("views", 8)), int(source.get("test_views", 1)),
                           int(source.get("val_views", 1)), source.get("holdout", "view"), salt=INFRARED_SALT)
    except ValueError as error:
        raise SourceError(f"dataset {spec.name!r}: {error}") from None
    colours = [mesh_colour(seed, i) for i in range(len(meshes))]
    frames = [rgb_frame(meshes[v.mesh], v, colours[v.mesh], np.random.default_rng([seed, v.mesh, v.view, 0x2667]), size)
              for v in views]
    return build_sample_table([v.sample_id.replace("-v", "-rgb") for v in views], [v.split for v in views], frames,
                              {"object": np.array([v.mesh for v in views], dtype=np.int64)})
