"""`text_table`: a user's labelled texts as CSV, JSON Lines or Parquet (local path or `s3://`), one
text per row.

Source keys: `path`, or one file per split as Hugging Face datasets ship them (`train_path` and
`test_path`, optional `val_path`; without it `val_fraction`, default 0.1, of train is val, stratified);
`text_column` (default "text"); `label_column` (default "label"); optional `id_column`,
`split_column` (values train/val/test; otherwise a stratified 70/10/20 split from the seed, its val
share `val_fraction`),
`classes` (label names in class order; default: integer labels as they are, or the sorted label
names), `format` ("csv", "jsonl" or "parquet"; default from the file name), `storage_options`.

The file must be UTF-8: undecodable bytes raise a SourceError naming the file and byte offset, and a
JSON line whose text is not valid Unicode (a lone surrogate escape) one naming the line; a text (CSV
record or JSON line) over `max_line_chars` characters is refused the same way. A
missing text becomes an empty payload, which validation rejects (shape check) by sample id.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import (
    SourceError,
    check_class_range,
    class_indices,
    read_bytes,
    stratified_splits,
    target_name,
)
from omnivec2.data.sources.limits import check_count
from omnivec2.data.sources.splits import val_from_train
from omnivec2.datasets.spec import DatasetSpec


def text_payload(text: object) -> np.ndarray:
    """A text (NaN/None -> "") -> its UTF-8 bytes `[L]` uint8."""
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


SPLIT_PATHS = (("train", "train_path"), ("val", "val_path"), ("test", "test_path"))


def text_format(source: dict, path: str) -> str:
    """The source's `format`, else the file name's: .jsonl/.ndjson/.json, .parquet/.pq, else CSV."""
    if source.get("format"):
        return str(source["format"])
    lower = path.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "parquet" if lower.endswith((".parquet", ".pq")) else "csv"


def read_text_frame(spec: DatasetSpec, source: dict) -> pd.DataFrame:
    """The source's CSV, JSON Lines or Parquet file -> a frame of its records (SourceError naming the
    file and, for JSON Lines, the line)."""
    path = str(source["path"])
    kind = text_format(source, path)
    data = read_bytes(spec, path, source)
    if kind == "parquet":
        try:
            return pd.read_parquet(io.BytesIO(data))
        except Exception as error:  # pyarrow's ArrowInvalid and friends
            raise SourceError(f"dataset {spec.name!r}: cannot read {path!r} as Parquet ({type(error).__name__}: "
                              f"{error})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceError(f"dataset {spec.name!r}: {path!r} is not UTF-8 (undecodable byte at offset {error.start})") from None
    if not text.strip():
        raise SourceError(f"dataset {spec.name!r}: {path!r} is empty")
    if kind == "jsonl":
        return read_json_lines(spec, text, path)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except ValueError as error:  # pandas' parser errors are ValueErrors
        raise SourceError(f"dataset {spec.name!r}: cannot parse {path!r} as {kind} ({error})") from None


def read_json_lines(spec: DatasetSpec, text: str, path: str) -> pd.DataFrame:
    """JSON Lines -> a frame, one record per non-blank line; SourceError naming the line for a line
    that is not a JSON object, is over `max_line_chars`, or holds text that is not valid Unicode (a
    lone surrogate escape such as `\\ud800`, which pandas' reader drops without a word)."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path!r} line {number}"
        check_count(spec.name, where, "characters", len(line), "max_line_chars")
        try:
            record = json.loads(line)
        except ValueError as error:
            raise SourceError(f"dataset {spec.name!r}: {where} is not JSON ({error})") from None
        if not isinstance(record, dict):
            raise SourceError(f"dataset {spec.name!r}: {where} is a JSON {type(record).__name__}, not an object")
        for key, value in record.items():
            if isinstance(value, str) and not is_valid_unicode(value):
                at = next(i for i, c in enumerate(value) if 0xD800 <= ord(c) <= 0xDFFF)
                raise SourceError(f"dataset {spec.name!r}: {where}, field {key!r}: text is not valid Unicode (a lone "
                                  f"surrogate U+{ord(value[at]):04X} at character {at}); fix or remove the line")
        records.append(record)
    return pd.DataFrame.from_records(records)


def is_valid_unicode(text: str) -> bool:
    """False for a string holding a lone surrogate (which no UTF-8 file can carry)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_files(spec: DatasetSpec, source: dict) -> list[tuple[str | None, str]]:
    """[(split or None, path)]: the one `path`, or the split files (train and test at least)."""
    if "path" in source:
        return [(None, str(source["path"]))]
    given = [(split, str(source[key])) for split, key in SPLIT_PATHS if key in source]
    if not {"train", "test"} <= {split for split, _ in given}:
        raise SourceError(f"dataset {spec.name!r}: a text_table source needs 'path', or 'train_path' and "
                          "'test_path' (and optionally 'val_path')")
    return given


def load_text_table_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Each row -> payload uint8 `[L]` (the UTF-8 bytes of its text) and the first task's class."""
    files = text_files(spec, source)
    text_column, label_column = source.get("text_column", "text"), source.get("label_column", "label")
    id_column, split_column = source.get("id_column"), source.get("split_column")
    wanted = [c for c in (text_column, label_column, id_column, split_column) if c is not None]
    frames, given, ids = [], [], []
    for split, path in files:
        frame = read_text_frame(spec, {**source, "path": path})
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise SourceError(f"dataset {spec.name!r}: {path!r} has no column(s) {missing}; "
                              f"it has {list(frame.columns)}")
        for record, value in enumerate(frame[text_column], start=1):
            check_count(spec.name, f"{path!r} record {record}", "characters",
                        len(value) if isinstance(value, str) else 0, "max_line_chars")
        if id_column:
            ids += frame[id_column].astype(str).tolist()
        else:  # row numbers, per file when there are several
            ids += [f"{spec.name}-{split + '-' if split else ''}{i:05d}" for i in range(len(frame))]
        frames.append(frame)
        given += [split] * len(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    where = " / ".join(path for _, path in files)
    raw_labels = frame[label_column].to_numpy()
    if source.get("classes") is None and all(str(v).lstrip("-").isdigit() for v in raw_labels):
        raw_labels = np.array([int(v) for v in raw_labels], dtype=np.int64)
    labels = class_indices(spec, raw_labels, source.get("classes"), where)
    check_class_range(spec, labels, where)
    if split_column:
        splits = frame[split_column].astype(str).tolist()
    elif files[0][0] is None:
        splits = stratified_splits(labels, seed, val=float(source.get("val_fraction", 0.1)))
    else:
        fraction = 0.0 if "val_path" in source else float(source.get("val_fraction", 0.1))
        splits = val_from_train(given, labels, seed, fraction)
    payloads = [text_payload(t) for t in frame[text_column]]
    return build_sample_table(ids, list(splits), payloads, {target_name(spec): labels})
