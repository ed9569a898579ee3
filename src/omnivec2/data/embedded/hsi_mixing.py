"""`hsi_mixing`: linear-mixing hyperspectral cubes of real measured reflectances under real illuminants.

Physics: the radiance of a pixel is `L(x, λ) = g(x) · E(λ) · Σ_m a_m(x) ρ_m(λ) + noise`, the linear
mixing model of remote sensing, where ρ_m are measured reflectance spectra, E a CIE illuminant's
relative spectral power (normalised to mean 1 over 400-700 nm), a_m(x) >= 0 abundances summing to
1, g(x) a smooth shading field.

* Materials: the 24 patches of the ColorChecker (N. Ohta's spectrophotometric measurements,
  shipped in `colour-science` 0.4.7, BSD-3-Clause), 380-780 nm at 5 nm, sampled at 31 bands
  400, 410, ..., 700 nm. Class k = the k-th patch in the chart's order (dark skin ... black).
* Illuminants (one per cube, from `colour.SDS_ILLUMINANTS`): D50, D65, D75, A, FL2, FL11.
* Scene layout: 3-5 distinct materials per cube at random seed points; abundances are a softmax
  over negative warped distances to the seeds (`d_m(x) = |x - s_m| + w_m(x)`, w a smooth noise
  field of about `warp` pixels, softmax temperature `softness` pixels), so boundaries are curved
  and a few pixels wide. The label of a pixel is its dominant material (argmax abundance).
* Noise: shading g in [0.85, 1.15] (smooth), cube gain in [0.9, 1.1], Gaussian read noise
  (σ = `noise`) plus shot-like noise (σ = `noise` · sqrt(L)).

Everything is drawn from `numpy.random.default_rng(seed)`, vectorised over cubes (240 cubes of
32x32x31 in ~0.2 s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, stratified_splits, target_name
from omnivec2.datasets.spec import DatasetSpec

WAVELENGTHS = np.arange(400, 701, 10)  # 31 bands, nm
ILLUMINANTS = ("D50", "D65", "D75", "A", "FL2", "FL11")
CHART = "ColorChecker N Ohta"


def reflectances() -> tuple[list[str], np.ndarray]:
    """The chart's patch names and reflectances `[24, 31]` at `WAVELENGTHS`."""
    try:
        from colour.characterisation import SDS_COLOURCHECKERS
    except ImportError as error:
        raise SourceError("the hsi_mixing source needs colour-science==0.4.7 (its measured spectra)") from error
    chart = SDS_COLOURCHECKERS[CHART]
    return list(chart), np.stack([sd[WAVELENGTHS] for sd in chart.values()]).astype(np.float64)


def illuminants(names: tuple[str, ...] = ILLUMINANTS) -> np.ndarray:
    """Relative spectral power `[len(names), 31]`, each normalised to mean 1 over the bands."""
    from colour import SDS_ILLUMINANTS

    spd = np.stack([SDS_ILLUMINANTS[n][WAVELENGTHS] for n in names]).astype(np.float64)
    return spd / spd.mean(axis=1, keepdims=True)


def smooth_field(rng: np.random.Generator, lead: tuple[int, ...], size: int, cells: int = 4) -> np.ndarray:
    """Smooth random fields `[*lead, size, size]` in about [-1, 1]: a `cells`x`cells` grid, bilinearly upsampled."""
    coarse = rng.uniform(-1.0, 1.0, size=(*lead, cells + 1, cells + 1))
    t = np.linspace(0.0, cells, size)
    i = np.minimum(t.astype(int), cells - 1)
    f = t - i
    rows = coarse[..., i, :] * (1 - f)[:, None] + coarse[..., i + 1, :] * f[:, None]  # [..., size, cells+1]
    return rows[..., i] * (1 - f) + rows[..., i + 1] * f


def mixing_cubes(count: int, seed: int, size: int = 32, materials: tuple[int, int] = (3, 5), softness: float = 1.5,
                 warp: float = 3.0, noise: float = 0.01) -> dict[str, np.ndarray]:
    """-> {"cubes": [S, size, size, 31] float32, "labels": [S, size, size] uint8, "illuminant": [S] int64}."""
    _, spectra = reflectances()
    light = illuminants()
    rng = np.random.default_rng(seed)
    most = materials[1]
    chosen = np.argsort(rng.random((count, len(spectra))), axis=1)[:, :most]  # [S, M] distinct materials
    used = np.arange(most)[None, :] < rng.integers(materials[0], most + 1, size=count)[:, None]  # [S, M]
    seeds = rng.uniform(0, size, size=(count, most, 2))
    yy, xx = np.mgrid[:size, :size].astype(np.float64)
    distance = np.hypot(yy - seeds[..., 0, None, None], xx - seeds[..., 1, None, None])  # [S, M, H, W]
    distance += warp * smooth_field(rng, (count, most), size)
    logits = np.where(used[..., None, None], -distance / softness, -np.inf)
    abundance = np.exp(logits - logits.max(axis=1, keepdims=True))
    abundance /= abundance.sum(axis=1, keepdims=True)  # [S, M, H, W]
    labels = np.take_along_axis(chosen, abundance.argmax(axis=1).reshape(count, -1), axis=1).reshape(count, size, size)
    illuminant = rng.integers(0, len(light), size=count)
    reflectance = np.einsum("smhw,smc->shwc", abundance, spectra[chosen])  # [S, H, W, 31]
    shading = 1.0 + 0.15 * smooth_field(rng, (count,), size)
    gain = rng.uniform(0.9, 1.1, size=count)
    radiance = reflectance * light[illuminant][:, None, None, :] * (shading * gain[:, None, None])[..., None]
    radiance += rng.normal(size=radiance.shape) * noise * (1.0 + np.sqrt(radiance))
    return {"cubes": radiance.astype(np.float32), "labels": labels.astype(np.uint8), "illuminant": illuminant}


def false_colour(cube: np.ndarray) -> np.ndarray:
    """A cube `[H, W, 31]` -> RGB `[H, W, 3]` in [0, 1] from the 620, 550 and 460 nm bands (for data cards)."""
    rgb = cube[..., [int(np.searchsorted(WAVELENGTHS, w)) for w in (620, 550, 460)]]
    return np.clip(rgb / max(float(np.percentile(rgb, 99)), 1e-6), 0.0, 1.0)


def load_hsi_mixing(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[32, 32, 31]` (H, W, bands); dense target: the dominant-material map `[32, 32]`.

    Source keys: `count` (240), `size` (32), `noise`, `softness`, `warp`, `val_fraction`, `test_fraction`.
    Splits are stratified by illuminant. `sample_id` is `hsi-<seed>-<index>`.
    """
    count = int(source.get("count", 240))
    if count < 10:
        raise SourceError(f"dataset {spec.name!r}: hsi_mixing needs count >= 10, got {count}")
    data = mixing_cubes(count, seed, size=int(source.get("size", 32)), softness=float(source.get("softness", 1.5)),
                        warp=float(source.get("warp", 3.0)), noise=float(source.get("noise", 0.01)))
    splits = stratified_splits(data["illuminant"], seed, val=source.get("val_fraction", 0.1), test=source.get("test_fraction", 0.2))
    ids = [f"hsi-{seed}-{i:04d}" for i in range(count)]
    return build_sample_table(ids, splits, list(data["cubes"]), {target_name(spec): list(data["labels"])})
