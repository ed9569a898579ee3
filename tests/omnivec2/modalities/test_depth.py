"""depth: z-buffer frames of the inventor meshes (category + dense object mask), the NYUv2-style reader."""

from __future__ import annotations

import omnivec2.modalities  # noqa: F401  (first: registers the modality's source kinds)
from tests.omnivec2.data.skipped_files import assert_file_set_aside


import numpy as np
import pytest
from PIL import Image

from omnivec2.data.sample_table import decode_label_map, decode_payload
from omnivec2.datasets import resolve_dataset
from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.embedded.depth_render import DISTANCE, FAR, rasterise, render
from omnivec2.data.embedded.inventor_catalog import CATEGORIES, EXPECTED_MESHES
from tests.default_suite import DATASETS
from omnivec2.tokens.cache import build_token_cache, read_token_split
from omnivec2.validation import validate_sample_table

SPEC = DATASETS["depth"]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def test_rasteriser_hand_checked_square():
    # a square facing the camera at depth 2, covering x, y in [-0.5, 0.5]: with the focal length
    # f = sqrt(8), its image spans (0.5 f / 2 + 1) / 2 * 8 pixels either side of the centre of an 8x8 frame
    vertices = np.array([[-0.5, -0.5, -2.0], [0.5, -0.5, -2.0], [0.5, 0.5, -2.0], [-0.5, 0.5, -2.0]])
    depth, face = rasterise(vertices, np.array([[0, 1, 2], [0, 2, 3]]), 8)
    half = 0.5 * np.sqrt(8) / 2  # 0.707 of the half-image
    covered = np.abs((np.arange(8) + 0.5) / 8 * 2 - 1) < half
    np.testing.assert_array_equal(np.isfinite(depth), covered[:, None] & covered[None, :])
    np.testing.assert_allclose(depth[np.isfinite(depth)], 2.0)
    assert set(np.unique(face)) == {-1, 0, 1}


def test_render_puts_the_mesh_on_the_floor():
    tetra = np.array([[0, 1, 0], [-1, -1, -1], [1, -1, -1], [0, -1, 1]], float) / np.sqrt(3)
    out = render(tetra, np.array([[0, 1, 2], [0, 2, 3], [0, 3, 1], [1, 3, 2]]), np.eye(3), 0.5, 32)
    assert out.mask.any() and out.floor.any() and not (out.mask & out.floor).any()
    assert DISTANCE - 1 <= out.depth[out.mask].min() and out.depth.max() <= FAR
    assert np.isfinite(out.object_points[out.mask]).all() and np.isnan(out.object_points[~out.mask]).all()


def test_default_source_counts_splits_dense_targets(table):
    assert len(table) == EXPECTED_MESHES * 10 and table["sample_id"].is_unique
    assert table["split"].value_counts().to_dict() == {"train": 644, "test": 184, "val": 92}
    assert set(table["category"]) == set(range(len(CATEGORIES)))
    depth, mask = decode_payload(table.iloc[0]), decode_label_map(table.iloc[0], "object_mask")
    assert depth.shape == mask.shape == (64, 64) and 0 <= depth.min() and depth.max() <= 1
    assert 0.02 < mask.mean() < 0.9 and set(np.unique(mask)) == {0, 1}
    assert depth[mask == 1].mean() < depth[(mask == 0) & (depth > 0)].mean()  # the object stands in front of the floor
    small = {**SPEC.source, "views": 3, "test_views": 1, "val_views": 1}
    first, again = (load_source(SPEC, small, seed=0) for _ in range(2))
    assert again["payload"].tolist() == first["payload"].tolist()
    assert first["payload"].tolist() != load_source(SPEC, small, seed=1)["payload"].tolist()
    assert validate_sample_table(table, SPEC).report["success"]


def test_model_holdout_leaves_whole_meshes_out(table):
    held = load_source(SPEC, {**SPEC.source, "views": 3, "test_views": 1, "val_views": 1, "holdout": "model"}, seed=0)
    model = held["sample_id"].str.rsplit("-v", n=1).str[0]
    assert (held.groupby(model)["split"].nunique() == 1).all()
    assert set(held.loc[held["split"] == "test", "category"]) <= set(held.loc[held["split"] == "train", "category"])


def test_tokens_and_dense_targets_in_the_cache(table, tmp_path):
    manifest = build_token_cache(table, SPEC, tmp_path)
    assert manifest["token_shape"] == [64, 64]
    split = read_token_split(tmp_path, "depth", "test")
    assert split.tokens.shape == (184, 64, 64) and split.targets["object_mask"].shape == (184, 64, 64)
    row = table.set_index("sample_id").loc[split.sample_ids[0]]
    first_patch = decode_label_map(row, "object_mask")[:8, :8].reshape(-1)
    np.testing.assert_array_equal(split.targets["object_mask"][0, 0], first_patch)
    np.testing.assert_allclose(split.tokens[0, 0], decode_payload(row)[:8, :8].reshape(-1))


