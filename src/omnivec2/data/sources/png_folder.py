"""`png_folder`: an ImageFolder tree of PNGs (one folder per class), local or `s3://`: greyscale, or
RGB `[3, H, W]` for a modality whose payload has channels.

Layouts (chest X-ray sets are distributed both ways):
* `<root>/<class>/<name>.png` -> seeded stratified train/val/test splits;
* `<root>/<split>/<class>/<name>.png` with split folders `train`, `val`, `test` -> kept as given.

Each image is decoded with Pillow, converted to greyscale ("L" or 16-bit "I;16"), resized to the
payload's `[size, size]` (default 64) with bilinear filtering when it differs, and mapped linearly
from [0, max code value] (255 or 65535) to [0, `intensity_scale`] (default 1.0; 6.0 for X-ray
datasets, the range of the generated radiographs' line integrals, so bone stays bright). Classes:
`source["classes"]`, else the task's declared `classes` (in task index order, matched exactly then
case-insensitively), else the sorted folder names.
`sample_id` is `<id_prefix>-<path below root without extension>` ("/" -> "-").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, open_image_checked, stratified_splits, target_name
from omnivec2.datasets.spec import DatasetSpec

SPLIT_FOLDERS = ("train", "val", "test")


def list_pngs(spec: DatasetSpec, root: str, source: dict) -> tuple[object, str, list[str]]:
    """(filesystem, root without protocol, sorted PNG paths below it)."""
    import fsspec

    try:
        fs, base = fsspec.core.url_to_fs(str(root), **source.get("storage_options", {}))
        paths = sorted(p for p in fs.find(base) if p.lower().endswith(".png"))
    except Exception as error:  # missing bucket, permissions, bad protocol
        raise SourceError(f"dataset {spec.name!r}: cannot list {root!r} ({type(error).__name__}: {error})") from error
    if not paths:
        raise SourceError(f"dataset {spec.name!r}: no .png files under {root!r}")
    return fs, base.rstrip("/"), paths


def decode_png(spec: DatasetSpec, data: bytes, where: str, size: int, intensity_scale: float) -> np.ndarray:
    """PNG bytes -> float32 `[size, size]` (or `[3, size, size]` when the modality's payload has
    channels) in [0, intensity_scale]; SourceError naming `where` if undecodable."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise SourceError(f"dataset {spec.name!r}: {where}: empty file")
    try:
        with open_image_checked(data, where) as image:  # pixel limit before decoding
            image.load()
            if len(spec.payload.shape) == 3:
                rgb = image.convert("RGB")
                if rgb.size != (size, size):
                    rgb = rgb.resize((size, size), Image.BILINEAR)
                return (np.asarray(rgb, dtype=np.float64).transpose(2, 0, 1) / 255.0 * intensity_scale).astype(np.float32)
            sixteen = image.mode in ("I;16", "I;16B", "I", "I;16L")
            grey = image.convert("I") if sixteen else image.convert("L")
            if grey.size != (size, size):
                grey = grey.convert("F").resize((size, size), Image.BILINEAR)
            pixels = np.asarray(grey, dtype=np.float64)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise SourceError(f"dataset {spec.name!r}: {where}: not a decodable PNG ({error})") from None
    return (pixels / (65535.0 if sixteen else 255.0) * intensity_scale).astype(np.float32)


def load_png_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Greyscale PNG class folders -> sample table (see the module docstring)."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: a png_folder source needs 'path'")
    size = int(source.get("size", spec.payload.shape[-1] or 64))
    # Radiographs keep the generated line integrals' range (bone stays bright); pictures are in [0, 1].
    scale = float(source.get("intensity_scale", 6.0 if spec.modality == "xray" else 1.0))
    fs, base, paths = list_pngs(spec, source["path"], source)
    relative = [p[len(base) + 1 :] for p in paths]
    parts = [r.split("/") for r in relative]
    if any(len(p) < 2 for p in parts):
        raise SourceError(f"dataset {spec.name!r}: {source['path']}: PNGs must sit in class folders (<class>/<file>.png)")
    given_splits = all(p[0] in SPLIT_FOLDERS and len(p) >= 3 for p in parts)
    labels = [p[1] if given_splits else p[0] for p in parts]
    targets = class_indices(spec, labels, source.get("classes"), str(source["path"]))  # else the task's classes
    images = []
    for path in paths:
        try:
            data = fs.cat_file(path)
        except Exception as error:
            raise SourceError(f"dataset {spec.name!r}: cannot read {path!r} ({type(error).__name__}: {error})") from error
        images.append(decode_png(spec, data, path, size, scale))
    if given_splits:
        splits = [p[0] for p in parts]
    else:
        splits = list(stratified_splits(targets, seed, val=source.get("val_fraction", 0.1), test=source.get("test_fraction", 0.2)))
    prefix = source.get("id_prefix", spec.name)
    ids = [f"{prefix}-{r.rsplit('.', 1)[0].replace('/', '-')}" for r in relative]
    return build_sample_table(ids, splits, images, {target_name(spec): targets})
