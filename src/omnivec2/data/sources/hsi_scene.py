"""`hsi_scene`: a user's hyperspectral scene (Indian Pines / Pavia style) cut into fixed-size tiles.

Input: one scene cube `[H, W, B]` and its ground-truth map `[H, W]` (integer classes; 0 is the
datasets' "unlabelled" and is kept as class 0), from
* a MATLAB `.mat` file (v4-v7 by `scipy.io.loadmat`, v7.3 by h5py; `cube_key` / `gt_key`, default:
  the only 3-D / 2-D numeric array; the ground truth may sit in a second file `gt_path`), or
* `.npy` files: `path` (cube) and `gt_path` (map),
local or `s3://` (fsspec, `storage_options`).

Made to the dataset's shape `[size, size, bands]` deterministically:
* bands: resampled to the dataset's `bands` by linear interpolation, onto `bands` evenly spaced
  wavelengths over 400-700 nm (10 nm steps for the default 31) when `wavelengths` (B values in nm) is
  given, else onto `bands` evenly spaced positions over the B bands (index space);
* values: divided by `scale` (default: the scene's largest absolute value), so they lie in [-1, 1];
* space: cut into non-overlapping `tile` x `tile` tiles (default: the dataset's `size`) in row-major
  order; a ragged right/bottom margin narrower than a tile is dropped.
Splits: a seeded random `val_fraction` / `test_fraction` of the tiles (neighbouring tiles share
a scene, so this is the usual within-scene protocol, not a test on unseen scenes). `sample_id` is
`<id_prefix>-r<row>-c<col>` (the tile's top-left pixel).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, read_bytes, target_name
from omnivec2.datasets.spec import DatasetSpec

VISIBLE_NM = (400.0, 700.0)  # the span the `wavelengths` option resamples onto


def _fail(spec: DatasetSpec, path: object, why: str) -> SourceError:
    return SourceError(f"dataset {spec.name!r}: {path}: {why}")


def _load_array(spec: DatasetSpec, path: str, source: dict, key: str | None, ndim: int) -> np.ndarray:
    """One array from a `.npy` or `.mat` file: the `key` entry, or the only numeric array of `ndim` dims."""
    data = read_bytes(spec, path, source)
    if not data:
        raise _fail(spec, path, "empty file")
    if str(path).lower().endswith(".npy"):
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise _fail(spec, path, f"not a readable .npy array ({error})") from None
    else:
        arrays = _mat_variables(spec, path, data)
        if key is not None:
            if key not in arrays:
                raise _fail(spec, path, f"no variable {key!r}; it holds {sorted(arrays)}")
            array = arrays[key]
        else:
            found = [k for k, v in arrays.items() if v.ndim == ndim and v.dtype.kind in "fiu"]
            if len(found) != 1:
                raise _fail(spec, path, f"expected exactly one {ndim}-D numeric variable, found {sorted(found)}; name it with cube_key/gt_key")
            array = arrays[found[0]]
    if array.ndim != ndim or array.dtype.kind not in "fiu":
        raise _fail(spec, path, f"expected a {ndim}-D numeric array, got {array.ndim}-D {array.dtype}")
    return array


def _mat_variables(spec: DatasetSpec, path: str, data: bytes) -> dict[str, np.ndarray]:
    """A `.mat` file's top-level arrays: MATLAB v4-v7 through scipy, v7.3 (HDF5, what MATLAB writes
    for large scenes: Houston, WHU-Hi) through h5py, its column-major arrays transposed to MATLAB's order."""
    from scipy.io import loadmat

    try:
        contents = loadmat(io.BytesIO(data))
    except NotImplementedError:  # scipy's answer to a v7.3 file
        return _mat73_variables(spec, path, data)
    except Exception as error:  # scipy raises ValueError, TypeError, MatReadError... on garbage
        raise _fail(spec, path, f"not a readable .mat file ({type(error).__name__}: {error})") from None
    return {k: v for k, v in contents.items() if not k.startswith("__") and isinstance(v, np.ndarray)}


def _mat73_variables(spec: DatasetSpec, path: str, data: bytes) -> dict[str, np.ndarray]:
    import h5py

    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            return {name: np.asarray(item[()]).T for name, item in handle.items()
                    if isinstance(item, h5py.Dataset) and item.dtype.kind in "fiub"}
    except Exception as error:  # h5py's OSError on a damaged file, KeyError on a broken link
        raise _fail(spec, path, f"not a readable MATLAB v7.3 file ({type(error).__name__}: {error})") from None


