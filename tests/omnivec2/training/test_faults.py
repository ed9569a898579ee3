"""Fault tolerance of a training stage on Ray Train, and determinism.

A worker that SIGKILLs itself mid-stage (the fault hook in `faults.maybe_inject_fault`, first
attempt only) is restarted by `FailureConfig(max_failures=1)` from the latest registered checkpoint;
with one worker the resumed stage ends bit for bit where an uninterrupted one does, because weights,
optimizer, scheduler, samplers, DWA history, batch streams, mask generator and the process-wide RNGs
are all in the checkpoint. Two uninterrupted runs with the same seed are identical too.
Cost: about 20-25 s per Ray run on 2 CPU cores (mostly Ray start-up), five runs in all. (Re-running a
finished stage is test_launch's.)
"""

from __future__ import annotations

import contextlib
import pickle

import pytest
import torch
from safetensors.torch import load_file

from omnivec2.checkpoint import load_model, load_trainer_state
from omnivec2.durable_files import sha256_file
from omnivec2.model import OmniVec2
from omnivec2.training.data import load_training_data
from omnivec2.training.launch import run_stage_on_ray
from omnivec2.training.stage_launch import StageLaunch
from omnivec2.training.stage_runner import stage_launch
from omnivec2.training.step_loop import train_stage
from omnivec2.training.worker import initial_model

TRAINING = {"steps": 12, "batch_size": 16, "log_every": 2, "checkpoint_every": 4, "seed": 3}
KILL_AT = 10  # checkpoints at 4 and 8; the worker dies after step 10


def launch_for(token_cache, stage, **ray_params) -> StageLaunch:
    root, manifests = token_cache
    return stage_launch(stage, {"training": TRAINING}, {"preset": "tiny"}, root, manifests, None, None,
                        {"num_workers": 1, "storage_path": "unused", **ray_params})


def without_timings(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if not k.startswith("time/")} for row in history]


def uninterrupted_in_process(launch: StageLaunch) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """The stage as one uninterrupted worker runs it (1 thread, as Ray gives a 1-CPU worker)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = initial_model(launch)
        _, history = train_stage(model, load_training_data(launch.cache_root, launch.modalities), launch.train)
        return model.state_dict(), history
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def no_unpickling():
    """Any unpickling (pickle, torch.load) inside the block fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint load tried to unpickle")

    with pytest.MonkeyPatch.context() as patch:
        for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
            patch.setattr(module, name, refuse)
        yield


@pytest.mark.parametrize("stage", ["pretrain_unimodal", "pretrain_multimodal", "train_multitask"])
def test_a_killed_worker_is_restarted_from_its_checkpoint_and_ends_where_an_uninterrupted_run_does(
        token_cache, ray_runtime, tmp_path, stage):
    marker = tmp_path / "fault-fired"
    fault = {"stage": stage, "at_step": KILL_AT, "action": "sigkill", "marker": str(marker)}
    launch = launch_for(token_cache, stage, fault_injection=fault)
    summary = run_stage_on_ray(launch, tmp_path / "out", {
        "cpus_per_worker": 1, "storage_path": tmp_path / "ray", "max_failures": 1})

    assert marker.exists()  # the worker did kill itself at step 10 ...
    assert len(summary["resumed_at_steps"]) == 1  # ... and was restarted once, from a checkpoint before it
    assert summary["resumed_at_steps"][0] in (4, 8)  # (the latest one Ray had registered when it died)
    assert summary["steps"] == TRAINING["steps"]

    weights, history = uninterrupted_in_process(launch)
    assert without_timings(summary["history"]) == without_timings(history)  # every logged metric, exactly
    resumed = load_file(str(tmp_path / "out" / "model.safetensors"))
    assert resumed.keys() == weights.keys()
    for name, tensor in weights.items():
        assert torch.equal(resumed[name], tensor), name

    # The copied Ray checkpoint loads without pickle: model, optimizer moments, RNG states.
    with no_unpickling():
        model = load_model(tmp_path / "out")
        state = load_trainer_state(tmp_path / "out")
    assert isinstance(model, OmniVec2)
    assert state["step"] == TRAINING["steps"] and state["optimizer"]["state"]
    assert isinstance(state["global_rng"]["torch"], torch.Tensor)


def test_two_runs_with_the_same_seed_are_identical(token_cache, ray_runtime, tmp_path):
    """Same seed, tiny preset, one worker, two separate Ray runs: identical metrics and checkpoint bytes."""
    launch = launch_for(token_cache, "train_multitask")
    runs = [run_stage_on_ray(launch, tmp_path / f"out{i}", {
        "cpus_per_worker": 1, "storage_path": tmp_path / f"ray{i}"}) for i in range(2)]
    assert runs[0]["ray_run"] == runs[1]["ray_run"] and not runs[1]["resumed_at_steps"]  # a fresh run, not a resume
    assert without_timings(runs[0]["history"]) == without_timings(runs[1]["history"])
    assert runs[0]["checkpoint_sha256"] == runs[1]["checkpoint_sha256"]
    digests = [sha256_file(tmp_path / f"out{i}" / "model.safetensors") for i in range(2)]
    assert digests[0] == digests[1]
    trainer = [(tmp_path / f"out{i}" / "trainer.safetensors").read_bytes() for i in range(2)]
    assert trainer[0] == trainer[1]  # optimizer moments and RNG states too
