"""Checkpoints without pickle: safetensors tensors + JSON, written atomically. The whole format is here.

A checkpoint directory holds (`CHECKPOINT_FILES`, in the order they are written):
    model.safetensors    the network's state dict
    config.json          {"model": ModelConfig.to_dict(), "meta": {...}} (meta: stage, step, world_size, ...)
    trainer.safetensors  optimizer moments, learnable balancer weights, RNG states (resume only)
    trainer.json         step, scheduler, samplers, DWA history, optimizer hyper-parameters (resume only)
    history.json         the logged metric rows up to this step (a training stage's checkpoint)
    resumes.json         the steps at which the stage was resumed (a training stage's checkpoint)
    checksums.json       sha256 of each file above, written last and checked on every load
and, with W > 1 data-parallel workers, for each rank r in 1..W-1 (`rank_files(r)`):
    rank-<r>.safetensors, rank-<r>.json   that worker's own streams, mask generator and RNG states
    rank-<r>.checksums.json               sha256 of those two, written last

Per-rank files: under Ray Train every worker reports its own directory and Ray merges them into one
checkpoint, so rank 0 cannot checksum the other ranks' files. Each rank therefore writes its files
and their manifest (`rank-<r>.checksums.json`) atomically in its own directory, exactly as rank 0
writes its own; rank 0 records `world_size` in config.json's meta, so a reader knows which rank
manifests must be there. `verify_checkpoint` checks checksums.json, then every rank manifest, and
refuses a checkpoint that lacks one of its ranks.

Every file goes through `write_part`, inside `write_dir_atomically`: a writer killed between any two
files (or mid-file) leaves a temporary directory that no reader looks at and the next write removes.
Loading never unpickles anything. A file that does not match its checksum, a truncated safetensors
file or unparsable JSON raises `CorruptCheckpointError` naming the file; nothing half-written is
ever loaded as valid.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from omnivec2.durable_files import fsync_dir, process_alive, sha256_file
from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2

MODEL_FILE, CONFIG_FILE = "model.safetensors", "config.json"
TRAINER_TENSORS, TRAINER_JSON = "trainer.safetensors", "trainer.json"
HISTORY_FILE, RESUMES_FILE = "history.json", "resumes.json"
CHECKSUMS = "checksums.json"
CHECKPOINT_FILES = (MODEL_FILE, CONFIG_FILE, TRAINER_TENSORS, TRAINER_JSON, HISTORY_FILE, RESUMES_FILE)


def rank_files(rank: int) -> tuple[str, str]:
    """Rank r's own state files (r >= 1), in the order they are written."""
    return f"rank-{rank}.safetensors", f"rank-{rank}.json"


def rank_checksums(rank: int) -> str:
    return f"rank-{rank}.checksums.json"


_RANK_MANIFEST = re.compile(r"^rank-(\d+)\.checksums\.json$")


class CorruptCheckpointError(ValueError):
    """A checkpoint file is truncated, altered or unparsable; the message names the file."""


def write_dir_atomically(target: Path, write) -> None:
    """Run write(tmp_dir) then swap tmp_dir into place, so readers see the old or the new directory, never half.

    The temp and set-aside names carry the writer's pid (`.<name>.tmp-<pid>-<id>`, `.<name>.old-<pid>-<id>`),
    so a later write can tell the leftovers of a dead writer (removed) from a live one's (left alone).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_leftovers(target)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write(tmp)
        for f in tmp.iterdir():
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        fsync_dir(tmp)
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
        os.rename(tmp, target)
        fsync_dir(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _leftovers(target: Path):
    """(path, kind, pid) of temp/set-aside directories next to `target`."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp|old)-(\d+)-[0-9a-f]+$")
    if not target.parent.is_dir():
        return
    for path in target.parent.iterdir():
        match = pattern.match(path.name)
        if match:
            yield path, match.group(1), int(match.group(2))


def remove_dead_leftovers(target: Path) -> list[Path]:
    """Delete temp/set-aside directories of writers that are gone (a crash mid-write); returns them.
    A set-aside previous version is put back first when the crash came between the two renames."""
    removed = []
    for path, kind, pid in sorted(_leftovers(Path(target))):
        if pid == os.getpid() or process_alive(pid):
            continue
        if kind == "old" and not Path(target).exists():
            os.rename(path, target)  # the previous complete version, set aside just before the crash
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def write_part(directory: Path, name: str, write: Callable[[Path], None]) -> str:
    """Write one file of a checkpoint with `write(path)` and return its sha256. Every file of the
    format is written through here, inside `write_dir_atomically` (the crash tests stop a writer here)."""
    write(Path(directory) / name)
    return sha256_file(Path(directory) / name)