def band_weights(bands: int, wavelengths: list[float] | None, out_bands: int = 31) -> np.ndarray:
    """Linear-interpolation weights `[bands, out_bands]` from the sensor's bands onto the payload's."""
    if wavelengths is None:
        source, target = np.arange(bands, dtype=np.float64), np.linspace(0, bands - 1, out_bands)
    else:
        source, target = np.asarray(wavelengths, dtype=np.float64), np.linspace(*VISIBLE_NM, out_bands)
        if len(source) != bands or np.any(np.diff(source) <= 0):
            raise ValueError(f"wavelengths must be {bands} increasing values")
    return np.stack([np.interp(target, source, np.eye(bands)[i]) for i in range(bands)])


def scene_tiles(cube: np.ndarray, gt: np.ndarray, tile: int) -> tuple[list[np.ndarray], list[np.ndarray], list[tuple[int, int]]]:
    """A scene `[H, W, 31]` and map `[H, W]` -> tiles `[tile, tile, 31]`, maps `[tile, tile]`, top-left corners."""
    cubes, maps, corners = [], [], []
    for r in range(0, cube.shape[0] - tile + 1, tile):
        for c in range(0, cube.shape[1] - tile + 1, tile):
            cubes.append(np.ascontiguousarray(cube[r : r + tile, c : c + tile]))
            maps.append(np.ascontiguousarray(gt[r : r + tile, c : c + tile]))
            corners.append((r, c))
    return cubes, maps, corners


def tile_splits(count: int, seed: int, val: float, test: float) -> list[str]:
    """Seeded random split of `count` tiles; with 2+ tiles at least one is test and one is train."""
    n_test = min(max(1, round(test * count)), count - 1) if count > 1 else 0
    n_val = min(round(val * count), count - n_test - 1) if count > 1 else 0
    names = np.array(["test"] * n_test + ["val"] * n_val + ["train"] * (count - n_test - n_val), dtype=object)
    return list(names[np.random.default_rng(seed).permutation(count)])


def load_hsi_scene(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """A scene cube + ground truth -> sample table of tiles (see the module docstring)."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: an hsi_scene source needs 'path' (and 'gt_path' for .npy cubes)")
    path, gt_path = source["path"], source.get("gt_path", source["path"])
    if str(path).lower().endswith(".npy") and "gt_path" not in source:
        raise SourceError(f"dataset {spec.name!r}: {path}: a .npy cube needs its ground truth in 'gt_path'")
    tile = int(source.get("tile", spec.settings["size"]))
    cube = _load_array(spec, path, source, source.get("cube_key"), 3).astype(np.float64)
    gt = _load_array(spec, gt_path, source, source.get("gt_key"), 2)
    if gt.shape != cube.shape[:2]:
        raise _fail(spec, gt_path, f"ground truth of shape {gt.shape} does not match the cube's {cube.shape[:2]}")
    if cube.shape[0] < tile or cube.shape[1] < tile:
        raise _fail(spec, path, f"scene of {cube.shape[0]}x{cube.shape[1]} is smaller than one {tile}x{tile} tile")
    if gt.dtype.kind == "f" and (~np.isfinite(gt) | (gt != np.round(gt))).any():
        raise _fail(spec, gt_path, "ground truth holds non-integer labels")
    if gt.min() < 0 or gt.max() > 255:
        raise _fail(spec, gt_path, f"ground-truth labels {gt.min()}..{gt.max()} are outside 0..255")
    try:
        weights = band_weights(cube.shape[2], source.get("wavelengths"), int(spec.settings["bands"]))
    except ValueError as error:
        raise _fail(spec, path, str(error)) from None
    finite = cube[np.isfinite(cube)]
    scale = float(source.get("scale") or (np.abs(finite).max() if finite.size else 1.0)) or 1.0
    # NaN/inf stay in the payload: validation names the tile that holds them.
    resampled = (np.einsum("hwb,bc->hwc", cube, weights) / scale).astype(np.float32)
    cubes, maps, corners = scene_tiles(resampled, gt.astype(np.uint8), tile)
    prefix = source.get("id_prefix", spec.name)
    ids = [f"{prefix}-r{r:04d}-c{c:04d}" for r, c in corners]
    splits = tile_splits(len(ids), seed, float(source.get("val_fraction", 0.1)), float(source.get("test_fraction", 0.2)))
    return build_sample_table(ids, splits, cubes, {target_name(spec): maps})
