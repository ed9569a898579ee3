"""The previous stage's checkpoint published to Ray Train's storage (a directory or s3://) and fetched by a
worker: same bytes, checked, content-addressed, and a clear error when it is missing or altered."""

from __future__ import annotations

import pytest

from omnivec2.checkpoint import save_checkpoint
from omnivec2.durable_files import sha256_directory
from omnivec2.training.init_checkpoint import fetch_checkpoint, publish_checkpoint, storage_location
from tests.omnivec2.model.helpers import tiny_model


@pytest.fixture
def checkpoint(tmp_path):
    return save_checkpoint(tmp_path / "driver" / "pretrain_unimodal", tiny_model(), {"stage": "pretrain_unimodal"},
                           history=[{"step": 1, "loss": 1.0}], resumes=[])


def test_storage_location_keeps_a_uris_query_at_the_end():
    assert storage_location("/runs", "a", "b") == "/runs/a/b"
    assert storage_location("s3://bkt/runs?endpoint_override=http%3A%2F%2Fh%3A1", "a") == \
        "s3://bkt/runs/a?endpoint_override=http%3A%2F%2Fh%3A1"


def test_a_local_storage_round_trip_is_content_addressed(checkpoint, tmp_path):
    digest = sha256_directory(checkpoint)
    location = publish_checkpoint(checkpoint, str(tmp_path / "ray"), digest)
    assert location == str(tmp_path / "ray" / "init_checkpoints" / digest[:16])
    fetched = fetch_checkpoint(location, digest, tmp_path / "worker")
    assert sha256_directory(fetched) == digest
    stamp = (tmp_path / "ray" / "init_checkpoints" / digest[:16] / "model.safetensors").stat().st_mtime_ns
    assert publish_checkpoint(checkpoint, str(tmp_path / "ray"), digest) == location  # already there: not copied
    assert (tmp_path / "ray" / "init_checkpoints" / digest[:16] / "model.safetensors").stat().st_mtime_ns == stamp


def test_an_s3_storage_round_trip(checkpoint, tmp_path, s3, monkeypatch):
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    bucket = s3.bucket("init")
    digest = sha256_directory(checkpoint)
    location = publish_checkpoint(checkpoint, f"s3://{bucket}/ray_runs", digest)
    keys = s3.keys(bucket)
    assert f"ray_runs/init_checkpoints/{digest[:16]}/model.safetensors" in keys
    assert f"ray_runs/init_checkpoints/{digest[:16]}/checksums.json" in keys
    assert sha256_directory(fetch_checkpoint(location, digest, tmp_path / "worker")) == digest


def test_an_altered_or_missing_copy_is_refused_naming_it(checkpoint, tmp_path):
    digest = sha256_directory(checkpoint)
    location = publish_checkpoint(checkpoint, str(tmp_path / "ray"), digest)
    with pytest.raises(ValueError, match="storage copy was altered"):
        fetch_checkpoint(location, "0" * 64, tmp_path / "w1")
    assert not (tmp_path / "w1").exists()  # nothing half-checked is left to load
    (tmp_path / "ray" / "init_checkpoints" / digest[:16] / "history.json").write_text("[]")
    with pytest.raises(ValueError, match="history.json"):  # the checkpoint's own checksums catch it first
        fetch_checkpoint(location, digest, tmp_path / "w2")
    missing = str(tmp_path / "ray" / "init_checkpoints" / "nothing")
    with pytest.raises(FileNotFoundError, match="not in the run storage at .*nothing"):
        fetch_checkpoint(missing, digest, tmp_path / "w3")
