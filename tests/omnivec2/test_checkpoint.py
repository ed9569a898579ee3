"""Checkpoints: no pickle anywhere, a write killed mid-way (SIGKILL of a forked process) never yields a
half checkpoint, and damaged files are refused with a message naming them."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import signal

import pytest
import torch

from omnivec2 import checkpoint as checkpoint_module
from omnivec2.checkpoint import (
    CorruptCheckpointError,
    load_model,
    load_trainer_state,
    read_config,
    remove_dead_leftovers,
    save_checkpoint,
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


def save(trainer, path, step):
    return save_checkpoint(path, trainer.model, {"step": step}, trainer.state_dict())


def test_a_checkpoint_is_safetensors_and_json_and_loads_without_pickle(tmp_path, trainer, monkeypatch):
    save(trainer, tmp_path / "ckpt", 2)
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == ["checksums.json", "config.json", "model.safetensors", "trainer.json", "trainer.safetensors"]

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


def save_and_die(trainer, path, where: str) -> int:
    """save_checkpoint in a forked child that SIGKILLs itself at `where`; returns its pid."""

    def child():
        if where == "before checksums":  # weights, config and trainer state written, checksums not yet
            def die(directory):
                os.kill(os.getpid(), signal.SIGKILL)

            checkpoint_module.write_checksums = die
        else:  # between the two renames: the previous checkpoint set aside, the new one not yet in place
            real_rename = os.rename

            def rename_then_die(src, dst):
                real_rename(src, dst)
                if ".old-" in str(dst):
                    os.kill(os.getpid(), signal.SIGKILL)

            checkpoint_module.os.rename = rename_then_die
        save(trainer, path, 4)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    return process.pid


def test_a_write_killed_before_the_swap_leaves_the_previous_checkpoint(tmp_path, trainer):
    save(trainer, tmp_path / "ckpt", 2)
    pid = save_and_die(trainer, tmp_path / "ckpt", "before checksums")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".ckpt.tmp-{pid}-")]
    assert len(leftovers) == 1
    assert read_config(tmp_path / "ckpt")[1] == {"step": 2}  # the old one, complete
    load_model(tmp_path / "ckpt")
    save(trainer, tmp_path / "ckpt", 6)  # the next write removes the dead writer's temp dir
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_a_write_killed_between_the_renames_is_reported_and_recovered(tmp_path, trainer):
    save(trainer, tmp_path / "ckpt", 2)
    save_and_die(trainer, tmp_path / "ckpt", "swap")
    assert not (tmp_path / "ckpt").exists()
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*ckpt: model.safetensors is missing; an "
                                                r"interrupted write set the previous version aside as .*\.ckpt\.old-"):
        load_model(tmp_path / "ckpt")
    remove_dead_leftovers(tmp_path / "ckpt")  # what the next write does first: put the previous version back
    assert read_config(tmp_path / "ckpt")[1] == {"step": 2}
    load_model(tmp_path / "ckpt")


@pytest.mark.parametrize("damage, message", [
    ("truncate weights", r"model\.safetensors: sha256 .* does not match checksums\.json"),
    ("flip a byte of the optimizer state", r"trainer\.safetensors: sha256 .* does not match checksums\.json"),
    ("delete trainer state", r"trainer\.safetensors: listed in checksums\.json but missing"),
    ("truncate config", r"config\.json: sha256 .* does not match"),
    ("truncate weights, no checksums", r"model\.safetensors: not a readable safetensors file"),
    ("truncate config, no checksums", r"config\.json: not valid JSON"),
])
def test_a_damaged_checkpoint_is_refused_naming_the_file(tmp_path, trainer, damage, message):
    path = save(trainer, tmp_path / "ckpt", 2)
    if "no checksums" in damage:  # a checkpoint written before checksums existed
        (path / "checksums.json").unlink()
    target = {"weights": "model.safetensors", "optimizer": "trainer.safetensors", "trainer": "trainer.safetensors",
              "config": "config.json"}
    name = next(v for k, v in target.items() if k in damage)
    data = (path / name).read_bytes()
    if damage.startswith("truncate"):
        (path / name).write_bytes(data[: len(data) // 2])
    elif damage.startswith("flip"):
        (path / name).write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    else:
        (path / name).unlink()
    with pytest.raises(CorruptCheckpointError, match=message):
        load_model(path)
        load_trainer_state(path)


def test_checksums_cover_every_file_written(tmp_path, trainer):
    path = save(trainer, tmp_path / "ckpt", 2)
    sums = json.loads((path / "checksums.json").read_text())
    assert sorted(sums) == ["config.json", "model.safetensors", "trainer.json", "trainer.safetensors"]
