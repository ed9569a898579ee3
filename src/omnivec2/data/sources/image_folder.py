"""`image_folder` (older name `png_folder`): an ImageFolder tree (one folder per class) of PNG, JPEG,
GIF, BMP or TIFF images, local or `s3://`.

Layouts (chest X-ray sets are distributed both ways):
* `<root>/<class>/<name>.<ext>` -> seeded stratified train/val/test splits;
* `<root>/<split>/<class>/<name>.<ext>` with split folders `train`, `val`, `test` -> kept as given.

Files are listed by extension (`IMAGE_SUFFIXES`, any case) with `listing.list_folder`: each must resolve
inside the folder (a symbolic link out of it is refused, not followed); hidden files and folders
(`.DS_Store`, `.ipynb_checkpoints/`) are ignored, and any other file becomes a row that validation
refuses by name (`listing.skipped_rows`: `fail` mode stops, `quarantine` counts and names it) rather
than being dropped unseen. An image that cannot be decoded (empty, truncated, not what its suffix says)
is such a row too, its problem naming the file (`undecodable.decode_each`); each file is read with the
containment check made again on the open file. Each image is decoded to the dataset's declared payload (`[H, W]` grey
or `[3, H, W]` RGB at the `size` setting, see `image_decode`) with values in
[0, `intensity_scale`] (default 1.0; 6.0 for X-ray datasets, the range of the generated
radiographs' line integrals, so bone stays bright). Classes: `source["classes"]`, else the task's
declared `classes` (in task index order, matched exactly then case-insensitively), else the sorted
folder names. `sample_id` is `<id_prefix>-<path below root without extension>` ("/" -> "-").
"""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, read_bytes, stratified_splits, target_name
from omnivec2.data.sources.listing import list_folder, relative_id, skipped_rows, unsupported
from omnivec2.data.sources.image_decode import IMAGE_SUFFIXES, decode_image
from omnivec2.data.sources.undecodable import decode_each
from omnivec2.datasets.spec import DatasetSpec

SPLIT_FOLDERS = ("train", "val", "test")


def intensity_scale(spec: DatasetSpec, source: dict) -> float:
    """Pixel value of a full-scale code: the source's `intensity_scale`, else 6.0 for X-ray, 1.0 for pictures."""
    return float(source.get("intensity_scale", 6.0 if spec.modality == "xray" else 1.0))


def load_image_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Image class folders -> sample table (see the module docstring)."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: an {source.get('kind', 'image_folder')} source needs 'path'")
    scale = intensity_scale(spec, source)
    listing = list_folder(spec, source["path"], source, IMAGE_SUFFIXES)  # each file checked to stay inside
    if not listing.files:
        raise SourceError(f"dataset {spec.name!r}: no image files ({', '.join(IMAGE_SUFFIXES)}) under {source['path']!r}")
    relative = [r for r in listing.files if "/" in r]
    if not relative:
        raise SourceError(f"dataset {spec.name!r}: {source['path']}: images must sit in class folders "
                          f"(<class>/<file>); none does")
    loose = [r for r in listing.files + listing.others if "/" not in r]
    parts = [r.split("/") for r in relative]
    given_splits = all(p[0] in SPLIT_FOLDERS and len(p) >= 3 for p in parts)
    labels = [p[1] if given_splits else p[0] for p in parts]
    targets = class_indices(spec, labels, source.get("classes"), str(source["path"]))  # else the task's classes
    decoded = decode_each(spec, relative, lambda r: read_bytes(spec, listing.path(r), source, inside=listing.url),
                          lambda r, data: decode_image(spec, data, listing.path(r), scale), "image files")
    kept = [relative[i] for i in decoded.kept]
    if given_splits:
        splits = [r.split("/")[0] for r in kept]
    else:
        splits = list(stratified_splits(targets[decoded.kept], seed, val=source.get("val_fraction", 0.1),
                                        test=source.get("test_fraction", 0.2)))
    prefix = source.get("id_prefix", spec.name)
    sample_id = (lambda r: f"{prefix}-{relative_id(r).replace('/', '-')}")
    table = build_sample_table([sample_id(r) for r in kept], splits, decoded.values,
                               {target_name(spec): targets[decoded.kept]})
    given = (lambda r: r.split("/")[0] if given_splits and "/" in r else "train")
    skipped = [(sample_id(relative[i]), given(relative[i]), why) for i, why in decoded.problems.items()]
    skipped += [(f"{prefix}-{r.replace('/', '-')}", given(r), why)
                for r, why in unsupported(listing, IMAGE_SUFFIXES) if "/" in r]
    skipped += [(f"{prefix}-{r}", "train", f"{listing.path(r)}: not in a class folder (<class>/<file>), not read")
                for r in loose]
    return skipped_rows(spec, table, skipped)
