"""The token cache's on-disk format: layout, shard schema, manifest loading and checksum checks.

Layout under `root`:

    <root>/<modality>/manifest.json
    <root>/<modality>/<split>/part-00000.arrow

A shard is an Arrow IPC file (Feather v2) with LZ4-frame-compressed buffers: read through a memory
map, it needs no decoding beyond LZ4 (several GB/s), where Parquet's page decoding made the cache
barely faster than tokenizing again for cheap tokenizers (format 1, benchmark (d)).

Shard columns: `sample_id` (string), one column per task target (int64 for classification,
float64 for values, `FixedSizeList<int16>[N*K]` for a dense task's per-token labels `[N, K]`)
and `tokens`, a `FixedSizeList<float32>[N*P]`, so reading is one
zero-copy view reshaped to `[rows, N, P]`. The manifest is written last and lists each shard's
row count and sha256, which `read_token_split` verifies.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from omnivec2.tokens.hashing import sha256_file

FORMAT_VERSION = 3
MANIFEST = "manifest.json"
SHARD = "part-00000.arrow"
_WRITE_OPTIONS = ipc.IpcWriteOptions(compression="lz4")


class CorruptCacheError(ValueError):
    """The cache on disk does not match its manifest (or has none); the message names the file."""


def modality_dir(root: str | Path, modality: str) -> Path:
    return Path(root) / modality


def load_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.is_file():
        raise CorruptCacheError(f"{path}: no token-cache manifest (the cache was never built, or a build was interrupted)")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptCacheError(f"{path}: manifest is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("splits"), dict):
        raise CorruptCacheError(f"{path}: not a token-cache manifest (no 'splits' table)")
    for split in manifest["splits"]:
        shard_path(directory, manifest, split)  # every shard it lists stays inside the cache
    return manifest


def shard_path(directory: Path, manifest: dict, split: str) -> Path:
    """`<directory>/<file>` for the split's shard; a manifest pointing outside the cache is refused."""
    entry = manifest["splits"][split]
    name = str(entry.get("file", "")) if isinstance(entry, dict) else ""
    path = directory / name
    if not name or Path(name).is_absolute() or not path.resolve().is_relative_to(directory.resolve()):
        raise CorruptCacheError(f"{directory / MANIFEST}: shard path {name!r} of split {split!r} is outside the cache")
    return path


def verify_shard(directory: Path, manifest: dict, split: str) -> Path:
    """The shard's path, after checking it exists and its sha256 matches the manifest."""
    entry = manifest["splits"][split]
    path = shard_path(directory, manifest, split)
    if not path.is_file():
        raise CorruptCacheError(f"{path}: shard listed in the manifest is missing")
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise CorruptCacheError(f"{path}: sha256 {actual[:16]}... does not match the manifest's {entry['sha256'][:16]}...")
    return path


def verify_cache(directory: Path, manifest: dict) -> None:
    for split in manifest["splits"]:
        verify_shard(directory, manifest, split)


SHARD_COLUMNS = ("sample_id", "tokens")  # beside one column per task


def shard_table(sample_ids: list[str], targets: dict[str, np.ndarray], tokens: np.ndarray) -> pa.Table:
    """Rows of one split -> an Arrow table; `tokens` `[B, N, P]` float32, targets `[B]` or `[B, N, K]` (dense)."""
    b, n, p = tokens.shape
    flat = pa.array(np.ascontiguousarray(tokens, dtype=np.float32).reshape(-1), type=pa.float32())
    columns = {"sample_id": pa.array(sample_ids, type=pa.string())}
    for name, values in targets.items():
        values = np.asarray(values)
        if values.ndim == 3:  # dense labels [B, N, K]; classes < 2**15
            labels = pa.array(np.ascontiguousarray(values, dtype=np.int16).reshape(-1), type=pa.int16())
            columns[name] = pa.FixedSizeListArray.from_arrays(labels, values.shape[1] * values.shape[2])
        else:
            columns[name] = pa.array(values)
    columns["tokens"] = pa.FixedSizeListArray.from_arrays(flat, n * p)
    return pa.table(columns)


def write_shard(table: pa.Table, path: Path) -> None:
    """Write `table` as one Arrow IPC file at `path` (the caller renames the folder into place)."""
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_table(table)


def read_shard(path: Path) -> pa.Table:
    """The shard at `path`, memory-mapped; raises `CorruptCacheError` naming it if Arrow cannot read it."""
    try:
        return ipc.open_file(pa.memory_map(str(path))).read_all()
    except (OSError, pa.ArrowException) as error:
        raise CorruptCacheError(f"{path}: unreadable Arrow shard ({error})") from error
