"""`thermal_folder`: a user's thermal frames as an ImageFolder tree, local or `s3://`.

    <path>/<class>/[train|val|test/]<name>.png | .npy

16-bit (or 8-bit) grey PNGs or 2-D `.npy` arrays of raw counts, centre-cropped to a square and
resized (nearest) to the payload size, multiplied by `scale` (default 1; e.g. 16383/65535 to bring
full-range 16-bit frames to 14 bits). The folder name is the label of task `task` (default the
modality's first task); the modality's other tasks, which the folder does not label, are set to 0.
Without split folders the split is stratified from `seed`. An empty or undecodable frame raises
`SourceError` naming the modality and the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, read_bytes, stratified_splits
from omnivec2.data.sources.listing import list_folder, skipped_rows, unsupported
from omnivec2.data.sources.image_files import FRAME_SUFFIXES, decode_frame, fit_square
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
    frames, labels, ids, given = [], [], [], []
    for rel in relative:
        file_path = listing.path(rel)
        try:
            frame = decode_frame(read_bytes(spec, file_path, source), file_path)
        except SourceError:
            raise
        except ValueError as error:
            raise SourceError(f"dataset {spec.name!r}: {error}") from None
        frames.append((fit_square(frame.astype(np.float64), size) * scale).astype(np.float32))
        parts = rel.split("/")
        labels.append(parts[0])
        ids.append(rel[: rel.rfind(".")])
        given.append(parts[1] if len(parts) > 2 and parts[1] in SPLIT_FOLDERS else None)
    targets = class_indices(spec, labels, source.get("classes"), path)
    splits = given if all(s is not None for s in given) else list(stratified_splits(targets, seed))
    columns = {t.name: (targets if t.name == task else np.zeros(len(targets), np.int64)) for t in spec.tasks}
    return skipped_rows(spec, build_sample_table(ids, splits, frames, columns), skipped)
