"""A small vectorised numpy z-buffer: depth maps of an inventor mesh standing on a floor.

Scene (world frame, y up): the mesh, normalised to the unit sphere and turned by a random
rotation, stands on the floor plane y = 0 (its lowest point touches it). A pinhole camera at
distance `DISTANCE` from the mesh centre looks at it from `elevation` radians above the horizon;
its focal length makes the unit sphere fill the image. Depth is the distance along the optical
axis; pixels whose ray meets neither the mesh nor the floor within `FAR` get no depth (0, like
the holes of a structured-light sensor).

Rasterisation (scanline, vectorised over triangles with `np.repeat`): each triangle's pixel
rows, each row's span of covered pixel centres, barycentric coordinates from edge functions,
perspective-correct inverse depth, and `np.minimum.at` keeps the nearest surface per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DISTANCE = 3.0
FOCAL = float(np.sqrt(DISTANCE**2 - 1.0))  # normalised focal length: the unit sphere just fits
FAR = DISTANCE + 3.0


@dataclass(frozen=True)
class Render:
    """One view, all `[S, S]`: depth (0 = no return), object mask, visible object points in the
    mesh's own frame (`[S, S, 3]`, NaN off the object), and whether a pixel sees the floor."""

    depth: np.ndarray
    mask: np.ndarray
    object_points: np.ndarray
    floor: np.ndarray


def pitch(angle: float) -> np.ndarray:
    """Rotation `[3, 3]` about x by `angle` (a camera looking down by `angle`)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def pixel_rays(size: int) -> np.ndarray:
    """Ray directions `[S, S, 3]` in camera coordinates through the pixel centres, with z = -1."""
    centres = (np.arange(size) + 0.5) / size * 2.0 - 1.0  # [-1, 1]
    u, v = np.meshgrid(centres, -centres)  # rows go down, v up
    return np.stack([u / FOCAL, v / FOCAL, -np.ones_like(u)], axis=-1)


def rasterise(camera_vertices: np.ndarray, triangles: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices in camera coordinates `[V, 3]` (camera at the origin looking down -z), triangles
    `[F, 3]` -> (depth `[S, S]`, inf where empty; face id `[S, S]`, -1 where empty).

    Scanline form, vectorised over all triangles: each (triangle, pixel row) pair gets the span of
    pixel centres between its edge crossings, so long slivers cost their pixels, not their box.
    """
    depth = np.full(size * size, np.inf)
    face = np.full(size * size, -1, dtype=np.int64)
    depth_v = -camera_vertices[:, 2]
    if (depth_v <= 1e-6).any():
        raise ValueError("a vertex lies behind the camera")
    px = (camera_vertices[:, 0] * FOCAL / depth_v + 1.0) / 2.0 * size  # continuous pixel coordinates
    py = (1.0 - camera_vertices[:, 1] * FOCAL / depth_v) / 2.0 * size
    tx, ty, tw = px[triangles], py[triangles], 1.0 / depth_v[triangles]  # [F, 3]
    area = (tx[:, 1] - tx[:, 0]) * (ty[:, 2] - ty[:, 0]) - (tx[:, 2] - tx[:, 0]) * (ty[:, 1] - ty[:, 0])
    # column-wise min/max: a reduction over an axis of length 3 is several times slower
    y0 = np.clip(np.ceil(np.minimum(np.minimum(ty[:, 0], ty[:, 1]), ty[:, 2]) - 0.5), 0, size).astype(np.int64)
    y1 = np.clip(np.floor(np.maximum(np.maximum(ty[:, 0], ty[:, 1]), ty[:, 2]) - 0.5), -1, size - 1).astype(np.int64)
    x0 = np.clip(np.ceil(np.minimum(np.minimum(tx[:, 0], tx[:, 1]), tx[:, 2]) - 0.5), 0, size).astype(np.int64)
    x1 = np.clip(np.floor(np.maximum(np.maximum(tx[:, 0], tx[:, 1]), tx[:, 2]) - 0.5), -1, size - 1).astype(np.int64)
    keep = np.flatnonzero((np.abs(area) > 1e-12) & (y1 >= y0) & (x1 >= x0))  # most tiny triangles hit no centre
    if keep.size == 0:
        return depth.reshape(size, size), face.reshape(size, size)
    tx, ty, tw, area, y0, rows = tx[keep], ty[keep], tw[keep], area[keep], y0[keep], (y1 - y0 + 1)[keep]

    # (triangle, row) pairs -> the x-span of the row's centre line inside the triangle
    t = np.repeat(np.arange(len(keep)), rows)
    cy = y0[t] + (np.arange(rows.sum()) - np.repeat(np.cumsum(rows) - rows, rows)) + 0.5
    xa, ya = tx[t], ty[t]  # [R, 3]
    xb, yb = xa[:, [1, 2, 0]], ya[:, [1, 2, 0]]  # edges a->b
    crosses = (np.minimum(ya, yb) <= cy[:, None]) & (cy[:, None] <= np.maximum(ya, yb)) & (ya != yb)
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = xa + (cy[:, None] - ya) * (xb - xa) / (yb - ya)
    lo = np.clip(np.ceil(np.where(crosses, xs, np.inf).min(1) - 0.5), 0, size)
    hi = np.clip(np.floor(np.where(crosses, xs, -np.inf).max(1) - 0.5), -1, size - 1)
    width = np.where(np.isfinite(lo) & np.isfinite(hi), hi - lo + 1, 0).clip(0).astype(np.int64)
    lo = np.where(width > 0, lo, 0).astype(np.int64)

    # pairs -> pixels, then barycentrics for perspective-correct inverse depth
    r = np.repeat(np.arange(len(t)), width)
    ix = lo[r] + (np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width))
    iy = (cy[r] - 0.5).astype(np.int64)
    f = t[r]
    cx, cyp = ix + 0.5, cy[r]
    X, Y = tx[f], ty[f]
    l1 = ((cx - X[:, 0]) * (Y[:, 2] - Y[:, 0]) - (X[:, 2] - X[:, 0]) * (cyp - Y[:, 0])) / area[f]
    l2 = ((X[:, 1] - X[:, 0]) * (cyp - Y[:, 0]) - (cx - X[:, 0]) * (Y[:, 1] - Y[:, 0])) / area[f]
    l0 = 1.0 - l1 - l2
    W = tw[f]
    inverse = np.clip(l0, 0, 1) * W[:, 0] + np.clip(l1, 0, 1) * W[:, 1] + np.clip(l2, 0, 1) * W[:, 2]
    z = 1.0 / np.maximum(inverse, 1e-12)
    pixel = iy * size + ix
    np.minimum.at(depth, pixel, z)
    winner = z <= depth[pixel]  # ties: the last writer wins, deterministically
    face[pixel[winner]] = keep[f[winner]]
    return depth.reshape(size, size), face.reshape(size, size)