def _write_nyu(root, n=10):
    rng = np.random.default_rng(0)
    (root / "depth").mkdir(parents=True)
    (root / "labels").mkdir()
    names = []
    for i in range(n):
        name = f"frame{i:03d}"
        depth_mm = rng.integers(500, 9000, (48, 64)).astype(np.uint16)
        labels = np.zeros((48, 64), np.uint16)
        labels[10:30, 20:40] = 7 + i  # NYUv2 label ids: any positive id is an object
        if i % 2:
            Image.fromarray(depth_mm).save(root / "depth" / f"{name}.png")
            Image.fromarray(labels.astype(np.uint8)).save(root / "labels" / f"{name}.png")
        else:
            np.save(root / "depth" / f"{name}.npy", depth_mm / 1000.0)
            np.save(root / "labels" / f"{name}.npy", labels)
        names.append(name)
    categories = ["kitchen" if i % 2 else "office" for i in range(n)]
    splits = ["test" if i < 2 else "val" if i < 3 else "train" for i in range(n)]
    (root / "index.csv").write_text("name,category,split\n" + "".join(f"{a},{b},{c}\n" for a, b, c in zip(names, categories, splits)))
    return {"kind": "depth_folder", "path": str(root), "classes": ["office", "kitchen"]}


def test_depth_folder_reads_png_and_npy_with_label_maps(tmp_path):
    table = load_source(SPEC, _write_nyu(tmp_path), seed=0)
    assert len(table) == 10 and (table["shape"] == "64x64").all()
    assert table["split"].tolist()[:3] == ["test", "test", "val"] and table["category"].tolist()[:2] == [0, 1]
    png, npy = (table.set_index("sample_id").loc[n] for n in ("frame001", "frame000"))
    assert decode_payload(png).max() <= 0.9 and decode_payload(npy).min() >= 0.05  # mm / 1000 / 10 m
    mask = decode_label_map(png, "object_mask")
    # 48x64 centre-cropped to 48x48 (columns 8..55), resized to 64: the labelled box is x 20..39 -> 12..31 of 48
    assert mask.max() == 1 and mask[:, :14].max() == 0 and mask[26, 30] == 1
    assert validate_sample_table(table, SPEC).report["success"]


@pytest.mark.parametrize("content, expected", [(b"", "empty file"), (b"\x89PNG\r\n\x1a\nbroken", "not a decodable PNG")])
def test_depth_folder_bad_frame_is_named_and_set_aside(tmp_path, content, expected):
    source = _write_nyu(tmp_path)
    (tmp_path / "depth" / "frame001.png").write_bytes(content)
    assert_file_set_aside(SPEC, source, "frame001", rf"{tmp_path}/depth/frame001\.png: {expected}")


def test_depth_folder_missing_label_map(tmp_path):
    _write_nyu(tmp_path)
    (tmp_path / "labels" / "frame003.png").unlink()
    with pytest.raises(SourceError, match=r"dataset 'depth': no .*labels/frame003\.png or \.npy"):
        load_source(SPEC, {"kind": "depth_folder", "path": str(tmp_path)}, seed=0)


def test_depth_folder_fills_the_dataset_s_own_tasks_whatever_their_names(tmp_path):
    _write_nyu(tmp_path)
    both = resolve_dataset("rooms", {"modality": "depth", "shape": {"size": 32, "patch": 8},
                                     "source": {"kind": "depth_folder", "path": str(tmp_path)},
                                     "tasks": {"scene": {"classes": ["office", "kitchen"]},
                                               "furniture": {"kind": "dense", "classes": ["floor", "furniture"]}}})
    table = load_source(both, both.source, seed=0)
    assert table["scene"].tolist()[:2] == [0, 1] and decode_label_map(table.iloc[1], "furniture").max() == 1
    assert validate_sample_table(table, both).report["success"]
    (tmp_path / "index.csv").write_text("name\n" + "".join(f"frame{i:03d}\n" for i in range(10)))  # no category column
    masks = resolve_dataset("masks", {"modality": "depth", "shape": {"size": 32, "patch": 8},
                                      "source": {"kind": "depth_folder", "path": str(tmp_path)},
                                      "tasks": {"furniture": {"kind": "dense", "classes": ["floor", "furniture"]}}})
    assert validate_sample_table(load_source(masks, masks.source, seed=0), masks).report["success"]
