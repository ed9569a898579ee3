"""Checkpoints without pickle: safetensors tensors + JSON, written atomically.

A checkpoint directory holds:
    model.safetensors    the network's state dict
    config.json          {"model": ModelConfig.to_dict(), "meta": {...}}
    trainer.safetensors  optimizer moments, learnable balancer weights, RNG states (resume only)
    trainer.json         step, scheduler, samplers, DWA history, optimizer hyper-parameters (resume only)
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from omnivec2.model.config import ModelConfig
from omnivec2.model.omnivec2 import OmniVec2

MODEL_FILE, CONFIG_FILE = "model.safetensors", "config.json"
TRAINER_TENSORS, TRAINER_JSON = "trainer.safetensors", "trainer.json"


def write_dir_atomically(target: Path, write) -> None:
    """Run write(tmp_dir) then swap tmp_dir into place, so readers see the old or the new directory, never half."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write(tmp)
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(target, old)
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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

    write_dir_atomically(path, write)
    return path


def read_config(path: str | Path) -> tuple[ModelConfig, dict]:
    data = json.loads((Path(path) / CONFIG_FILE).read_text())
    return ModelConfig.from_dict(data["model"]), data.get("meta", {})


def load_model(path: str | Path, config: ModelConfig | None = None, strict: bool = True) -> OmniVec2:
    """Rebuild the network from config.json (or `config`) and load its safetensors weights."""
    path = Path(path)
    if not (path / MODEL_FILE).exists():
        raise FileNotFoundError(f"no checkpoint at {path}: {MODEL_FILE} is missing")
    config = config or read_config(path)[0]
    model = OmniVec2(config)
    load_weights(model, path, strict=strict)
    return model


def load_weights(model: OmniVec2, path: str | Path, strict: bool = True) -> list[str]:
    """Load weights into an existing model; with strict=False, tensors missing from the checkpoint
    (new modalities, heads or a changed ablation) keep their initialisation. Returns those names."""
    state = load_file(str(Path(path) / MODEL_FILE))
    own = model.state_dict()
    if not strict:
        state = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    result = model.load_state_dict(state, strict=strict)
    return list(result.missing_keys)


def load_trainer_state(path: str | Path) -> dict | None:
    path = Path(path)
    if not (path / TRAINER_JSON).exists():
        return None
    return join_tensors(load_file(str(path / TRAINER_TENSORS)), json.loads((path / TRAINER_JSON).read_text()))


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
