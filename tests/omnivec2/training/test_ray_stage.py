"""The same stage code under Ray Train: local mode, one worker and two CPU workers (DDP over gloo)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from omnivec2.data.sources import load_source
from tests.default_suite import DATASETS
from omnivec2.model import ModelConfig, OmniVec2
from omnivec2.tokens.cache import build_token_cache
from omnivec2.training.config import TrainConfig
from omnivec2.training.ray_stage import load_training_data, run_stage_on_ray, run_steps
from omnivec2.training.stage_runner import stage_loop_config
from omnivec2.training.trainer import StageTrainer

TRAINING = {"steps": 6, "batch_size": 16, "log_every": 2, "checkpoint_every": 3, "seed": 3}


@pytest.fixture(scope="module")
def token_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokens")
    manifests = [build_token_cache(load_source(spec, spec.source, 0), spec, root)
                 for spec in DATASETS.values()]
    return root, manifests


@pytest.fixture(scope="module")
def ray_runtime():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield
    ray.shutdown()


def loop_config(token_cache, stage="pretrain_multimodal"):
    root, manifests = token_cache
    return stage_loop_config(stage, {"training": TRAINING}, {"preset": "tiny"}, root, manifests, None, None)


def in_process_weights(config: dict, threads: int) -> dict[str, torch.Tensor]:
    """The stage run without Ray, exactly as a single worker runs it. Float sums depend on how
    many threads split them, so the comparison uses the worker's thread count (Ray gives a
    1-CPU worker OMP_NUM_THREADS=1)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train_in_process(config)
    finally:
        torch.set_num_threads(previous)


def _train_in_process(config: dict) -> dict[str, torch.Tensor]:
    train = TrainConfig.from_dict(config["train"])
    torch.manual_seed(train.seed)
    model = OmniVec2(ModelConfig.from_dict(config["model"]))
    trainer = StageTrainer(model, load_training_data(config["cache_root"], config["modalities"]), train)
    run_steps(trainer, [], lambda metrics, save: None, train.log_every, train.checkpoint_every, train.steps)
    return model.state_dict()


@pytest.mark.parametrize("num_workers", [0, 1])
def test_one_worker_matches_the_plain_loop_exactly(token_cache, ray_runtime, tmp_path, num_workers):
    config = loop_config(token_cache)
    summary = run_stage_on_ray(dict(config), tmp_path / "out", {"num_workers": num_workers, "cpus_per_worker": 1,
                                                                "storage_path": tmp_path / "ray"})
    assert summary["steps"] == TRAINING["steps"]
    assert [row["step"] for row in summary["history"]] == [2, 3, 4, 6]
    ray_weights = load_file(str(tmp_path / "out" / "model.safetensors"))
    threads = torch.get_num_threads() if num_workers == 0 else 1
    for name, tensor in in_process_weights(config, threads).items():
        assert torch.equal(ray_weights[name], tensor), name


def test_two_cpu_workers_train_with_ddp(token_cache, ray_runtime, tmp_path):
    config = loop_config(token_cache, "train_multitask")
    summary = run_stage_on_ray(config, tmp_path / "out", {"num_workers": 2, "storage_path": tmp_path / "ray"})
    assert summary["steps"] == TRAINING["steps"]
    assert all(torch.isfinite(torch.tensor(row["loss"])) for row in summary["history"])
    assert (tmp_path / "out" / "model.safetensors").exists() and (tmp_path / "out" / "config.json").exists()


def test_a_lone_worker_gets_every_cpu_of_the_cluster(ray_runtime):
    from omnivec2.training.ray_stage import worker_resources

    assert worker_resources({}, 1) == {"CPU": 2}
    assert worker_resources({}, 2) == {"CPU": 1}
    assert worker_resources({"cpus_per_worker": 1}, 1) == {"CPU": 1}
    assert worker_resources({}, 0) is None


def test_rerunning_the_same_configuration_resumes_instead_of_retraining(token_cache, ray_runtime, tmp_path):
    config = loop_config(token_cache, "pretrain_unimodal")
    first = run_stage_on_ray(dict(config), tmp_path / "a", {"num_workers": 1, "storage_path": tmp_path / "ray"})
    again = run_stage_on_ray(dict(config), tmp_path / "b", {"num_workers": 1, "storage_path": tmp_path / "ray"})
    assert first["ray_run"] == again["ray_run"]
    assert first["checkpoint_sha256"] == again["checkpoint_sha256"]
