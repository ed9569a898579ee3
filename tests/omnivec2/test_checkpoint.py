"""Checkpoints: no pickle anywhere, and damaged files are refused with a message naming them (writers
killed mid-write: test_checkpoint_crash.py)."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from omnivec2.checkpoint import (
    CHECKPOINT_FILES,
    CorruptCheckpointError,
    load_model,
    load_rank_state,
    load_trainer_state,
    read_history,
    save_checkpoint,
    save_rank_state,
    verify_checkpoint,
)
from omnivec2.training.config import TrainConfig
from omnivec2.training.trainer import StageTrainer
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data


def trained(steps: int = 2) -> StageTrainer:
    trainer = StageTrainer(tiny_model(0), fixed_data(rows=8),
                           TrainConfig(stage="train_multitask", steps=4, batch_size=8, balancing="uncertainty"))
    for _ in range(steps):
        trainer.train_step()
    return trainer


@pytest.fixture(scope="module")
def trainer():
    return trained()


HISTORY = [{"step": 2, "loss": 1.5}]
RESUMES = [{"step": 1, "attempt": 1}]


def save(trainer, path, step, **meta):
    return save_checkpoint(path, trainer.model, {"step": step, **meta}, trainer.state_dict(), HISTORY, RESUMES)


def test_a_checkpoint_is_safetensors_and_json_and_loads_without_pickle(tmp_path, trainer, monkeypatch):
    save(trainer, tmp_path / "ckpt", 2)
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == sorted([*CHECKPOINT_FILES, "checksums.json"])

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling")

    for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(module, name, refuse)
    model = load_model(tmp_path / "ckpt")
    state = load_trainer_state(tmp_path / "ckpt")
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor)
    assert state["step"] == 2 and set(state["balancer"]) == {"log_vars." + t for t in trainer.tasks}
    assert state["optimizer"]["state"] and isinstance(state["global_rng"]["torch"], torch.Tensor)
    assert read_history(tmp_path / "ckpt") == (HISTORY, RESUMES)


DAMAGE = {  # what is done to which file -> the error message
    "truncate weights": r"model\.safetensors: sha256 .* does not match checksums\.json",
    "flip a byte of the optimizer state": r"trainer\.safetensors: sha256 .* does not match checksums\.json",
    "delete trainer state": r"trainer\.safetensors: listed in checksums\.json but missing",
    "truncate config": r"config\.json: sha256 .* does not match",
    "flip a byte of the history": r"history\.json: sha256 .* does not match checksums\.json",
    "delete resumes": r"resumes\.json: listed in checksums\.json but missing",
    "truncate weights, no checksums": r"model\.safetensors: not a readable safetensors file",
    "truncate config, no checksums": r"config\.json: not valid JSON",
}
TARGET = {"weights": "model.safetensors", "optimizer": "trainer.safetensors", "trainer": "trainer.safetensors",
          "config": "config.json", "history": "history.json", "resumes": "resumes.json"}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_checkpoint_is_refused_naming_the_file(tmp_path, trainer, damage):
    path = save(trainer, tmp_path / "ckpt", 2)
    if "no checksums" in damage:  # a checkpoint written before checksums existed
        (path / "checksums.json").unlink()
    name = next(v for k, v in TARGET.items() if k in damage)
    data = (path / name).read_bytes()
    if damage.startswith("truncate"):
        (path / name).write_bytes(data[: len(data) // 2])
    elif damage.startswith("flip"):
        (path / name).write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    else:
        (path / name).unlink()
    with pytest.raises(CorruptCheckpointError, match=DAMAGE[damage]):
        load_model(path)
        load_trainer_state(path)
        read_history(path)


def test_checksums_cover_every_file_written(tmp_path, trainer):
    path = save(trainer, tmp_path / "ckpt", 2)
    sums = json.loads((path / "checksums.json").read_text())
    assert sorted(sums) == sorted(CHECKPOINT_FILES)


def merged_two_worker_checkpoint(trainer, tmp_path):
    """What Ray Train makes of two workers' reports: rank 0's directory and rank 1's, merged."""
    path = save(trainer, tmp_path / "rank0", 2, world_size=2)
    save_rank_state(tmp_path / "rank1", 1, trainer.rank_state_dict())
    for f in (tmp_path / "rank1").iterdir():
        f.rename(path / f.name)
    return path


def test_each_rank_s_files_are_covered_by_its_own_manifest(tmp_path, trainer):
    path = merged_two_worker_checkpoint(trainer, tmp_path)
    assert json.loads((path / "rank-1.checksums.json").read_text()).keys() == {"rank-1.safetensors", "rank-1.json"}
    verify_checkpoint(path)
    assert load_rank_state(path, 1)["step"] == trainer.step
    data = (path / "rank-1.json").read_bytes()
    (path / "rank-1.json").write_bytes(data.replace(b'"step": ', b'"step":  '))
    with pytest.raises(CorruptCheckpointError, match=r"rank-1\.json: sha256 .* does not match rank-1\.checksums\.json"):
        load_rank_state(path, 1)


def test_a_merged_checkpoint_without_one_of_its_ranks_is_refused_naming_the_manifest(tmp_path, trainer):
    path = merged_two_worker_checkpoint(trainer, tmp_path)
    for name in ("rank-1.safetensors", "rank-1.json", "rank-1.checksums.json"):
        (path / name).unlink()
    with pytest.raises(CorruptCheckpointError, match=r"rank-1\.checksums\.json: missing, but the checkpoint was "
                                                     r"written by 2 workers"):
        load_model(path)
