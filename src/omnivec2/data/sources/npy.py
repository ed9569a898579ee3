"""`npy`: a user's arrays in one `.npz` (local path or `s3://`): `x` `[B, ...]`, `y` `[B]`, optional
`split` `[B]` and `sample_id` `[B]`. Handy for images or IMU series that are not in a table."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import (
    SourceError,
    check_npz_archive,
    class_indices,
    is_classification,
    open_buffer,
    stratified_splits,
    target_name,
)
from omnivec2.datasets.spec import DatasetSpec


def load_npy_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload: each `x[i]` cast to the spec's dtype; splits from the file or stratified from `seed`."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: an npy source needs 'path'")
    path = str(source["path"])
    try:
        data = open_buffer(spec, path, source).getvalue()
        check_npz_archive(spec, data, repr(path), source.get("max_archive_bytes"))  # zip bomb: before np.load
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except SourceError:
        raise
    except Exception as error:
        raise SourceError(f"dataset {spec.name!r}: cannot read {path!r} as .npz ({error})") from error
    if "x" not in arrays or "y" not in arrays:
        raise SourceError(f"dataset {spec.name!r}: {path!r} needs arrays 'x' and 'y'; it has {sorted(arrays)}")
    x, y = arrays["x"], arrays["y"]
    if len(x) != len(y):
        raise SourceError(f"dataset {spec.name!r}: {path!r} has {len(x)} samples in 'x' but {len(y)} in 'y'")

    targets = class_indices(spec, y, source.get("classes"), path) if is_classification(spec) else y.astype(np.float64)
    ids = [str(s) for s in arrays["sample_id"]] if "sample_id" in arrays else [f"{spec.name}-{i:05d}" for i in range(len(y))]
    splits = [str(s) for s in arrays["split"]] if "split" in arrays else stratified_splits(targets, seed)
    samples = x.astype(np.dtype(spec.payload.dtype), copy=False)
    return build_sample_table(ids, splits, list(samples), {target_name(spec): targets})
