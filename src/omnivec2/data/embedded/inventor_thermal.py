"""`inventor_thermal`: physically based long-wave infrared (8-14 um) frames of the real inventor meshes.

Scene: the mesh on a floor, posed and rendered as in `inventor_depth` (`depth_render`), 64x64.
Per frame (all draws from the view's own generator):

* ambient T_a ~ U(288, 303) K; floor at T_a - 0.5 K (emissivity 0.95); pixels without a surface
  see a far wall at T_a - 2 K (black body);
* the object's base temperature T_o = T_a + U(-1.5, 1.5) K (thermal lag), emissivity
  eps ~ U(0.85, 0.98), reflecting the ambient: L = eps B(T) + (1 - eps) B(T_a);
* heater on (half of each mesh's frames): a source at a random point halfway between the mesh
  centre and its surface raises the surface temperature by dT(r) = dT_max L0 / (L0 + r) e^(-r/L)
  (steady-state diffusion from a point source with losses; dT_max ~ U(4, 15) K, L ~ U(0.3, 0.8),
  L0 = 0.15, r = distance in mesh units); heater off: no source. The mesh's shape and pose are
  the same either way, so the label is visible only in thermal;
* B(T): Planck spectral radiance integrated over 8-14 um (tabulated 200-450 K, interpolated);
* camera: optics blur (Gaussian, sigma 0.8 px), fixed-pattern noise (per-pixel gain 1 +- 1%,
  offset +- 20 counts, fixed for a seed: one camera), temporal noise at NETD 50 mK, linear counts
  with B(280 K) -> 2000 and B(340 K) -> 14000, rounded and clipped to 14 bits [0, 16383].

Payload: counts float32 `[64, 64]`. Targets: `heater` (0 off / 1 on) and `object` (the mesh index,
as in `inventor_points`: the same identities as the point clouds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError
from omnivec2.data.embedded.depth_render import render
from omnivec2.data.embedded.inventor_meshes import DEFAULT_ROOT, load_meshes
from omnivec2.data.embedded.inventor_views import plan_views
from omnivec2.datasets.spec import DatasetSpec

H, C, K = 6.62607015e-34, 2.99792458e8, 1.380649e-23
BAND = (8e-6, 14e-6)
NETD = 0.05
MAX_COUNT = 16383
_TEMPERATURES = np.arange(200.0, 450.5, 0.5)


def band_radiance(temperature: np.ndarray) -> np.ndarray:
    """Planck radiance integrated over 8-14 um, W m^-2 sr^-1, for temperatures in K (any shape)."""
    wavelengths = np.linspace(*BAND, 121)
    t = np.asarray(temperature, dtype=np.float64)[..., None]
    spectral = 2 * H * C**2 / wavelengths**5 / np.expm1(H * C / (wavelengths * K * t))
    return np.trapezoid(spectral, wavelengths, axis=-1)


_TABLE = band_radiance(_TEMPERATURES)
GAIN = (14000 - 2000) / (band_radiance(340.0) - band_radiance(280.0))  # counts per radiance unit
OFFSET = 2000 - GAIN * band_radiance(280.0)


def radiance(temperature: np.ndarray) -> np.ndarray:
    """`band_radiance` through the table (exact to ~1e-4 relative); same shape as the input."""
    return np.interp(temperature, _TEMPERATURES, _TABLE)


def camera_pattern(seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-pattern noise of the one camera: per-pixel gain and offset `[S, S]`."""
    rng = np.random.default_rng([seed, 0x1F2])
    return 1.0 + 0.01 * rng.standard_normal((size, size)), 20.0 * rng.uniform(-1, 1, (size, size))


def thermal_frame(mesh, view, heater: bool, pattern: tuple[np.ndarray, np.ndarray], size: int) -> np.ndarray:
    """One view -> 14-bit counts float32 `[S, S]`."""
    rng = view.rng
    scene = render(mesh.vertices, mesh.triangles, view.rotation, view.elevation, size)
    ambient = rng.uniform(288.0, 303.0)
    base = ambient + rng.uniform(-1.5, 1.5)
    emissivity = rng.uniform(0.85, 0.98)
    source = mesh.vertices[rng.integers(len(mesh.vertices))] * 0.5  # halfway from the centre to the surface
    peak, length = rng.uniform(4.0, 15.0), rng.uniform(0.3, 0.8)
    temperature = np.full((size, size), ambient - 2.0)  # far wall
    temperature[scene.floor] = ambient - 0.5
    surface = np.full((size, size), base)
    if heater:
        r = np.linalg.norm(np.nan_to_num(scene.object_points) - source, axis=-1)
        surface = base + peak * 0.15 / (0.15 + r) * np.exp(-r / length)
    temperature = np.where(scene.mask, surface, temperature)
    eps = np.where(scene.mask, emissivity, np.where(scene.floor, 0.95, 1.0))
    light = eps * radiance(temperature) + (1 - eps) * radiance(np.full_like(temperature, ambient))
    light = gaussian_filter(light, sigma=0.8, mode="nearest")
    gain, offset = pattern
    sensitivity = GAIN * (radiance(ambient + 0.5) - radiance(ambient - 0.5))  # counts per K
    counts = gain * (GAIN * light + OFFSET) + offset + rng.standard_normal((size, size)) * NETD * sensitivity
    return np.clip(np.round(counts), 0, MAX_COUNT).astype(np.float32)


def load_inventor_thermal(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[64, 64]` counts; targets `heater` and `object`."""
    meshes = load_meshes(source.get("root", DEFAULT_ROOT))
    size = int(spec.payload.shape[0])
    views_per_mesh = int(source.get("views", 8))
    try:
        views = plan_views(meshes, seed, views_per_mesh, int(source.get("test_views", 1)),
                           int(source.get("val_views", 1)), source.get("holdout", "view"), salt=2)
    except ValueError as error:
        raise SourceError(f"dataset {spec.name!r}: {error}") from None
    pattern = camera_pattern(seed, size)
    heater = {}
    for index in range(len(meshes)):  # half of each mesh's views heated
        order = np.random.default_rng([seed, index, 0x4EA7]).permutation(views_per_mesh)
        heater.update({(index, int(v)): int(i < views_per_mesh // 2) for i, v in enumerate(order)})
    labels = np.array([heater[(v.mesh, v.view)] for v in views], dtype=np.int64)
    frames = [thermal_frame(meshes[v.mesh], v, bool(h), pattern, size) for v, h in zip(views, labels)]
    ids = [v.sample_id.replace("-v", "-ir") for v in views]
    return build_sample_table(ids, [v.split for v in views], frames,
                              {"heater": labels, "object": np.array([v.mesh for v in views], dtype=np.int64)})
