"""`build_token_cache`: a validated sample table -> the dataset's token cache, written atomically.

The deterministic tokenizer is fitted on the train split and applied to each whole split at once;
dense targets (label maps) go through its `transform_dense` and are stored laid out like the tokens.
Everything is written into a sibling temp dir `<root>/.<modality>.tmp-<pid>` (fsynced, manifest
last), then swapped in by renames, so a crash leaves the old cache or the new one, never a mix;
leftovers of dead builds are removed and never read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import SPLITS, decode_label_maps, decode_payloads
from omnivec2.datasets.spec import DatasetSpec, TaskSpec
from omnivec2.tokens.shards import (
    FORMAT_VERSION,
    MANIFEST,
    SHARD,
    CorruptCacheError,
    load_manifest,
    modality_dir,
    shard_table,
    verify_cache,
    write_shard,
)
from omnivec2.durable_files import fsync_dir, fsync_file, process_alive, write_synced
from omnivec2.tokens.hashing import sha256_file, sha256_json, source_hash
from omnivec2.tokens.table_check import UnvalidatedTableError, check_table


def build_token_cache(table: pd.DataFrame, spec: DatasetSpec, root: str | Path) -> dict:
    """Tokenize `table` into `<root>/<spec.name>/` and return the manifest.

    An existing cache with the same key (source hash + tokenizer config hash) whose shards verify is
    reused untouched; the returned manifest then carries `"reused": True` (the file on disk does not).
    """
    check_table(table, spec)
    root = Path(root)
    final = modality_dir(root, spec.name)
    tokenizer_config = spec.tokenizer.config()
    source = source_hash(table, spec)
    config_hash = sha256_json(tokenizer_config)
    # The stream description (modality, masking, tasks and their classes) is in the key too, so the
    # manifest the model is built from always describes the dataset as configured now.
    key = sha256_json({"format": FORMAT_VERSION, "source": source, "tokenizer": config_hash, **stream_description(spec)})

    existing = _reusable(final, key)
    if existing is not None:
        return {**existing, "reused": True}

    root.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(root, spec.name)
    temp = root / f".{spec.name}.tmp-{os.getpid()}"
    manifest = {
        "format_version": FORMAT_VERSION,
        **stream_description(spec),
        "cache_key": key,
        "source_hash": source,
        "tokenizer": {"config": tokenizer_config, "config_hash": config_hash},
    }
    try:
        manifest.update(_write_shards(table, spec, temp))
        manifest["stream"] = {**manifest["stream"], **fitted_stream_fields(spec, manifest["fit_stats"])}
        write_synced(temp / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
        fsync_dir(temp)
        _swap_in(temp, final)
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # only left when something failed
    return manifest


def _task_entry(task: TaskSpec) -> dict:
    entry = {"name": task.name, "kind": task.kind, "num_classes": task.num_classes, "classes": list(task.classes)}
    if task.kind == "dense":
        entry["outputs_per_token"] = task.outputs_per_token
    if task.ignore_index is not None:
        entry["ignore_index"] = task.ignore_index
    return entry


def stream_description(spec: DatasetSpec) -> dict:
    """The manifest fields that describe the dataset to the network: its name, stream and tasks."""
    return {"dataset": spec.name, "stream": stream_entry(spec), "tasks": [_task_entry(t) for t in spec.tasks]}


def stream_entry(spec: DatasetSpec) -> dict:
    """What the network needs to know of the dataset besides its token shape (see ModalityConfig)."""
    return {"modality": spec.modality, "embedding": spec.embedding, "mask_ratio": spec.mask.ratio,
            "mask_strategy": spec.mask.strategy, "tube_period": spec.mask.tube_period,
            "norm_targets": spec.norm_targets, "reconstruction": spec.reconstruction, "vocab_size": spec.vocab_size,
            "settings": spec.settings}


def fitted_stream_fields(spec: DatasetSpec, stats: dict) -> dict:
    """What the network needs of the fitted tokenizer, from `tokenizer.stream_fields(stats)` when the
    tokenizer has it (a table's per-column vocabulary sizes); added to the manifest's stream block."""
    fields = getattr(spec.tokenizer, "stream_fields", None)
    return fields(stats) if fields is not None else {}


def _reusable(directory: Path, key: str) -> dict | None:
    if not (directory / MANIFEST).is_file():
        return None
    try:
        manifest = load_manifest(directory)
        if manifest.get("cache_key") != key:
            return None
        verify_cache(directory, manifest)
    except (CorruptCacheError, KeyError, TypeError):
        return None  # rebuilt below
    return manifest


def _write_shards(table: pd.DataFrame, spec: DatasetSpec, temp: Path) -> dict:
    """Fit on train, transform each split, write `<temp>/<split>/part-00000.arrow`; manifest fields."""
    if temp.exists():
        shutil.rmtree(temp)
    ordered = table.sort_values("sample_id", kind="stable")  # shard content is a function of the key
    parts = {split: ordered[ordered["split"] == split] for split in SPLITS}
    stats = spec.tokenizer.fit(decode_payloads(parts["train"]))
    splits, token_shape, schema = {}, None, None
    for split, rows in parts.items():
        samples = decode_payloads(rows)
        tokens = spec.tokenizer.transform(samples, stats) if samples else None  # [B, N, P]
        if tokens is None:
            tokens = np.zeros((0, *(token_shape or _probe_shape(spec, parts["train"], stats))), np.float32)
        if not np.isfinite(tokens).all():
            raise UnvalidatedTableError(f"dataset {spec.name!r}: tokenizer produced non-finite tokens for split {split!r}")
        token_shape = list(tokens.shape[1:])
        targets = {t.name: _target_array(rows, t, spec, token_shape[0]) for t in spec.tasks}
        arrow = shard_table(rows["sample_id"].astype(str).tolist(), targets, tokens)
        schema = [{"name": f.name, "type": str(f.type)} for f in arrow.schema]
        path = temp / split / SHARD
        path.parent.mkdir(parents=True)
        write_shard(arrow, path)
        fsync_file(path)
        fsync_dir(path.parent)
        splits[split] = {"rows": int(arrow.num_rows), "file": f"{split}/{SHARD}", "sha256": sha256_file(path)}
    return {"fit_stats": stats, "token_shape": token_shape, "schema": schema, "splits": splits}


def _probe_shape(spec: DatasetSpec, train: pd.DataFrame, stats: dict) -> list[int]:
    """Token shape `[N, P]` for an empty split: transform one train sample."""
    return list(spec.tokenizer.transform(decode_payloads(train.head(1)), stats).shape[1:])


def _target_array(rows: pd.DataFrame, task: TaskSpec, spec: DatasetSpec, num_tokens: int) -> np.ndarray:
    """Targets of one split: `[B]` (int64 classes, float64 values) or `[B, N, K]` int64 for dense tasks."""
    if task.kind != "dense":
        return rows[task.name].to_numpy(dtype=np.int64 if task.kind == "classification" else np.float64)
    transform_dense = getattr(spec.tokenizer, "transform_dense", None)
    if transform_dense is None:
        raise TypeError(f"dataset {spec.name!r}: dense task {task.name!r} needs a tokenizer with transform_dense")
    maps = decode_label_maps(rows, task)
    if not maps:
        return np.zeros((0, num_tokens, task.outputs_per_token), np.int64)
    labels = np.asarray(transform_dense(maps, task), dtype=np.int64)
    if labels.shape != (len(maps), num_tokens, task.outputs_per_token):
        raise ValueError(f"dataset {spec.name!r}: transform_dense gave {labels.shape} for task {task.name!r}, "
                         f"expected {(len(maps), num_tokens, task.outputs_per_token)}")
    bad = (labels < 0).any(axis=(1, 2)) | (labels >= task.num_classes).any(axis=(1, 2))
    if bad.any():
        ids = rows["sample_id"].astype(str).to_numpy()[bad][:5].tolist()
        raise UnvalidatedTableError(f"dataset {spec.name!r}: refusing to tokenize {int(bad.sum())} sample(s) with "
                                    f"labels of {task.name!r} outside 0..{task.num_classes - 1} (e.g. {', '.join(ids)})")
    return labels


def _swap_in(temp: Path, final: Path) -> None:
    """Replace `final` by `temp` with renames; the old cache is moved aside first, then deleted."""
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.rename(final, old)
    os.rename(temp, final)
    fsync_dir(final.parent)
    if old.exists():
        shutil.rmtree(old)


def _remove_leftovers(root: Path, modality: str) -> None:
    """Delete temp/old dirs of builds whose process is gone (a crash); live builds are left alone."""
    pattern = re.compile(rf"^\.{re.escape(modality)}\.(tmp|old)-(\d+)$")
    for path in root.iterdir():
        match = pattern.match(path.name)
        if match and (int(match.group(2)) == os.getpid() or not process_alive(int(match.group(2)))):
            shutil.rmtree(path, ignore_errors=True)
