"""The pyarrow token cache (Arrow IPC shards): `build_token_cache` (write, see build.py) and
`read_token_split` (read).

Layout, shard schema and manifest: see `omnivec2.tokens.shards`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from omnivec2.tokens.build import UnvalidatedTableError, build_token_cache
from omnivec2.tokens.remote import is_remote, mirror_modality
from omnivec2.tokens.shards import (FORMAT_VERSION, MANIFEST, CorruptCacheError, load_manifest, modality_dir,
                                   read_shard, verify_shard)

__all__ = ["CorruptCacheError", "TokenSplit", "UnvalidatedTableError", "build_token_cache", "read_token_split"]


@dataclass
class TokenSplit:
    sample_ids: list[str]  # [B]
    tokens: np.ndarray  # [B, N, P] float32, a read-only view of Arrow memory
    targets: dict[str, np.ndarray]  # task -> [B], or [B, N, K] int64 for dense tasks
    manifest: dict


def split_names(root: str | Path, modality: str) -> list[str]:
    """The splits a modality's cache holds (e.g. ["test", "train", "val"])."""
    if is_remote(root):
        root = mirror_modality(str(root), modality)
    return sorted(load_manifest(modality_dir(root, modality))["splits"])


def read_token_split(root: str | Path, modality: str, split: str, *, verify: bool = True) -> TokenSplit:
    """One split of a modality's cache -> `TokenSplit` (tokens `[B, N, P]` float32, read-only).

    With `verify`, the shard's sha256, row count and token width are checked against the manifest
    and any mismatch raises `CorruptCacheError` naming the file.
    """
    if is_remote(root):  # s3://...: read (and verify) a local mirror; see omnivec2.tokens.remote
        root = mirror_modality(str(root), modality)
    directory = modality_dir(root, modality)
    manifest = load_manifest(directory)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CorruptCacheError(
            f"{directory / MANIFEST}: token cache in format {manifest.get('format_version')!r}, this omnivec2 reads "
            f"format {FORMAT_VERSION}; rebuild it with `kedro run --pipeline tokenization`")
    if split not in manifest["splits"]:
        raise ValueError(f"{directory / MANIFEST}: no split {split!r}; it has {sorted(manifest['splits'])}")
    entry = manifest["splits"][split]
    path = verify_shard(directory, manifest, split) if verify else directory / entry["file"]
    table = read_shard(path)
    n, p = manifest["token_shape"]
    column = table.column("tokens").combine_chunks()
    if verify and (table.num_rows != entry["rows"] or column.type.list_size != n * p):
        raise CorruptCacheError(
            f"{path}: {table.num_rows} rows of {column.type.list_size} token values, "
            f"manifest says {entry['rows']} rows of {n}x{p}"
        )
    # flatten() honours slicing offsets; the float32 child has no nulls, so this is a zero-copy view.
    tokens = column.flatten().to_numpy(zero_copy_only=True).reshape(table.num_rows, n, p)
    targets = {task["name"]: _targets(table.column(task["name"]), task, n) for task in manifest["tasks"]}
    return TokenSplit(table.column("sample_id").to_pylist(), tokens, targets, manifest)


def _targets(column: pa.ChunkedArray, task: dict, num_tokens: int) -> np.ndarray:
    """A shard's target column -> `[B]`, or `[B, N, K]` int64 for a dense task (stored as int16)."""
    if task["kind"] != "dense":
        return column.to_numpy()
    labels = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return labels.astype(np.int64).reshape(len(column), num_tokens, task["outputs_per_token"])
