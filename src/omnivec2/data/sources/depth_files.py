"""`depth_folder`: a user's depth frames with label maps, NYUv2-style, local or `s3://`.

    <path>/index.csv              name,category[,split]   (category: a class name or index)
    <path>/depth/<name>.png|.npy  depth: uint16 PNG in 1/`depth_scale` metres (NYUv2 raw: mm -> 1000),
                                  or .npy in metres; 0 = no return
    <path>/labels/<name>.png|.npy per-pixel labels (NYUv2's label ids); label > 0 -> object (1),
                                  0 -> background, for the dataset's dense task (whatever its name)

Frames are centre-cropped to a square and resized (nearest) to the payload size, depth divided
by `max_depth` (metres, default 10) and clipped to [0, 1]. Without a split column the split is
stratified by category from `seed`. A missing, empty or undecodable frame raises `SourceError`
naming the modality and the file.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, contained_path, read_bytes, stratified_splits
from omnivec2.data.sources.limits import SourceLimitError
from omnivec2.data.sources.image_files import decode_frame, fit_square
from omnivec2.datasets.spec import DatasetSpec


def _frame(spec: DatasetSpec, base: str, folder: str, name: str, source: dict) -> tuple[np.ndarray, str]:
    for suffix in (".png", ".npy"):
        path = contained_path(spec, f"{base}/{folder}", f"{name}{suffix}", f"{base}/index.csv")
        try:
            data = read_bytes(spec, path, source)
        except SourceLimitError:
            raise
        except SourceError:
            continue
        try:
            return decode_frame(data, path), path
        except ValueError as error:
            raise SourceError(f"dataset {spec.name!r}: {error}") from None
    raise SourceError(f"dataset {spec.name!r}: no {base}/{folder}/{name}.png or .npy")


def load_depth_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[S, S]` in [0, 1]; targets: the dataset's classification task (the index's
    `category`) and its dense task (object vs background), each optional but not both."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: a depth_folder source needs 'path'")
    base = str(source["path"]).rstrip("/")
    try:
        index = pd.read_csv(io.BytesIO(read_bytes(spec, f"{base}/index.csv", source)), dtype=str)
    except SourceError:
        raise
    except Exception as error:
        raise SourceError(f"dataset {spec.name!r}: cannot read {base}/index.csv as CSV ({error})") from error
    needed = {"name", "category"} if any(t.kind == "classification" for t in spec.tasks) else {"name"}
    missing = needed - set(index.columns)
    if missing or index.empty:
        raise SourceError(f"dataset {spec.name!r}: {base}/index.csv needs rows and columns {sorted(needed)}; lacks {sorted(missing)}")
    size = int(spec.payload.shape[0])
    scale, max_depth = float(source.get("depth_scale", 1000.0)), float(source.get("max_depth", 10.0))
    frames, masks = [], []
    for name in index["name"]:
        depth, path = _frame(spec, base, "depth", name, source)
        metres = depth.astype(np.float64) / (scale if path.endswith(".png") else 1.0)
        if not np.isfinite(metres).all():
            raise SourceError(f"dataset {spec.name!r}: {path}: non-finite depth values")
        labels, label_path = _frame(spec, base, "labels", name, source)
        if labels.shape != depth.shape:
            raise SourceError(f"dataset {spec.name!r}: {label_path} is {labels.shape}, its depth frame {depth.shape}")
        frames.append(np.clip(fit_square(metres, size) / max_depth, 0.0, 1.0).astype(np.float32))
        masks.append((fit_square(labels, size) > 0).astype(np.uint8))
    classification = next((t for t in spec.tasks if t.kind == "classification"), None)
    dense = next((t for t in spec.tasks if t.kind == "dense"), None)
    targets = {} if dense is None else {dense.name: masks}
    labels = np.zeros(len(index), np.int64)  # what the split is stratified by
    if classification is not None:
        labels = class_indices(spec, index["category"].to_numpy(), source.get("classes"), f"{base}/index.csv",
                               classification.name)
        targets[classification.name] = labels
    splits = index["split"].to_numpy() if "split" in index.columns else stratified_splits(labels, seed)
    return build_sample_table(index["name"].tolist(), list(splits), frames, targets)
