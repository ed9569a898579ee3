"""`thermal_folder`: a user's thermal frames as an ImageFolder tree, local or `s3://`.

    <path>/<class>/[train|val|test/]<name>.png | .npy

16-bit (or 8-bit) grey PNGs or 2-D `.npy` arrays of raw counts, centre-cropped to a square and
resized (nearest) to the payload size, multiplied by `scale` (default 1; e.g. 16383/65535 to bring
full-range 16-bit frames to 14 bits). The folder name is the label of task `task` (default the
modality's first task); the modality's other tasks, which the folder does not label, are set to 0.
Without split folders the split is stratified from `seed`. An empty or undecodable frame is a row
validation refuses, its problem naming the file (`undecodable`); other files, and files outside a
class folder, are such rows too (`listing.skipped_rows`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, read_bytes, stratified_splits
from omnivec2.data.sources.listing import list_folder, skipped_rows, unsupported
from omnivec2.data.sources.image_files import FRAME_SUFFIXES, decode_frame, fit_square
from omnivec2.data.sources.undecodable import decode_each
from omnivec2.datasets.spec import DatasetSpec

SPLIT_FOLDERS = ("train", "val", "test")


def load_thermal_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[S, S]`; the folder label -> task `source.get("task")`."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: a thermal_folder source needs 'path'")
    path = str(source["path"]).rstrip("/")
    task = source.get("task", spec.tasks[0].name)
    if task not in [t.name for t in spec.tasks]:
        raise SourceError(f"dataset {spec.name!r}: no task {task!r}; tasks are {[t.name for t in spec.tasks]}")
    listing = list_folder(spec, path, source, FRAME_SUFFIXES)  # each file checked to stay inside the folder
    relative = [r for r in listing.files if "/" in r]
    skipped = [(r, "train", f"{listing.path(r)}: not in a class folder (<class>/<file>), not read")
               for r in listing.files if "/" not in r] + [(r, "train", why)
                                                            for r, why in unsupported(listing, FRAME_SUFFIXES)]
    if not relative:
        raise SourceError(f"dataset {spec.name!r}: no .png/.npy frames in class folders under {path!r}")
    size, scale = int(spec.payload.shape[0]), float(source.get("scale", 1.0))
    decoded = decode_each(spec, relative, lambda rel: read_bytes(spec, listing.path(rel), source, inside=listing.url),
                          lambda rel, data: decode_frame(data, listing.path(rel)), "frames")
    split_of = (lambda rel: rel.split("/")[1] if len(rel.split("/")) > 2 and rel.split("/")[1] in SPLIT_FOLDERS else None)
    skipped += [(relative[i][: relative[i].rfind(".")], split_of(relative[i]) or "train", why)
                for i, why in decoded.problems.items()]
    # classes from every class folder (a class whose files all fail keeps its index), targets of the kept files
    targets = class_indices(spec, [rel.split("/")[0] for rel in relative], source.get("classes"), path)[decoded.kept]
    relative = [relative[i] for i in decoded.kept]
    frames = [(fit_square(frame.astype(np.float64), size) * scale).astype(np.float32) for frame in decoded.values]
    ids, given = [rel[: rel.rfind(".")] for rel in relative], [split_of(rel) for rel in relative]
    splits = given if all(s is not None for s in given) else list(stratified_splits(targets, seed))
    columns = {t.name: (targets if t.name == task else np.zeros(len(targets), np.int64)) for t in spec.tasks}
    return skipped_rows(spec, build_sample_table(ids, splits, frames, columns), skipped)
