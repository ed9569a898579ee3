"""`esc50`: an ESC-50-style folder of labelled clips, local or `s3://`.

Layout (as the ESC-50 release): `<root>/audio/<filename>.wav` and `<root>/meta/esc50.csv` with at
least the columns `filename`, `fold` and `target` (an integer class; ESC-50's `category` column
is ignored). Fold `test_fold` (default 5) -> test, fold `val_fold` (default 4, None for no val)
-> val, the other folds -> train. The target goes to the dataset's first task, so a task with
fewer classes than the folder rejects the folder (SourceError naming the label). The real ESC-50
(2000 clips of 5 s at 44.1 kHz, 50 classes) is a dataset entry such as
`{modality: audio, shape: {sample_rate: 16000, seconds: 5.0}, source: {kind: esc50, path: ...},
tasks: {category: {num_classes: 50}}}`.

Each clip (WAV of any sample format, or another format libsndfile reads: `audio_decode`) is averaged
to mono, resampled to the dataset's `sample_rate` by polyphase filtering (`wav.resample`: 44.1 -> 16
kHz is up 160, down 441) and cropped (start kept) or zero-padded to the payload length,
`sample_rate * seconds`. A clip that cannot be decoded is a row validation refuses, its problem
naming the file (`undecodable`); a clip the CSV names that is missing, or that resolves outside the
folder, stops the reading.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import (
    SourceError,
    check_class_range,
    class_indices,
    contained_path,
    read_bytes,
    target_name,
)
from omnivec2.data.sources.audio_decode import decode_clip
from omnivec2.data.sources.listing import skipped_rows
from omnivec2.data.sources.undecodable import decode_each
from omnivec2.datasets.spec import DatasetSpec

META = "meta/esc50.csv"
COLUMNS = ("filename", "fold", "target")


def read_meta(spec: DatasetSpec, root: str, source: dict) -> pd.DataFrame:
    path = f"{root}/{source.get('meta', META)}"
    try:
        meta = pd.read_csv(io.BytesIO(read_bytes(spec, path, source, inside=root)), encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SourceError(f"dataset {spec.name!r}: cannot parse {path!r} ({type(error).__name__}: {error})") from None
    missing = [c for c in COLUMNS if c not in meta.columns]
    if missing:
        raise SourceError(f"dataset {spec.name!r}: {path!r} lacks column(s) {missing}; it has {list(meta.columns)}")
    if meta.empty:
        raise SourceError(f"dataset {spec.name!r}: {path!r} lists no clips")
    return meta


def load_esc50_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Waveforms float32 `[L]` (L = the payload length); `sample_id` is the file name without `.wav`.

    `source`: `path` (the root folder or `s3://` prefix), optional `test_fold`, `val_fold`,
    `classes` (names or values of `target`, in class order), `storage_options`.
    """
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: an esc50 source needs 'path' (the folder holding audio/ and meta/)")
    root = str(source["path"]).rstrip("/")
    meta = read_meta(spec, root, source)
    rate, length = int(spec.settings["sample_rate"]), int(spec.payload.shape[0])
    test_fold, val_fold = source.get("test_fold", 5), source.get("val_fold", 4)

    names = meta["filename"].astype(str).tolist()
    paths = [contained_path(spec, f"{root}/audio", name, f"{root}/{META}") for name in names]
    decoded = decode_each(spec, range(len(paths)), lambda i: read_bytes(spec, paths[i], source, inside=root),
                          lambda i, data: decode_clip(data, paths[i], rate, length), "clips")

    folds = pd.to_numeric(meta["fold"], errors="coerce")
    splits = np.where(folds == test_fold, "test", np.where(folds == val_fold, "val", "train"))
    labels = class_indices(spec, meta["target"].to_numpy(), source.get("classes"), f"{root}/{META}")
    check_class_range(spec, labels, f"{root}/{META}")
    ids = [name[:-4] if name.lower().endswith(".wav") else name for name in names]
    kept = decoded.kept
    table = build_sample_table([ids[i] for i in kept], splits[kept].tolist(), decoded.values,
                               {target_name(spec): labels[kept]})
    return skipped_rows(spec, table, [(ids[i], str(splits[i]), why) for i, why in decoded.problems.items()])
