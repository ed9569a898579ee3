"""`image_folder` (older name `png_folder`): an ImageFolder tree (one folder per class) of PNG, JPEG,
GIF, BMP or TIFF images, local or `s3://`.

Layouts (chest X-ray sets are distributed both ways):
* `<root>/<class>/<name>.<ext>` -> seeded stratified train/val/test splits;
* `<root>/<split>/<class>/<name>.<ext>` with split folders `train`, `val`, `test` -> kept as given.

Files are listed by extension (`IMAGE_SUFFIXES`, any case); hidden files and folders (`.DS_Store`,
`.ipynb_checkpoints/`) are ignored, and any other file is refused with a SourceError naming it
rather than dropped unseen. Each image is decoded to the dataset's declared payload (`[H, W]` grey
or `[3, H, W]` RGB at the `size` setting, see `image_decode`) with values in
[0, `intensity_scale`] (default 1.0; 6.0 for X-ray datasets, the range of the generated
radiographs' line integrals, so bone stays bright). Classes: `source["classes"]`, else the task's
declared `classes` (in task index order, matched exactly then case-insensitively), else the sorted
folder names. `sample_id` is `<id_prefix>-<path below root without extension>` ("/" -> "-").
"""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, stratified_splits, target_name
from omnivec2.data.sources.image_decode import IMAGE_SUFFIXES, decode_image
from omnivec2.datasets.spec import DatasetSpec

SPLIT_FOLDERS = ("train", "val", "test")
SHOWN = 5  # refused files named in the message


def intensity_scale(spec: DatasetSpec, source: dict) -> float:
    """Pixel value of a full-scale code: the source's `intensity_scale`, else 6.0 for X-ray, 1.0 for pictures."""
    return float(source.get("intensity_scale", 6.0 if spec.modality == "xray" else 1.0))


def list_images(spec: DatasetSpec, root: str, source: dict) -> tuple[object, str, list[str]]:
    """(filesystem, root without protocol, sorted image paths below it); SourceError if the tree holds
    no image or holds files of other kinds (hidden ones aside)."""
    import fsspec

    try:
        fs, base = fsspec.core.url_to_fs(str(root), **source.get("storage_options", {}))
        base = base.rstrip("/")
        found = [p for p in sorted(fs.find(base)) if not any(part.startswith(".") for part in p[len(base) + 1 :].split("/"))]
    except Exception as error:  # missing bucket, permissions, bad protocol
        raise SourceError(f"dataset {spec.name!r}: cannot list {root!r} ({type(error).__name__}: {error})") from error
    paths = [p for p in found if p.lower().endswith(IMAGE_SUFFIXES)]
    others = [p[len(base) + 1 :] for p in found if not p.lower().endswith(IMAGE_SUFFIXES)]
    if others:
        raise SourceError(f"dataset {spec.name!r}: {len(others)} file(s) under {root!r} are not images "
                          f"({', '.join(IMAGE_SUFFIXES)}): {', '.join(others[:SHOWN])}"
                          f"{', ...' if len(others) > SHOWN else ''}; remove or move them")
    if not paths:
        raise SourceError(f"dataset {spec.name!r}: no image files ({', '.join(IMAGE_SUFFIXES)}) under {root!r}")
    return fs, base, paths


def load_image_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Image class folders -> sample table (see the module docstring)."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: an {source.get('kind', 'image_folder')} source needs 'path'")
    scale = intensity_scale(spec, source)
    fs, base, paths = list_images(spec, source["path"], source)
    relative = [p[len(base) + 1 :] for p in paths]
    parts = [r.split("/") for r in relative]
    if any(len(p) < 2 for p in parts):
        raise SourceError(f"dataset {spec.name!r}: {source['path']}: images must sit in class folders (<class>/<file>)")
    given_splits = all(p[0] in SPLIT_FOLDERS and len(p) >= 3 for p in parts)
    labels = [p[1] if given_splits else p[0] for p in parts]
    targets = class_indices(spec, labels, source.get("classes"), str(source["path"]))  # else the task's classes
    images = []
    for path in paths:
        try:
            data = fs.cat_file(path)
        except Exception as error:
            raise SourceError(f"dataset {spec.name!r}: cannot read {path!r} ({type(error).__name__}: {error})") from error
        images.append(decode_image(spec, data, path, scale))
    if given_splits:
        splits = [p[0] for p in parts]
    else:
        splits = list(stratified_splits(targets, seed, val=source.get("val_fraction", 0.1), test=source.get("test_fraction", 0.2)))
    prefix = source.get("id_prefix", spec.name)
    ids = [f"{prefix}-{r.rsplit('.', 1)[0].replace('/', '-')}" for r in relative]
    return build_sample_table(ids, splits, images, {target_name(spec): targets})
