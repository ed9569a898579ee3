"""`depth_folder`: a user's depth frames with label maps, NYUv2-style, local or `s3://`.

    <path>/index.csv              name,category[,split]   (category: a class name or index)
    <path>/depth/<name>.png|.npy  depth: uint16 PNG in 1/`depth_scale` metres (NYUv2 raw: mm -> 1000),
                                  or .npy in metres; 0 = no return
    <path>/labels/<name>.png|.npy per-pixel labels (NYUv2's label ids); label > 0 -> object (1),
                                  0 -> background, for the dataset's dense task (whatever its name)

Frames are centre-cropped to a square and resized (nearest) to the payload size, depth divided
by `max_depth` (metres, default 10) and clipped to [0, 1]. Without a split column the split is
stratified by category from `seed` (over every listed frame). An empty or undecodable frame, non-finite
depth, or a label map whose shape differs from its depth frame makes the sample a row validation
refuses, its problem naming the file (`undecodable`); a missing frame stops the reading.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, contained_path, read_bytes, stratified_splits
from omnivec2.data.sources.errors import OutsideDatasetError
from omnivec2.data.sources.limits import SourceLimitError
from omnivec2.data.sources.image_files import decode_frame, fit_square
from omnivec2.data.sources.listing import skipped_rows
from omnivec2.data.sources.undecodable import decode_each
from omnivec2.datasets.spec import DatasetSpec


def _frame_bytes(spec: DatasetSpec, base: str, folder: str, name: str, source: dict) -> tuple[bytes, str]:
    """The bytes and path of `<base>/<folder>/<name>.png`, else `.npy`; SourceError when neither is there."""
    for suffix in (".png", ".npy"):
        path = contained_path(spec, f"{base}/{folder}", f"{name}{suffix}", f"{base}/index.csv")
        try:
            return read_bytes(spec, path, source, inside=base), path
        except (SourceLimitError, OutsideDatasetError):
            raise
        except SourceError:
            continue
    raise SourceError(f"dataset {spec.name!r}: no {base}/{folder}/{name}.png or .npy")


def _sample(spec: DatasetSpec, files: tuple, size: int, scale: float, max_depth: float) -> tuple[np.ndarray, np.ndarray]:
    """((depth bytes, path), (label bytes, path)) -> (depth `[S, S]` float32 in [0, 1], object mask `[S, S]`
    uint8); ValueError naming the file when one does not decode, holds non-finite depth or the two differ in shape."""
    (depth_data, path), (label_data, label_path) = files
    depth = decode_frame(depth_data, path)
    metres = depth.astype(np.float64) / (scale if path.endswith(".png") else 1.0)
    if not np.isfinite(metres).all():
        raise ValueError(f"{path}: non-finite depth values")
    labels = decode_frame(label_data, label_path)
    if labels.shape != depth.shape:
        raise ValueError(f"{label_path} is {labels.shape}, its depth frame {depth.shape}")
    return (np.clip(fit_square(metres, size) / max_depth, 0.0, 1.0).astype(np.float32),
            (fit_square(labels, size) > 0).astype(np.uint8))


def load_depth_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[S, S]` in [0, 1]; targets: the dataset's classification task (the index's
    `category`) and its dense task (object vs background), each optional but not both."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: a depth_folder source needs 'path'")
    base = str(source["path"]).rstrip("/")
    try:
        index = pd.read_csv(io.BytesIO(read_bytes(spec, f"{base}/index.csv", source, inside=base)), dtype=str)
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
    names = index["name"].tolist()
    decoded = decode_each(spec, names, lambda name: (_frame_bytes(spec, base, "depth", name, source),
                                                      _frame_bytes(spec, base, "labels", name, source)),
                          lambda name, files: _sample(spec, files, size, scale, max_depth), "frames")
    classification = next((t for t in spec.tasks if t.kind == "classification"), None)
    dense = next((t for t in spec.tasks if t.kind == "dense"), None)
    labels = np.zeros(len(index), np.int64)  # what the split is stratified by
    if classification is not None:
        labels = class_indices(spec, index["category"].to_numpy(), source.get("classes"), f"{base}/index.csv",
                               classification.name)
    splits = index["split"].to_numpy() if "split" in index.columns else stratified_splits(labels, seed)
    kept = decoded.kept
    targets = {} if dense is None else {dense.name: [mask for _, mask in decoded.values]}
    if classification is not None:
        targets[classification.name] = labels[kept]
    table = build_sample_table([names[i] for i in kept], list(np.asarray(splits, dtype=object)[kept]),
                               [frame for frame, _ in decoded.values], targets)
    return skipped_rows(spec, table, [(names[i], str(splits[i]), why) for i, why in decoded.problems.items()])
