"""Dense targets end to end: label maps in the sample table -> validation -> token cache -> DenseHead loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from omnivec2.data.sample_table import (
    build_sample_table,
    decode_label_map,
    encode_label_map,
    label_map_summary,
)
from omnivec2.evaluation.dense_baseline import dense_baseline
from omnivec2.evaluation.metrics import task_metrics
from omnivec2.model.config import TaskConfig
from omnivec2.model.heads import DenseHead, task_loss
from omnivec2.datasets import DatasetSpec, TaskSpec
from omnivec2.modalities import MaskSpec, PayloadSpec
from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache, read_token_split
from omnivec2.tokens.patches import ImagePatches
from omnivec2.validation import ValidationFailed, validate_sample_table

TASK = TaskSpec("segment", "dense", num_classes=3, outputs_per_token=16)
SPEC = DatasetSpec(
    name="toyseg",
    modality="image",
    payload=PayloadSpec(shape=(16, 16), dtype="float32", value_range=(0.0, 1.0), max_bytes=16 * 16 * 4),
    tokenizer=ImagePatches(patch=4),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.5),
    tasks=(TASK, TaskSpec("kind", "classification", num_classes=2)),
)


def toy_table(count: int = 30, seed: int = 0) -> pd.DataFrame:
    """Images with a bright square (class 1) or a mid-grey disc (class 2) on background 0."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:16, :16]
    images, maps, kinds = [], [], []
    for i in range(count):
        cy, cx, r = rng.integers(4, 12), rng.integers(4, 12), rng.integers(2, 5)
        kind = i % 2
        inside = (abs(yy - cy) <= r) & (abs(xx - cx) <= r) if kind == 0 else (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        maps.append(np.where(inside, 1 + kind, 0).astype(np.uint8))
        images.append(np.where(inside, 1.0 - 0.5 * kind, 0.0).astype(np.float32))
        kinds.append(kind)
    splits = ["train"] * (count - 10) + ["val"] * 4 + ["test"] * 6
    return build_sample_table([f"toy-{i:03d}" for i in range(count)], splits, images, {"segment": maps, "kind": kinds})


def with_labels(table: pd.DataFrame, row: int, labels: np.ndarray) -> pd.DataFrame:
    table = table.copy()
    for column, value in {"segment": encode_label_map(labels), **label_map_summary("segment", labels)}.items():
        table.at[row, column] = value
    return table


def test_label_map_round_trip_and_encoding_rules():
    labels = np.arange(12, dtype=np.int64).reshape(3, 4)
    row = {"segment": encode_label_map(labels), **label_map_summary("segment", labels)}
    assert row["segment_shape"] == "3x4" and row["segment_max"] == 11 and len(row["segment"]) == 12
    decoded = decode_label_map(row, TASK)
    assert decoded.dtype == np.uint8 and (decoded == labels).all()
    assert decode_label_map(row, "segment", (4, 3)).shape == (4, 3)
    with pytest.raises(ValueError, match="needs 16"):
        decode_label_map(row, TASK, (4, 4))
    for bad in (np.array([[256]]), np.array([[-1]]), np.array([[0.5]])):
        with pytest.raises(ValueError):
            encode_label_map(bad)


def test_transform_dense_lays_labels_out_like_the_patches():
    labels = np.arange(64).reshape(8, 8)
    task = TaskSpec("t", "dense", num_classes=64, outputs_per_token=16)
    out = ImagePatches(patch=4).transform_dense([labels], task)
    assert out.shape == (1, 4, 16) and out.dtype == np.int64
    # token 1 is the top-right patch: rows 0..3, columns 4..7, row-major inside the patch
    assert out[0, 1].tolist() == [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]
    tokens = ImagePatches(patch=4).transform([labels.astype(np.float32)], {})
    assert (tokens[0] == out[0]).all()  # the same pixel in the same place as the token's values
    with pytest.raises(ValueError, match="outputs per token"):
        ImagePatches(patch=2).transform_dense([labels], task)


def test_table_validation_cache_read_and_dense_head_loss(tmp_path):
    table = toy_table()
    outcome = validate_sample_table(table, SPEC)
    report = outcome.report
    assert report["success"]
    assert sum(report["class_balance"]["test"]["segment"].values()) == 6  # majority label per sample
    assert set(report["pixel_balance"]["train"]["segment"]) == {"0", "1", "2"}

    manifest = build_token_cache(outcome.valid, SPEC, tmp_path)
    assert manifest["token_shape"] == [16, 16]
    assert {"name": "segment", "kind": "dense", "num_classes": 3, "classes": [], "outputs_per_token": 16} in manifest["tasks"]
    import pyarrow as pa
    from omnivec2.tokens.shards import read_shard

    schema = read_shard(tmp_path / "toyseg" / "train" / "part-00000.arrow").schema
    assert schema.field("segment").type == pa.list_(pa.int16(), 16 * 16)

    test = read_token_split(tmp_path, "toyseg", "test")
    rows = table[table["split"] == "test"].sort_values("sample_id")
    expected = SPEC.tokenizer.transform_dense([decode_label_map(r, TASK) for r in rows.to_dict("records")], TASK)
    labels = test.targets["segment"]
    assert labels.shape == (6, 16, 16) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(test.targets["kind"], rows["kind"].to_numpy())
    # the labels sit where the pixels are: class 0 exactly where the token values are 0
    np.testing.assert_array_equal(labels == 0, test.tokens == 0)

    torch.manual_seed(0)
    head = DenseHead(TaskConfig("segment", "dense", 3, 16), dim=8)
    features = torch.randn(6, 16, 8, requires_grad=True)
    logits = head(features)
    assert logits.shape == (6, 16, 16, 3)
    loss = task_loss("dense", logits, torch.from_numpy(labels))
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert features.grad.abs().sum() > 0
    metrics = task_metrics("dense", logits.detach(), torch.from_numpy(labels), 3)
    assert 0.0 <= metrics["miou"] <= 1.0 and 0.0 <= metrics["pixel_accuracy"] <= 1.0

    train = read_token_split(tmp_path, "toyseg", "train")
    baseline = dense_baseline(train.tokens, train.targets["segment"], test.tokens, labels, 3)
    assert baseline["pixel_accuracy"] > 0.8  # square vs disc intensities are linearly separable per token


def test_cache_key_covers_the_labels(tmp_path):
    table = toy_table()
    first = build_token_cache(table, SPEC, tmp_path)
    flipped = decode_label_map(table.iloc[0], TASK).copy()
    flipped[0, 0] = 2
    second = build_token_cache(with_labels(table, 0, flipped), SPEC, tmp_path)
    assert second["cache_key"] != first["cache_key"] and "reused" not in second
    assert build_token_cache(with_labels(table, 0, flipped), SPEC, tmp_path)["reused"]


ROW = 3
BAD_DENSE = {
    # kind: (corrupt(table), expectation, column, cache refusal message)
    "unknown label": (lambda t: with_labels(t, ROW, np.full((16, 16), 3, np.uint8)),
                      "expect_column_values_to_be_between", "segment_max", r"label outside 0\.\.2"),
    "truncated label map": (lambda t: t.assign(segment=[b if i != ROW else b[:-5] for i, b in enumerate(t["segment"])]),
                            "dense_target_decodes_to_spatial_shape", "segment", "label map that does not decode"),
    "label map of the wrong shape": (lambda t: with_labels(t, ROW, np.zeros((8, 32), np.uint8)),
                                     "dense_target_decodes_to_spatial_shape", "segment", "label map that does not decode"),
    "missing label map": (lambda t: t.assign(segment=[b if i != ROW else None for i, b in enumerate(t["segment"])]),
                          "expect_column_values_to_not_be_null", "segment", "missing segment target"),
}


@pytest.mark.parametrize("kind", sorted(BAD_DENSE))
def test_bad_dense_targets_fail_validation_and_are_not_cached(tmp_path, kind):
    corrupt, expectation, column, refusal = BAD_DENSE[kind]
    table = corrupt(toy_table())
    with pytest.raises(ValidationFailed) as info:
        validate_sample_table(table, SPEC)
    line = f"validation failed for dataset 'toyseg': {expectation} on column {column!r} failed for 1 of 30 samples (e.g. toy-003"
    assert any(text.startswith(line) for text in str(info.value).splitlines()), str(info.value)
    with pytest.raises(UnvalidatedTableError, match=rf"dataset 'toyseg': refusing to tokenize 1 sample\(s\) with .*{refusal}.*toy-003"):
        build_token_cache(table, SPEC, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_quarantine_sets_a_bad_label_map_aside():
    table = BAD_DENSE["unknown label"][0](toy_table())
    outcome = validate_sample_table(table, SPEC, mode="quarantine")
    assert outcome.quarantined["sample_id"].tolist() == ["toy-003"]
    assert "segment_max" in outcome.quarantined.at[0, "reason"]
    assert len(outcome.valid) == 29
