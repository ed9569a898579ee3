import json

import torch

from omnivec2.ablations import progress
from omnivec2.ablations.progress import GridProgress, grid_fingerprint
from omnivec2.model.config import ModelConfig

STEPS = {"pretrain_unimodal": 10, "pretrain_multimodal": 20, "train_multitask": 30}
MANIFESTS = [{"dataset": "image", "source_hash": "aa", "tokenizer": {"config_hash": "t1"},
              "splits": {"train": {"rows": 4, "file": "train/part-00000.arrow", "sha256": "s1"}}},
             {"dataset": "graph", "source_hash": "bb", "tokenizer": {"config_hash": "t2"}}]


def fingerprint(**change) -> str:
    args = {"config": ModelConfig(), "settings": {"train_multitask": {"lr": 1e-3}}, "steps": STEPS,
            "modalities": ["image", "graph"], "manifests": MANIFESTS} | change
    return grid_fingerprint(**args)


def test_fingerprint_changes_with_anything_a_score_depends_on():
    base = fingerprint()
    assert base == fingerprint(modalities=["graph", "image"])  # order is not a difference
    assert base != fingerprint(steps={**STEPS, "train_multitask": 31})
    assert base != fingerprint(settings={"train_multitask": {"lr": 2e-3}})
    assert base != fingerprint(manifests=[{**MANIFESTS[0], "source_hash": "cc"}, MANIFESTS[1]])
    assert base != fingerprint(manifests=[{**MANIFESTS[0], "tokenizer": {"config_hash": "t3"}}, MANIFESTS[1]])
    assert base == fingerprint(manifests=[{**MANIFESTS[0], "cache_key": "new format"}, MANIFESTS[1]])
    # the same recipe tokenized on another CPU: other float rounding, so other shard bytes
    other_bytes = {"train": {**MANIFESTS[0]["splits"]["train"], "sha256": "s2"}}
    assert base != fingerprint(manifests=[{**MANIFESTS[0], "splits": other_bytes}, MANIFESTS[1]])
    assert base != fingerprint(config=ModelConfig(dim_f=256))


def test_fingerprint_changes_with_the_code_and_the_thread_count(monkeypatch):
    base = fingerprint()
    monkeypatch.setattr(progress, "grid_code_key", lambda: "another recipe")
    assert fingerprint() != base
    monkeypatch.undo()
    monkeypatch.setattr(progress, "training_code_key", lambda: "other training code")
    assert fingerprint() != base
    monkeypatch.undo()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)
        assert fingerprint() != base
    finally:
        torch.set_num_threads(threads)
    assert fingerprint() == base
    assert fingerprint(threads=threads) == base and fingerprint(threads=threads + 1) != base


def test_an_interrupted_grid_reuses_its_finished_runs_and_drops_everything_else(tmp_path):
    path = tmp_path / "runs.jsonl"
    first = GridProgress(path, "grid-1")
    first.add("variant", {"variant": "full", "seed": 0, "scores": {"m/a": 0.5}})
    first.add("unseen", {"modality": "imu", "seed": 0, "adapted": {"imu/a": 0.4}})
    with path.open("a") as out:
        out.write(json.dumps({"variant": "full", "seed": 1, "grid": "grid-0", "scores": {}}) + "\n")
        out.write('{"variant": "full", "seed": 2, "gr')  # a line cut short by a crash

    again = GridProgress(path, "grid-1")
    assert again.get("variant", "full", 0) == {"variant": "full", "seed": 0, "scores": {"m/a": 0.5}}
    assert again.get("unseen", "imu", 0)["adapted"] == {"imu/a": 0.4}
    assert again.get("variant", "full", 1) is None and again.discarded == 2
    assert len(path.read_text().splitlines()) == 2  # the file now holds this grid's runs only

    calls = []
    assert again.get_or_run("variant", "full", 0, lambda: calls.append(1)) == again.get("variant", "full", 0)
    fresh = again.get_or_run("variant", "full", 1, lambda: {"variant": "full", "seed": 1, "scores": {}})
    assert calls == [] and fresh["seed"] == 1 and len(path.read_text().splitlines()) == 3

    changed = GridProgress(path, "grid-2")
    assert changed.done == {} and path.read_text() == ""
