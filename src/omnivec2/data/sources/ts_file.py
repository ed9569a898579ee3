"""`ts_file`: UCR/UEA time-series archive `.ts` files (e.g. BasicMotions bundled with sktime), or
the UCR 2018 archive's univariate `.tsv` files (`omnivec2.data.sources.ucr_tsv`), told apart by suffix.

The format: `#` comments, `@key value` headers, then after `@data` one sample per line,
channels separated by `:`, values within a channel by `,` (`?` or `NaN` for a missing value),
the class label last; with `@timeStamps true` a channel is `(time,value)` pairs instead (see
`omnivec2.data.sources.ts_timestamps`). Every sample is brought to the dataset's `[channels, length]` by the source's
`missing` ("interpolate" | "zero") and `length_policy` ("resample" | "pad") options, see
`omnivec2.data.sources.series_shape`; a sample with another channel count is refused.
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
from omnivec2.data.sources.series_shape import LENGTH_POLICIES, MISSING_POLICIES, fit_series
from omnivec2.data.sources.limits import check_count
from omnivec2.data.sources.ts_timestamps import TimedChannel, fit_timed_series, parse_timed_channel, split_fields
from omnivec2.data.sources.ucr_tsv import parse_tsv
from omnivec2.datasets.spec import DatasetSpec

# Class order for bundled datasets whose files spell labels differently from the project's names.
KNOWN_CLASSES = {"BasicMotions": ["badminton", "running", "standing", "walking"]}


def parse_ts(text: str, name: str, channels: int | None = None) -> tuple[list[list[np.ndarray]], list[str]]:
    """Text of a `.ts` file -> (series, labels `[B]`): each sample a list of its channels, each channel
    float32 `[T]` with NaN where the file has a missing value (`?` or `NaN`), or a `TimedChannel`
    (times, values) when the file declares `@timeStamps true`; `name` is used in errors.

    Files that declare `@equalLength false` may have samples (and channels) of different lengths;
    other files must be rectangular. With `channels`, a sample with another channel count is refused.
    Raises ValueError naming the file and line of the problem.
    """
    series, labels, in_data, shape, equal_length, timed = [], [], False, None, True, False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            key, _, value = line.lower().partition(" ")
            equal_length = equal_length and not (key == "@equallength" and value.strip() == "false")
            timed = timed or (key == "@timestamps" and value.strip() == "true")
            in_data = line.lower() == "@data"
            continue
        *fields, label = split_fields(line) if timed else line.split(":")
        if not fields or not label.strip():
            raise ValueError(f"{name}, line {number}: expected '<channel>:...:<label>', got {line[:60]!r}")
        try:
            if timed:
                values = [parse_timed_channel(field) for field in fields]
            else:
                values = [np.array(field.replace("?", "nan").split(","), dtype=np.float32) for field in fields]
        except ValueError as error:
            raise ValueError(f"{name}, line {number}: {error}") from None
        if channels is not None and len(values) != channels:
            raise ValueError(f"{name}, line {number}: {len(values)} channel(s), the dataset declares {channels}")
        lengths = sorted({len(v.values) if timed else len(v) for v in values})
        if equal_length and len(lengths) != 1:
            raise ValueError(f"{name}, line {number}: ragged channels of lengths {lengths} "
                             "(declare '@equalLength false' for series of unequal lengths)")
        sample_shape = (len(values), lengths[-1])
        if equal_length and shape is not None and sample_shape != shape:
            raise ValueError(f"{name}, line {number}: sample of shape {sample_shape}, earlier samples {shape} "
                             "(declare '@equalLength false' for series of unequal lengths)")
        shape = sample_shape
        series.append(values)
        labels.append(label.strip())
    if not series:
        raise ValueError(f"{name}: no samples (missing '@data' section?)")
    return series, labels


def bundled_paths(dataset: str) -> tuple[str, str]:
    """TRAIN and TEST files of a dataset bundled with sktime, found without importing sktime."""
    found = importlib.util.find_spec("sktime")
    if found is None or not found.submodule_search_locations:
        raise SourceError(f"dataset {dataset!r} needs the sktime package (its bundled files); it is not installed")
    folder = Path(list(found.submodule_search_locations)[0]) / "datasets" / "data" / dataset
    return str(folder / f"{dataset}_TRAIN.ts"), str(folder / f"{dataset}_TEST.ts")


def policy(spec: DatasetSpec, source: dict, option: str, choices: tuple[str, ...]) -> str:
    """The source's `option` (default: the first of `choices`); SourceError for another value."""
    value = source.get(option, choices[0])
    if value not in choices:
        raise SourceError(f"dataset {spec.name!r}: {option} {value!r} is not one of {list(choices)}")
    return value


def load_ts_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[C, T]` (the dataset's payload shape); the TEST file -> split test, a
    stratified `val_fraction` of TRAIN -> val.

    `sample_id` is `<dataset>-train-<line index>` / `<dataset>-test-<line index>`.
    """
    length_policy = policy(spec, source, "length_policy", LENGTH_POLICIES)
    missing = policy(spec, source, "missing", MISSING_POLICIES)
    channels, length = (int(d) for d in spec.payload.shape)
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
        longest = max(enumerate(text.splitlines(), start=1), key=lambda item: len(item[1]), default=(0, ""))
        check_count(spec.name, f"{path}, line {longest[0]}", "characters", len(longest[1]), "max_line_chars")
        try:
            parse = parse_tsv if str(path).lower().endswith(".tsv") else parse_ts
            series, labels = parse(text, str(path), channels)
        except ValueError as error:
            raise SourceError(f"dataset {spec.name!r}: {error}") from None
        fit = fit_timed_series if series and isinstance(series[0][0], TimedChannel) else fit_series
        parts[split] = [fit(s, length, length_policy, missing) for s in series], labels
    (train_x, train_labels), (test_x, test_labels) = parts["train"], parts["test"]

    classes = source.get("classes") or KNOWN_CLASSES.get(source.get("dataset", "")) or sorted(set(train_labels))
    train_y = class_indices(spec, train_labels, classes, str(train_path))
    test_y = class_indices(spec, test_labels, classes, str(test_path))
    train_splits = stratified_splits(train_y, seed, val=0.0, test=source.get("val_fraction", 0.15))
    train_splits[train_splits == "test"] = "val"

    ids = [f"{prefix}-train-{i:05d}" for i in range(len(train_y))] + [f"{prefix}-test-{i:05d}" for i in range(len(test_y))]
    splits = list(train_splits) + ["test"] * len(test_y)
    arrays = train_x + test_x
    return build_sample_table(ids, splits, arrays, {target_name(spec): np.concatenate([train_y, test_y])})
