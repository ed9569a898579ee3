"""Content hashes that key the token cache: the validated source table and the tokenizer config."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from omnivec2.durable_files import sha256_file  # noqa: F401  (re-exported: the cache's readers use it from here)
from omnivec2.datasets.spec import DatasetSpec


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def sha256_json(value: object) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def source_hash(table: pd.DataFrame, spec: DatasetSpec) -> str:
    """sha256 over every row's sample_id, split, targets, dtype, shape and payload bytes.

    Dense targets are covered by their label-map bytes and `<task>_shape`.

    Rows are taken in sample_id order, so reordering the table does not change the hash; each
    field is length-prefixed so that field boundaries cannot shift.
    """
    tasks = [task.name for task in spec.tasks]
    digest = hashlib.sha256(canonical_json({"tasks": tasks}))
    ordered = table.sort_values("sample_id", kind="stable")
    dense = [f"{task.name}_shape" for task in spec.tasks if task.kind == "dense"]
    columns = [ordered[c].tolist() for c in ("sample_id", "split", *tasks, *dense, "dtype", "shape", "payload")]
    for row in zip(*columns):
        for field in row:
            data = field if isinstance(field, bytes) else repr(_plain(field)).encode()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()


def _plain(value: object) -> object:
    """numpy scalars -> Python scalars so that int64(3) and 3 hash alike; floats exactly via hex."""
    value = value.item() if hasattr(value, "item") else value
    return value.hex() if isinstance(value, float) else value
