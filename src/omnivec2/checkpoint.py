"""Checkpoints without pickle: safetensors tensors + JSON, written atomically.

A checkpoint directory holds:
    model.safetensors    the network's state dict
    config.json          {"model": ModelConfig.to_dict(), "meta": {...}}
    trainer.safetensors  optimizer moments, learnable balancer weights, RNG states (resume only)
    trainer.json         step, scheduler, samplers, DWA history, optimizer hyper-parameters (resume only)
    checksums.json       sha256 of each file above, written last and checked on every load

Loading never unpickles anything: safetensors holds only tensors and JSON only plain data. A file
that does not match its checksum, a truncated safetensors file or unparsable JSON raises
`CorruptCheckpointError` naming the file; nothing half-written is ever loaded as valid.
Directories are swapped in whole (`write_dir_atomically`); leftovers of a writer that died are
removed by the next write.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from omnivec2.durable_files import fsync_dir, process_alive, sha256_file
from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2

MODEL_FILE, CONFIG_FILE = "model.safetensors", "config.json"
TRAINER_TENSORS, TRAINER_JSON = "trainer.safetensors", "trainer.json"
CHECKSUMS = "checksums.json"


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


def write_checksums(directory: Path) -> None:
    """sha256 of every file in `directory` (written last: a checkpoint without it is incomplete)."""
    sums = {f.name: sha256_file(f) for f in sorted(Path(directory).iterdir()) if f.is_file() and f.name != CHECKSUMS}
    (Path(directory) / CHECKSUMS).write_text(json.dumps(sums, indent=2, sort_keys=True))


def verify_checkpoint(path: str | Path) -> None:
    """Check each file listed in checksums.json; raise CorruptCheckpointError naming the first bad one.
    Checkpoints written before checksums existed have none and are only checked as they are parsed."""
    path = Path(path)
    sums_file = path / CHECKSUMS
    if not sums_file.exists():
        return
    sums = _read_json(sums_file)
    for name, expected in sums.items():
        f = path / name
        if not f.is_file():
            raise CorruptCheckpointError(f"{f}: listed in {CHECKSUMS} but missing (an incomplete checkpoint)")
        actual = sha256_file(f)
        if actual != expected:
            raise CorruptCheckpointError(
                f"{f}: sha256 {actual[:16]}... does not match {CHECKSUMS} ({expected[:16]}...): "
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


def save_checkpoint(path: str | Path, model: OmniVec2, meta: dict | None = None,
                    trainer_state: dict | None = None) -> Path:
    """Write model weights + config (+ trainer state for resuming) to `path` atomically."""
    path = Path(path)

    def write(tmp: Path) -> None:
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / MODEL_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps({"model": model.config.to_dict(), "meta": meta or {}}, indent=2))
        if trainer_state is not None:
            tensors, plain = split_tensors(trainer_state)
            save_file(tensors, str(tmp / TRAINER_TENSORS))
            (tmp / TRAINER_JSON).write_text(json.dumps(plain))
        write_checksums(tmp)

    write_dir_atomically(path, write)
    return path


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
    """One worker's own state (`rank-<r>.safetensors` + `.json`), next to rank 0's checkpoint files;
    Ray Train merges the files that every worker reports into one checkpoint directory."""
    tensors, plain = split_tensors(state)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path / f"rank-{rank}.safetensors"))
    digest = sha256_file(path / f"rank-{rank}.safetensors")
    (path / f"rank-{rank}.json").write_text(json.dumps({"state": plain, "tensors_sha256": digest}))


def load_rank_state(path: str | Path, rank: int) -> dict | None:
    path = Path(path)
    if not (path / f"rank-{rank}.json").exists():
        return None
    data = _read_json(path / f"rank-{rank}.json")
    tensors_file = path / f"rank-{rank}.safetensors"
    if not tensors_file.is_file() or sha256_file(tensors_file) != data.get("tensors_sha256"):
        raise CorruptCheckpointError(f"{tensors_file}: missing or does not match rank-{rank}.json's sha256")
    return join_tensors(_load_tensors(tensors_file), data["state"])


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
