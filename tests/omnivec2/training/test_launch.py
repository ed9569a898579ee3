"""The same stage code under Ray Train: local mode, one worker and two CPU workers (DDP over gloo)."""

from __future__ import annotations

import tempfile

import pytest
import torch
from safetensors.torch import load_file

from omnivec2.checkpoint import load_rank_state, verify_checkpoint
from omnivec2.training.data import load_training_data
from omnivec2.training.launch import run_stage_on_ray
from omnivec2.training.stage_launch import StageLaunch
from omnivec2.training.stage_runner import stage_launch
from omnivec2.training.step_loop import train_stage
from omnivec2.training.worker import CHECKPOINT_PREFIX, initial_model

TRAINING = {"steps": 6, "batch_size": 16, "log_every": 2, "checkpoint_every": 3, "seed": 3}


def launch_for(token_cache, stage="pretrain_multimodal", num_workers=1, **ray_params) -> StageLaunch:
    root, manifests = token_cache
    return stage_launch(stage, {"training": TRAINING}, {"preset": "tiny"}, root, manifests, None, None,
                        {"num_workers": num_workers, "storage_path": "unused", **ray_params})


def in_process_weights(launch: StageLaunch, threads: int) -> dict[str, torch.Tensor]:
    """The stage run without Ray, exactly as a single worker runs it. Float sums depend on how
    many threads split them, so the comparison uses the worker's thread count (Ray gives a
    1-CPU worker OMP_NUM_THREADS=1)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = initial_model(launch)
        train_stage(model, load_training_data(launch.cache_root, launch.modalities), launch.train)
        return model.state_dict()
    finally:
        torch.set_num_threads(previous)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_one_worker_matches_the_plain_loop_exactly(token_cache, ray_runtime, tmp_path, num_workers, monkeypatch):
    launch = launch_for(token_cache, num_workers=num_workers)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where local mode writes its reports
    summary = run_stage_on_ray(launch, tmp_path / "out", {"cpus_per_worker": 1, "storage_path": tmp_path / "ray"})
    # local mode reports two checkpoints (steps 3 and 6) from this process; neither copy outlives the stage
    assert not list((tmp_path / "tmp").glob(f"{CHECKPOINT_PREFIX}*"))
    assert summary["steps"] == TRAINING["steps"]
    assert [row["step"] for row in summary["history"]] == [2, 3, 4, 6]
    ray_weights = load_file(str(tmp_path / "out" / "model.safetensors"))
    threads = torch.get_num_threads() if num_workers == 0 else 1
    for name, tensor in in_process_weights(launch, threads).items():
        assert torch.equal(ray_weights[name], tensor), name


def test_two_cpu_workers_train_with_ddp(token_cache, ray_runtime, tmp_path):
    launch = launch_for(token_cache, "train_multitask", num_workers=2)
    summary = run_stage_on_ray(launch, tmp_path / "out", {"storage_path": tmp_path / "ray"})
    assert summary["steps"] == TRAINING["steps"]
    assert all(torch.isfinite(torch.tensor(row["loss"])) for row in summary["history"])
    assert (tmp_path / "out" / "model.safetensors").exists() and (tmp_path / "out" / "config.json").exists()
    # rank 1's own state came with the checkpoint, covered by its own manifest
    files = {f.name for f in (tmp_path / "out").iterdir()}
    assert {"rank-1.safetensors", "rank-1.json", "rank-1.checksums.json", "history.json", "resumes.json"} <= files
    verify_checkpoint(tmp_path / "out")
    assert load_rank_state(tmp_path / "out", 1)["step"] == TRAINING["steps"]


def test_a_lone_worker_gets_every_cpu_of_the_cluster(ray_runtime):
    from omnivec2.training.launch import worker_resources

    assert worker_resources({}, 1) == {"CPU": 2}
    assert worker_resources({}, 2) == {"CPU": 1}
    assert worker_resources({"cpus_per_worker": 1}, 1) == {"CPU": 1}
    assert worker_resources({}, 0) is None


def test_rerunning_the_same_configuration_resumes_instead_of_retraining(token_cache, ray_runtime, tmp_path):
    """A finished stage run again (same configuration, same storage) trains nothing: it resumes at its
    last step and returns the same checkpoint and history, timings included (no step ran again)."""
    launch = launch_for(token_cache, "pretrain_unimodal")
    first = run_stage_on_ray(launch, tmp_path / "a", {"storage_path": tmp_path / "ray"})
    again = run_stage_on_ray(launch, tmp_path / "b", {"storage_path": tmp_path / "ray"})
    assert first["ray_run"] == again["ray_run"]
    assert first["checkpoint_sha256"] == again["checkpoint_sha256"]
    assert again["history"] == first["history"]


def test_the_launch_round_trips_through_rays_loop_config_unchanged(token_cache):
    launch = launch_for(token_cache, "train_multitask", fault_injection={"at_step": 3, "action": "raise"})
    import json

    plain = launch.to_dict()
    assert StageLaunch.from_dict(plain) == launch and plain["train"]["stage"] == "train_multitask"
    again = StageLaunch.from_dict(json.loads(json.dumps(plain)))  # plain data: JSON keeps what the run name hashes
    assert again.run_name() == launch.run_name() and again.train == launch.train and again.fault == launch.fault


def test_the_run_name_keeps_the_digest_of_earlier_versions_plus_the_training_code(token_cache):
    """Resuming an existing Ray run depends on its name: the same inputs, the same JSON, the same
    digest; the training code's key joins them, so changed code starts a new run rather than
    resuming the old code's (finished) one."""
    import dataclasses
    import hashlib
    import json

    from omnivec2.training.code_key import training_code_key

    launch = launch_for(token_cache, "pretrain_unimodal", num_workers=2)
    earlier = {"model": launch.model, "train": launch.train.to_dict(), "modalities": list(launch.modalities),
               "init_checkpoint_sha": None, "cache_key": sorted(m["cache_key"] for m in token_cache[1]),
               "num_workers": 2}
    assert launch.code_key == training_code_key() and len(launch.code_key) == 16
    digest = hashlib.sha256(json.dumps({**earlier, "code_key": launch.code_key}, sort_keys=True).encode()).hexdigest()
    assert launch.run_name() == f"pretrain_unimodal-{digest[:12]}"
    without_code = hashlib.sha256(json.dumps(earlier, sort_keys=True).encode()).hexdigest()
    assert dataclasses.replace(launch, code_key="").run_name() == f"pretrain_unimodal-{without_code[:12]}"
    assert dataclasses.replace(launch, code_key="0" * 16).run_name() != launch.run_name()
    assert launch_for(token_cache, "pretrain_unimodal", num_workers=1).run_name() != launch.run_name()


def test_the_training_code_key_follows_the_bytes_of_the_training_code(tmp_path, monkeypatch):
    from omnivec2.training import code_key

    for part in ("model", "training"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "a.py").write_text("x = 1\n")
    (tmp_path / "checkpoint.py").write_text("y = 2\n")
    (tmp_path / "cli.py").write_text("z = 3\n")  # not training code
    monkeypatch.setattr(code_key, "PACKAGE", tmp_path)
    key = lambda: code_key.training_code_key.__wrapped__()
    first = key()
    (tmp_path / "cli.py").write_text("z = 4\n")
    assert key() == first
    (tmp_path / "training" / "a.py").write_text("x = 2\n")
    assert key() != first
