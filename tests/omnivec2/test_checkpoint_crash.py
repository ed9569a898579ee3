"""A checkpoint writer killed (SIGKILL of a forked process) before, in the middle of or after any file of
the format, or between the two renames of the swap: a reader finds the previous checkpoint complete
(or, on a first write, a clear error), and the next write cleans up.

Every file goes through `checkpoint.write_part`; the child replaces it with one that dies at the chosen
file. The parameters are generated from the format's own file lists, so a file added to the format
is crash-tested without editing this module."""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest

from omnivec2 import checkpoint as checkpoint_module
from omnivec2.checkpoint import (CHECKPOINT_FILES, CHECKSUMS, load_model, load_rank_state, load_trainer_state,
                                 rank_checksums, rank_files, read_config, read_history, remove_dead_leftovers,
                                 save_checkpoint, save_rank_state, verify_checkpoint)
from omnivec2.training.config import TrainConfig
from omnivec2.training.trainer import StageTrainer
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

WHEN = ("before", "half-written")  # "after" only for the manifest: every file there, not yet swapped in
RANK0_KILLS = [(name, when) for name in (*CHECKPOINT_FILES, CHECKSUMS) for when in WHEN] + [(CHECKSUMS, "after")]
RANK1_KILLS = [(name, when) for name in (*rank_files(1), rank_checksums(1)) for when in WHEN] + \
    [(rank_checksums(1), "after")]


@pytest.fixture(scope="module")
def trainer():
    trainer = StageTrainer(tiny_model(0), fixed_data(rows=8),
                           TrainConfig(stage="train_multitask", steps=4, batch_size=8, balancing="uncertainty"))
    trainer.train_step()
    return trainer


def save(trainer, path, step):
    history = [{"step": s, "loss": 1.0 / s} for s in range(1, step + 1)]
    return save_checkpoint(path, trainer.model, {"step": step}, trainer.state_dict(), history, [{"step": step}])


def save_rank(trainer, path, step):
    save_rank_state(path, 1, {**trainer.rank_state_dict(), "step": step})


def die_in(write, name: str, when: str) -> int:
    """Run write() in a forked child that SIGKILLs itself `when` it writes the file `name` (or, for
    "swap", right after the previous checkpoint is set aside); returns the child's pid."""

    def child():
        if when == "swap":
            real_rename = os.rename

            def rename_then_die(src, dst):
                real_rename(src, dst)
                if ".old-" in str(dst):
                    os.kill(os.getpid(), signal.SIGKILL)

            checkpoint_module.os.rename = rename_then_die
        else:
            real_write_part = checkpoint_module.write_part

            def write_part_or_die(directory, part, write_file):
                if part == name and when == "before":
                    os.kill(os.getpid(), signal.SIGKILL)
                digest = real_write_part(directory, part, write_file)
                if part == name and when == "half-written":
                    data = (directory / part).read_bytes()
                    (directory / part).write_bytes(data[: len(data) // 2])
                if part == name:
                    os.kill(os.getpid(), signal.SIGKILL)
                return digest

            checkpoint_module.write_part = write_part_or_die
        write()

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL, f"the writer was not killed at {name} ({when})"
    return process.pid


def assert_is_the_step_2_checkpoint(path):
    verify_checkpoint(path)
    assert read_config(path)[1] == {"step": 2}
    load_model(path)
    assert load_trainer_state(path)["step"] == 1
    history, resumes = read_history(path)
    assert [row["step"] for row in history] == [1, 2] and resumes == [{"step": 2}]


@pytest.mark.parametrize("name, when", RANK0_KILLS, ids=[f"{when} {name}" for name, when in RANK0_KILLS])
def test_a_checkpoint_write_killed_at_any_file_leaves_the_previous_checkpoint(tmp_path, trainer, name, when):
    save(trainer, tmp_path / "ckpt", 2)
    pid = die_in(lambda: save(trainer, tmp_path / "ckpt", 4), name, when)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".ckpt.tmp-{pid}-")]  # the dead writer's
    assert_is_the_step_2_checkpoint(tmp_path / "ckpt")
    save(trainer, tmp_path / "ckpt", 6)  # the next write removes the dead writer's temp dir
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    assert read_config(tmp_path / "ckpt")[1] == {"step": 6}


@pytest.mark.parametrize("name", [*CHECKPOINT_FILES, CHECKSUMS])
def test_a_first_checkpoint_write_killed_at_any_file_leaves_no_checkpoint_and_a_clear_error(tmp_path, trainer, name):
    die_in(lambda: save(trainer, tmp_path / "ckpt", 2), name, "half-written")
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*ckpt: model\.safetensors is missing"):
        load_model(tmp_path / "ckpt")


def test_a_checkpoint_write_killed_between_the_renames_is_reported_and_recovered(tmp_path, trainer):
    save(trainer, tmp_path / "ckpt", 2)
    die_in(lambda: save(trainer, tmp_path / "ckpt", 4), "", "swap")
    assert not (tmp_path / "ckpt").exists()
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*ckpt: model.safetensors is missing; an "
                                                r"interrupted write set the previous version aside as .*\.ckpt\.old-"):
        load_model(tmp_path / "ckpt")
    remove_dead_leftovers(tmp_path / "ckpt")  # what the next write does first: put the previous version back
    assert_is_the_step_2_checkpoint(tmp_path / "ckpt")


@pytest.mark.parametrize("name, when", RANK1_KILLS, ids=[f"{when} {name}" for name, when in RANK1_KILLS])
def test_a_rank_state_write_killed_at_any_file_leaves_the_previous_rank_state(tmp_path, trainer, name, when):
    save_rank(trainer, tmp_path / "rank1", 2)
    die_in(lambda: save_rank(trainer, tmp_path / "rank1", 4), name, when)
    assert load_rank_state(tmp_path / "rank1", 1)["step"] == 2
    save_rank(trainer, tmp_path / "rank1", 6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rank1"]
    assert load_rank_state(tmp_path / "rank1", 1)["step"] == 6
