"""`video_folder`: a folder of video files plus a CSV of labels (Kinetics / UCF style), local or `s3://`.

The CSV (`labels`, default `<path>/labels.csv`) has a `path` column (relative to `path` and inside
it; a full path or URI only with `allow_absolute_paths: true`) and one column per task of the modality; an optional `split` column (train/val/test) is kept,
otherwise splits are seeded and stratified by the first task. Labels are class indices, or names
mapped through `source["classes"][task]` (exact, then case-insensitive match).

Each video is decoded with OpenCV (`opencv-python-headless`; remote files go through a temporary
local copy, which OpenCV needs), converted to grey, resized to the payload's `[H, W]` with area
interpolation, and `T` frames are taken at `np.linspace(0, frames - 1, T)` rounded: longer videos
are subsampled evenly, shorter ones repeat frames (deterministic either way); a video of more than
`max_frames` frames is refused (from its header, and while decoding). A video that cannot be decoded
is a row validation refuses, its problem naming the file (`undecodable`). Payload uint8
`[T, H, W]`. `sample_id` is `<id_prefix>-<file name without extension>`.
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import (SourceError, class_indices, contained_path, is_absolute_name, read_bytes,
                                          stratified_splits)
from omnivec2.data.sources.limits import check_count, limit
from omnivec2.data.sources.listing import skipped_rows
from omnivec2.data.sources.undecodable import decode_each
from omnivec2.datasets.spec import DatasetSpec

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg")  # what OpenCV's FFmpeg build opens


def decode_video(spec: DatasetSpec, data: bytes, where: str, frames: int, height: int, width: int) -> np.ndarray:
    """Video bytes -> uint8 `[frames, height, width]`; SourceError naming `where` when empty, undecodable or
    longer than the source's `max_frames` (judged from the header, and again while decoding)."""
    import cv2

    if not data:
        raise SourceError(f"dataset {spec.name!r}: {where}: empty file")
    suffix = os.path.splitext(where)[1] or ".avi"
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        handle.write(data)
        handle.flush()
        capture = cv2.VideoCapture(handle.name)
        check_count(spec.name, where, "frames (by its header)", int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0)),
                    "max_frames")
        decoded = []
        while capture.isOpened():
            ok, frame = capture.read()
            if not ok:
                break
            if len(decoded) == limit("max_frames"):  # a header that lied: stop at the limit, not at memory's end
                capture.release()
                check_count(spec.name, where, "frames", len(decoded) + 1, "max_frames")
            grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
            decoded.append(cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA) if grey.shape != (height, width) else grey)
        capture.release()
    if not decoded:
        raise SourceError(f"dataset {spec.name!r}: {where}: no decodable video frames")
    index = np.rint(np.linspace(0, len(decoded) - 1, frames)).astype(int)
    return np.stack([decoded[i] for i in index]).astype(np.uint8)


def load_video_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Videos + label CSV -> sample table (see the module docstring)."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: a video_folder source needs 'path' (the folder of videos)")
    root = str(source["path"]).rstrip("/")
    labels_path = source.get("labels", f"{root}/labels.csv")
    try:
        inside_root = root if "labels" not in source else None  # a labels CSV the user names may lie elsewhere
        table = pd.read_csv(io.BytesIO(read_bytes(spec, labels_path, source, inside=inside_root)))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SourceError(f"dataset {spec.name!r}: {labels_path}: not a readable CSV ({error})") from None
    missing = [c for c in ("path", *(t.name for t in spec.tasks)) if c not in table.columns]
    if missing:
        raise SourceError(f"dataset {spec.name!r}: {labels_path}: missing column(s) {missing}")
    if table.empty:
        raise SourceError(f"dataset {spec.name!r}: {labels_path}: no rows")
    frames, height, width = spec.payload.shape
    classes = source.get("classes", {})
    targets = {t.name: class_indices(spec, table[t.name].tolist(), classes.get(t.name), str(labels_path), t.name)
               for t in spec.tasks}
    names = table["path"].astype(str).tolist()
    paths = [contained_path(spec, root, name, str(labels_path), allow_outside=bool(source.get("allow_absolute_paths")))
             for name in names]
    inside = [None if is_absolute_name(name) else root for name in names]  # absolute: allowed outside by the user
    decoded = decode_each(spec, range(len(paths)), lambda i: read_bytes(spec, paths[i], source, inside=inside[i]),
                          lambda i, data: decode_video(spec, data, paths[i], frames, height, width), "video files")
    if "split" in table.columns:
        splits = table["split"].astype(str).tolist()
    else:
        splits = list(stratified_splits(targets[spec.tasks[0].name], seed, val=source.get("val_fraction", 0.1),
                                        test=source.get("test_fraction", 0.2)))
    prefix = source.get("id_prefix", spec.name)
    ids = [f"{prefix}-{os.path.splitext(os.path.basename(p))[0]}" for p in table["path"].astype(str)]
    kept = decoded.kept
    samples = build_sample_table([ids[i] for i in kept], [splits[i] for i in kept], decoded.values,
                                 {task: values[kept] for task, values in targets.items()})
    return skipped_rows(spec, samples, [(ids[i], splits[i], why) for i, why in decoded.problems.items()])