def render(vertices: np.ndarray, triangles: np.ndarray, rotation: np.ndarray, elevation: float, size: int = 64) -> Render:
    """The mesh (`[V, 3]` unit sphere, `[F, 3]`) turned by `rotation` `[3, 3]`, on the floor, seen from
    `elevation` radians up."""
    world = vertices @ rotation.T
    lift = -world[:, 1].min()  # the lowest vertex touches y = 0 (meshes keep only used vertices)
    world = world + np.array([0.0, lift, 0.0])
    target = np.array([0.0, lift, 0.0])  # the mesh's centre
    view = pitch(elevation)
    camera = (world - target) @ view.T - np.array([0.0, 0.0, DISTANCE])
    depth, face = rasterise(camera, triangles, size)

    rays = pixel_rays(size)  # [S, S, 3]
    normal = view @ np.array([0.0, 1.0, 0.0])  # the floor in camera coordinates: n . p = n . q
    q = view @ (np.zeros(3) - target) - np.array([0.0, 0.0, DISTANCE])
    denominator = rays @ normal
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(np.abs(denominator) > 1e-9, (normal @ q) / denominator, np.inf)
    floor_depth = np.where((t > 0) & (t < FAR), t, np.inf)
    mask = np.isfinite(depth) & (depth <= floor_depth)
    nearest = np.where(mask, depth, floor_depth)
    floor = ~mask & np.isfinite(nearest)

    camera_points = rays * np.where(np.isfinite(nearest), nearest, 0.0)[..., None]  # [S, S, 3]; depth along -z equals the ray parameter
    world_points = (camera_points + np.array([0.0, 0.0, DISTANCE])) @ view + target
    object_points = np.where(mask[..., None], (world_points - np.array([0.0, lift, 0.0])) @ rotation, np.nan)
    return Render(np.where(np.isfinite(nearest), nearest, 0.0), mask, object_points, floor)