def write_parts(directory: Path, parts: dict[str, Callable[[Path], None]], manifest: str) -> None:
    """Write `parts` in order, then `manifest`: the sha256 of each of them (a directory without it is incomplete)."""
    sums = {name: write_part(directory, name, write) for name, write in parts.items()}
    text = json.dumps(sums, indent=2, sort_keys=True)
    write_part(directory, manifest, lambda f: f.write_text(text))


def verify_checkpoint(path: str | Path) -> None:
    """Check each file listed in checksums.json and in every rank's manifest, and that each rank of
    the `world_size` recorded in config.json has its manifest; raise CorruptCheckpointError naming
    the first bad file. Checkpoints written before checksums existed are only checked as they are parsed."""
    path = Path(path)
    if not (path / CHECKSUMS).exists():
        return
    _verify_manifest(path, CHECKSUMS)
    world_size = int(_read_json(path / CONFIG_FILE).get("meta", {}).get("world_size", 1)) \
        if (path / CONFIG_FILE).is_file() else 1
    present = {int(m.group(1)) for f in path.iterdir() if (m := _RANK_MANIFEST.match(f.name))}
    for rank in range(1, world_size):
        if rank not in present:
            raise CorruptCheckpointError(f"{path / rank_checksums(rank)}: missing, but the checkpoint was written by "
                                         f"{world_size} workers (an incomplete checkpoint)")
    for rank in sorted(present):
        _verify_manifest(path, rank_checksums(rank))


def _verify_manifest(path: Path, manifest: str) -> None:
    sums = _read_json(path / manifest)
    for name, expected in sums.items():
        f = path / name
        if not f.is_file():
            raise CorruptCheckpointError(f"{f}: listed in {manifest} but missing (an incomplete checkpoint)")
        actual = sha256_file(f)
        if actual != expected:
            raise CorruptCheckpointError(
                f"{f}: sha256 {actual[:16]}... does not match {manifest} ({expected[:16]}...): "
                "the file was truncated or altered; re-run the stage or restore the checkpoint")


def _read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptCheckpointError(f"{path}: not valid JSON ({error}); the checkpoint is damaged") from None


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not Path(path).is_file():
        raise _missing(Path(path))
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CorruptCheckpointError(f"{path}: not a readable safetensors file ({error}); the checkpoint is damaged") from None


def _missing(path: Path) -> FileNotFoundError:
    directory = path.parent
    hint = ""
    if not directory.exists():
        left = [p.name for p, kind, _ in _leftovers(directory) if kind == "old"]
        if left:
            hint = f"; an interrupted write set the previous version aside as {directory.parent / left[0]}"
    return FileNotFoundError(f"no checkpoint at {directory}: {path.name} is missing{hint}")


def save_checkpoint(path: str | Path, model: OmniVec2, meta: dict | None = None, trainer_state: dict | None = None,
                    history: list[dict] | None = None, resumes: list[dict] | None = None) -> Path:
    """Write model weights + config (+ trainer state, metric history and resume log of a training
    stage) and their checksums to `path` atomically; files whose argument is None are left out."""
    path = Path(path)
    config = {"model": model.config.to_dict(), "meta": meta or {}}
    parts = {MODEL_FILE: lambda f: save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()},
                                             str(f)),
             CONFIG_FILE: lambda f: f.write_text(json.dumps(config, indent=2))}
    if trainer_state is not None:
        tensors, plain = split_tensors(trainer_state)
        parts[TRAINER_TENSORS] = lambda f: save_file(tensors, str(f))
        parts[TRAINER_JSON] = lambda f: f.write_text(json.dumps(plain))
    for name, rows in ((HISTORY_FILE, history), (RESUMES_FILE, resumes)):
        if rows is not None:
            parts[name] = lambda f, rows=rows: f.write_text(json.dumps(rows))
    assert list(parts) == [name for name in CHECKPOINT_FILES if name in parts]  # the format's order
    write_dir_atomically(path, lambda tmp: write_parts(tmp, parts, CHECKSUMS))
    return path


