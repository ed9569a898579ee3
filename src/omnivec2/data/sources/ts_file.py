"""`ts_file`: UCR/UEA time-series archive `.ts` files (e.g. BasicMotions bundled with sktime).

The format: `#` comments, `@key value` headers, then after `@data` one sample per line,
channels separated by `:`, values within a channel by `,`, the class label last.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import (
    SourceError,
    class_indices,
    read_bytes,
    stratified_splits,
    target_name,
)
from omnivec2.datasets.spec import DatasetSpec

# Class order for bundled datasets whose files spell labels differently from the project's names.
KNOWN_CLASSES = {"BasicMotions": ["badminton", "running", "standing", "walking"]}


def parse_ts(text: str, name: str) -> tuple[np.ndarray, list[str]]:
    """Text of a `.ts` file -> (series float32 `[B, C, T]`, labels `[B]`); `name` is used in errors.

    Raises ValueError naming the file and line for a malformed line or ragged channels.
    """
    series, labels, in_data, shape = [], [], False, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *channels, label = line.split(":")
        if not channels or not label.strip():
            raise ValueError(f"{name}, line {number}: expected '<channel>:...:<label>', got {line[:60]!r}")
        try:
            values = [np.array(c.split(","), dtype=np.float32) for c in channels]
        except ValueError as error:
            raise ValueError(f"{name}, line {number}: {error}") from None
        lengths = {len(v) for v in values}
        if len(lengths) != 1:
            raise ValueError(f"{name}, line {number}: ragged channels of lengths {sorted(lengths)}")
        sample_shape = (len(values), lengths.pop())
        if shape is not None and sample_shape != shape:
            raise ValueError(f"{name}, line {number}: sample of shape {sample_shape}, earlier samples {shape}")
        shape = sample_shape
        series.append(np.stack(values))
        labels.append(label.strip())
    if not series:
        raise ValueError(f"{name}: no samples (missing '@data' section?)")
    return np.stack(series), labels


def bundled_paths(dataset: str) -> tuple[str, str]:
    """TRAIN and TEST files of a dataset bundled with sktime, found without importing sktime."""
    found = importlib.util.find_spec("sktime")
    if found is None or not found.submodule_search_locations:
        raise SourceError(f"dataset {dataset!r} needs the sktime package (its bundled files); it is not installed")
    folder = Path(list(found.submodule_search_locations)[0]) / "datasets" / "data" / dataset
    return str(folder / f"{dataset}_TRAIN.ts"), str(folder / f"{dataset}_TEST.ts")


def load_ts_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[C, T]`; the TEST file -> split test, a stratified `val_fraction` of TRAIN -> val.

    `sample_id` is `<dataset>-train-<line index>` / `<dataset>-test-<line index>`.
    """
    if "dataset" in source:
        train_path, test_path = bundled_paths(source["dataset"])
        prefix = source["dataset"].lower()
    elif "train_path" in source and "test_path" in source:
        train_path, test_path = source["train_path"], source["test_path"]
        prefix = source.get("id_prefix", spec.name)
    else:
        raise SourceError(f"dataset {spec.name!r}: a ts_file source needs 'dataset' or 'train_path' and 'test_path'")

    parts = {}
    for split, path in (("train", train_path), ("test", test_path)):
        try:
            text = read_bytes(spec, path, source).decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(f"dataset {spec.name!r}: {path} is not UTF-8 text "
                              f"(undecodable byte at offset {error.start})") from None
        try:
            parts[split] = parse_ts(text, str(path))
        except ValueError as error:
            raise SourceError(f"dataset {spec.name!r}: {error}") from None
    (train_x, train_labels), (test_x, test_labels) = parts["train"], parts["test"]

    classes = source.get("classes") or KNOWN_CLASSES.get(source.get("dataset", "")) or sorted(set(train_labels))
    train_y = class_indices(spec, train_labels, classes, str(train_path))
    test_y = class_indices(spec, test_labels, classes, str(test_path))
    train_splits = stratified_splits(train_y, seed, val=0.0, test=source.get("val_fraction", 0.15))
    train_splits[train_splits == "test"] = "val"

    ids = [f"{prefix}-train-{i:05d}" for i in range(len(train_y))] + [f"{prefix}-test-{i:05d}" for i in range(len(test_y))]
    splits = list(train_splits) + ["test"] * len(test_y)
    arrays = list(train_x) + list(test_x)
    return build_sample_table(ids, splits, arrays, {target_name(spec): np.concatenate([train_y, test_y])})