def read_history(path: str | Path) -> tuple[list[dict], list[dict]]:
    """(metric history, resume log) of a training stage's checkpoint; empty lists where absent."""
    return _json_list(Path(path) / HISTORY_FILE), _json_list(Path(path) / RESUMES_FILE)


def _json_list(path: Path) -> list:
    if not path.exists():
        return []
    value = _read_json(path)
    return value if isinstance(value, list) else []


def read_config(path: str | Path) -> tuple[ModelConfig, dict]:
    file = Path(path) / CONFIG_FILE
    if not file.is_file():
        raise _missing(file)
    data = _read_json(file)
    return ModelConfig.from_dict(data["model"]), data.get("meta", {})


def load_model(path: str | Path, config: ModelConfig | None = None, strict: bool = True) -> OmniVec2:
    """Rebuild the network from config.json (or `config`) and load its safetensors weights."""
    path = Path(path)
    if not (path / MODEL_FILE).exists():
        raise _missing(path / MODEL_FILE)
    verify_checkpoint(path)
    config = config or read_config(path)[0]
    model = OmniVec2(config)
    load_weights(model, path, strict=strict)
    return model


def load_weights(model: OmniVec2, path: str | Path, strict: bool = True) -> list[str]:
    """Load weights into an existing model; with strict=False, tensors missing from the checkpoint
    (new modalities, heads or a changed ablation) keep their initialisation. Returns those names."""
    verify_checkpoint(path)
    state = _load_tensors(Path(path) / MODEL_FILE)
    own = model.state_dict()
    if not strict:
        state = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    result = model.load_state_dict(state, strict=strict)
    return list(result.missing_keys)


def load_trainer_state(path: str | Path) -> dict | None:
    path = Path(path)
    if not (path / TRAINER_JSON).exists():
        return None
    verify_checkpoint(path)
    return join_tensors(_load_tensors(path / TRAINER_TENSORS), _read_json(path / TRAINER_JSON))


def save_rank_state(path: str | Path, rank: int, state: dict) -> None:
    """One worker's own state (`rank_files(rank)` + its manifest), written atomically into its own
    directory `path`; Ray Train merges every worker's directory into one checkpoint."""
    tensors, plain = split_tensors(state)
    tensors_file, json_file = rank_files(rank)
    parts = {tensors_file: lambda f: save_file(tensors, str(f)), json_file: lambda f: f.write_text(json.dumps(plain))}
    write_dir_atomically(Path(path), lambda tmp: write_parts(tmp, parts, rank_checksums(rank)))


def load_rank_state(path: str | Path, rank: int) -> dict | None:
    """Rank r's own state, or None when the checkpoint has none (one worker, or the rank was added)."""
    path = Path(path)
    tensors_file, json_file = rank_files(rank)
    if not (path / json_file).exists():
        return None
    if (path / rank_checksums(rank)).exists():
        _verify_manifest(path, rank_checksums(rank))
    else:
        raise CorruptCheckpointError(f"{path / rank_checksums(rank)}: missing next to {json_file} (an incomplete "
                                     "checkpoint)")
    return join_tensors(_load_tensors(path / tensors_file), _read_json(path / json_file))


# Nested trainer state <-> (flat tensor dict, JSON with placeholders) ------------------------------
_TENSOR_REF = "__tensor__"


def split_tensors(state, prefix: str = "") -> tuple[dict[str, torch.Tensor], object]:
    tensors: dict[str, torch.Tensor] = {}

    def walk(obj, key):
        if isinstance(obj, torch.Tensor):
            tensors[key] = obj.detach().contiguous().cpu()
            return {_TENSOR_REF: key}
        if isinstance(obj, dict):
            return {str(k): walk(v, f"{key}.{k}") for k, v in obj.items()} | (
                {"__int_keys__": True} if obj and all(isinstance(k, int) for k in obj) else {}
            )
        if isinstance(obj, (list, tuple)):
            return [walk(v, f"{key}.{i}") for i, v in enumerate(obj)]
        return obj

    return tensors, walk(state, prefix or "state")


def join_tensors(tensors: dict[str, torch.Tensor], plain):
    def walk(obj):
        if isinstance(obj, dict):
            if _TENSOR_REF in obj:
                return tensors[obj[_TENSOR_REF]]
            int_keys = obj.pop("__int_keys__", False)
            return {(int(k) if int_keys else k): walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return walk(plain)
