"""point_cloud: inventor meshes, the point_folder reader (.off/.ply/.npy), FPS + kNN tokens, mini-PointNet."""

from __future__ import annotations

import omnivec2.modalities  # noqa: F401  (first: registers the modality's source kinds)

import io

import numpy as np
import pytest
import torch

from omnivec2.data.sample_table import decode_payload, decode_payloads
from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.sources.limits import reading
from omnivec2.data.sources.point_files import read_point_file
from omnivec2.data.embedded.inventor_catalog import CATEGORIES, EXPECTED_MESHES
from omnivec2.data.embedded.inventor_meshes import load_meshes, parse_inventor_ascii
from tests.default_suite import DATASETS
from omnivec2.model.config import ModalityConfig
from omnivec2.model.embeddings import build_embedding
from omnivec2.tokens.cache import build_token_cache, read_token_split
from omnivec2.tokens.point_groups import PointGroups, farthest_point_sampling
from omnivec2.validation import validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside

SPEC = DATASETS["point_cloud"]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def test_meshes_are_the_92_distinct_inventor_models():
    meshes = load_meshes()
    assert len(meshes) == EXPECTED_MESHES
    assert sorted({m.category for m in meshes}) == list(CATEGORIES)
    for mesh in meshes:
        radius = np.linalg.norm(mesh.vertices, axis=1).max()
        assert radius == pytest.approx(1.0) and mesh.triangles.max() < len(mesh.vertices)
    king = next(m for m in meshes if m.name == "chess/king")
    assert king.category == "chess" and len(king.triangles) > 500


def test_inventor_parser_scopes_coordinates_and_fans_polygons():
    text = """#Inventor V2.1 ascii
    Separator {
      DEF +0 Coordinate3 { point [ 0 0 0, 1 0 0, 1 1 0, 0 1 0 ] }
      Separator { Coordinate3 { point [ 5 5 5, 6 5 5, 5 6 5 ] } IndexedFaceSet { coordIndex [ 0, 1, 2, -1 ] } }
      IndexedFaceSet { coordIndex [ 0, 1, 2, 3, -1 ] }
      Separator { USE +0 IndexedLineSet { coordIndex [ 0, 1, -1 ] } }
    }"""
    vertices, triangles = parse_inventor_ascii(text)
    assert vertices.shape == (7, 3)
    # the inner face set uses the inner coordinates; after the Separator closes the quad uses the outer ones
    np.testing.assert_array_equal(vertices[triangles[0]], [[5, 5, 5], [6, 5, 5], [5, 6, 5]])
    np.testing.assert_array_equal(vertices[triangles[1:]], [[[0, 0, 0], [1, 0, 0], [1, 1, 0]], [[0, 0, 0], [1, 1, 0], [0, 1, 0]]])
    with pytest.raises(ValueError, match="outside"):
        parse_inventor_ascii("Coordinate3 { point [ 0 0 0 ] } IndexedFaceSet { coordIndex [ 0, 1, 2, -1 ] }", "bad.iv")


def test_default_source_counts_splits_and_determinism(table):
    assert len(table) == EXPECTED_MESHES * 12 and table["sample_id"].is_unique
    assert table["split"].value_counts().to_dict() == {"train": 736, "test": 276, "val": 92}
    per_model = table.groupby("object")["split"].value_counts().unstack()
    assert (per_model["train"] == 8).all() and (per_model["test"] == 3).all()  # every model in every split
    assert set(table["object"]) == set(range(EXPECTED_MESHES)) and (table["shape"] == "1024x3").all()
    again = load_source(SPEC, SPEC.source, seed=0)
    assert again["payload"].tolist() == table["payload"].tolist() and again["split"].tolist() == table["split"].tolist()
    other = load_source(SPEC, {**SPEC.source, "rotations": 5, "test_rotations": 1}, seed=1)
    assert len(other) == EXPECTED_MESHES * 5
    assert not np.array_equal(decode_payload(other.iloc[0]), decode_payload(table.iloc[0]))
    assert validate_sample_table(table, SPEC).report["success"]


def test_rotated_samples_of_one_model_have_the_same_radial_profile(table):
    a, b = (decode_payload(table.set_index("sample_id").loc[i]) for i in ("chess-king-r00", "chess-king-r01"))
    assert not np.allclose(a, b)  # different rotation and surface sample
    ra, rb = np.linalg.norm(a - a.mean(0), axis=1), np.linalg.norm(b - b.mean(0), axis=1)
    assert abs(np.median(ra) - np.median(rb)) < 0.05


def test_tokenizer_shapes_and_a_hand_checked_group():
    # 64 points on a line: x = 0..63 (scaled); FPS starts at the end farthest from the mean (x = 0, the
    # lowest index of the tie), then takes the other end.
    cloud = np.zeros((64, 3), np.float32)
    cloud[:, 0] = np.arange(64) / 63
    tokens = PointGroups(groups=4, k=3).transform([cloud, cloud[::-1].copy()], {})
    assert tokens.shape == (2, 4, 3 * 3 + 3) and tokens.dtype == np.float32
    np.testing.assert_allclose(tokens[0, 0, -3:], [0, 0, 0])  # first centre
    np.testing.assert_allclose(tokens[0, 1, -3:], [1, 0, 0])  # second: the other end
    np.testing.assert_allclose(tokens[0, 0, :9].reshape(3, 3)[:, 0], [0, 1 / 63, 2 / 63], atol=1e-6)  # nearest first
    np.testing.assert_allclose(np.sort(tokens[1, :, -3:], axis=0), np.sort(tokens[0, :, -3:], axis=0), atol=1e-6)
    index = farthest_point_sampling(np.random.default_rng(0).random((3, 100, 3)), 10)
    assert index.shape == (3, 10) and all(len(set(row)) == 10 for row in index)


def test_mini_pointnet_is_invariant_to_member_order_and_uses_the_centre():
    config = ModalityConfig("point_cloud", num_tokens=4, token_dim=16 * 3 + 3, embedding="mini_pointnet")
    embed = build_embedding(config, 32)
    tokens = torch.randn(2, 4, 51)
    members = tokens[..., :48].reshape(2, 4, 16, 3)
    shuffled = torch.cat([members[:, :, torch.randperm(16)].reshape(2, 4, 48), tokens[..., 48:]], dim=-1)
    assert embed(tokens).shape == (2, 4, 32)
    torch.testing.assert_close(embed(tokens), embed(shuffled))
    moved = tokens.clone()
    moved[..., 48:] += 1.0
    assert not torch.allclose(embed(tokens), embed(moved))


def test_token_cache_time_and_size(table, tmp_path):
    manifest = build_token_cache(table, SPEC, tmp_path)
    assert manifest["token_shape"] == [64, 51]
    split = read_token_split(tmp_path, "point_cloud", "test")
    assert split.tokens.shape == (276, 64, 51) and split.targets["object"].shape == (276,)


OFF = """OFF
4 2 0
0 0 0
2 0 0
2 2 0
0 2 0
3 0 1 2
3 0 2 3
"""
PLY = """ply
format ascii 1.0
element vertex 3
property float x
property float y
property float z
property uchar red
element face 1
property list uchar int vertex_indices
end_header
0 0 0 255
0 4 0 255
0 0 4 255
3 0 1 2
"""


def _write_folder(root):
    for cls, split in [("chair", "train"), ("chair", "test"), ("table", "train"), ("table", "test")]:
        folder = root / cls / split
        folder.mkdir(parents=True)
        (folder / f"{cls}_{split}_1.off").write_text(OFF)
        (folder / f"{cls}_{split}_2.ply").write_text(PLY)
        np.save(folder / f"{cls}_{split}_3.npy", np.random.default_rng(0).random((300, 6)))
    return {"kind": "point_folder", "path": str(root)}


def test_point_folder_reads_off_ply_npy(tmp_path):
    table = load_source(SPEC, _write_folder(tmp_path), seed=0)
    assert len(table) == 12 and (table["shape"] == "1024x3").all()
    rows = table.set_index("sample_id")
    assert rows.loc["chair/train/chair_train_1", "object"] == 0 and rows.loc["table/test/table_test_2", "object"] == 1
    assert set(table["split"]) <= {"train", "val", "test"} and (table["split"] == "test").sum() == 6
    square = decode_payload(rows.loc["chair/train/chair_train_1"])  # the OFF square, on z = 0, unit sphere
    assert np.abs(square[:, 2]).max() < 1e-6 and np.linalg.norm(square, axis=1).max() == pytest.approx(1.0, abs=1e-3)
    triangle = decode_payload(rows.loc["chair/test/chair_test_2"])  # the PLY triangle lies in x = 0
    assert np.abs(triangle[:, 0]).max() < 1e-6
    tokens = SPEC.tokenizer.transform(decode_payloads(table), {})
    assert tokens.shape == (12, 64, 51)


@pytest.mark.parametrize("content, expected", [
    (b"", "empty file"),
    (b"\xff\xfe\x00garbage", "not ASCII|not an OFF"),
    (OFF.encode()[:-12], "truncated"),
    (b"OFF\n1 0 0\n0 nan 0\n", "non-finite"),
])
def test_point_folder_bad_file_is_named_and_set_aside(tmp_path, content, expected):
    _write_folder(tmp_path)
    (tmp_path / "chair" / "train" / "bad.off").write_bytes(content)
    assert_file_set_aside(SPEC, {"kind": "point_folder", "path": str(tmp_path)}, "chair/train/bad",
                          rf"{tmp_path}/chair/train/bad\.off: .*({expected})")


def binary_ply(vertices: np.ndarray, faces: list[list[int]], byte_order: str = "<", colour: bool = True) -> bytes:
    """A binary PLY as Open3D writes one: float xyz (plus uchar colour), uchar-counted int face lists."""
    from plyfile import PlyData, PlyElement

    fields = [("x", "f4"), ("y", "f4"), ("z", "f4")] + ([("red", "u1")] if colour else [])
    vertex = np.array([(*v, 200)[: len(fields)] for v in vertices], dtype=fields)
    face = np.array([(np.array(f, np.int32),) for f in faces], dtype=[("vertex_indices", "O")])
    elements = [PlyElement.describe(vertex, "vertex")] + ([PlyElement.describe(face, "face")] if faces else [])
    buffer = io.BytesIO()
    PlyData(elements, text=False, byte_order=byte_order).write(buffer)
    return buffer.getvalue()


SQUARE = np.array([[0, 0, 0], [0, 2, 0], [0, 2, 2], [0, 0, 2]], np.float32)  # in the plane x = 0


@pytest.mark.parametrize("byte_order", ["<", ">"])
@pytest.mark.parametrize("faces", [[[0, 1, 2], [0, 2, 3]], [[0, 1, 2, 3]], []], ids=["triangles", "quad", "points"])
def test_binary_ply_of_either_byte_order_reads_as_its_ascii_twin(tmp_path, byte_order, faces):
    rng = np.random.default_rng(0)
    cloud = read_point_file(binary_ply(SQUARE, faces, byte_order), "square.ply", 256, rng)
    assert cloud.shape == (256, 3) and np.abs(cloud[:, 0]).max() < 1e-6
    ascii_twin = "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
    ascii_twin += (f"element face {len(faces)}\nproperty list uchar int vertex_indices\n" if faces else "") + "end_header\n"
    ascii_twin += "".join(" ".join(str(float(c)) for c in v) + "\n" for v in SQUARE)
    ascii_twin += "".join(f"{len(f)} {' '.join(map(str, f))}\n" for f in faces)
    np.testing.assert_array_equal(cloud, read_point_file(ascii_twin.encode(), "twin.ply", 256, np.random.default_rng(0)))


@pytest.mark.parametrize("damage, expected", [
    (lambda data: data[:-7], r"not a readable binary PLY"),
    (lambda data: data.replace(b"property float z\n", b"property float w\n"), r"the PLY's vertices lack the properties \['z'\]"),
    (lambda data: data[: len(data) - 13] + bytes([3]) + np.array([0, 1, 9], "<i4").tobytes(),
     r"face 2 \('3 0 1 9'\) uses vertex index 9, outside the 4 vertices"),
], ids=["truncated", "no z", "face out of range"])
def test_a_damaged_binary_ply_is_named_and_set_aside(tmp_path, damage, expected):
    _write_folder(tmp_path)
    (tmp_path / "chair" / "train" / "scan.ply").write_bytes(damage(binary_ply(SQUARE, [[0, 1, 2], [0, 2, 3]], colour=False)))
    assert_file_set_aside(SPEC, {"kind": "point_folder", "path": str(tmp_path)}, "chair/train/scan",
                          rf"{tmp_path}/chair/train/scan\.ply: {expected}")


def test_a_binary_ply_over_max_points_is_refused_from_its_header():
    from omnivec2.data.sources.limits import SourceLimitError

    with pytest.raises(SourceLimitError, match=r"big\.ply: header declares 4 vertices, over the source's max_points \(3\)"):
        with reading("point_cloud", {"kind": "point_folder", "max_points": 3}):
            read_point_file(binary_ply(SQUARE, []), "big.ply", 16, np.random.default_rng(0))


def test_point_folder_without_files(tmp_path):
    with pytest.raises(SourceError, match="dataset 'point_cloud': no .* files"):
        load_source(SPEC, {"kind": "point_folder", "path": str(tmp_path)}, seed=0)



def test_point_folder_from_s3(tmp_path, s3):
    bucket = s3.bucket("points")
    _write_folder(tmp_path / "local")
    s3.upload_folder(tmp_path / "local", bucket, prefix="modelnet")
    source = {"kind": "point_folder", "path": f"s3://{bucket}/modelnet", "storage_options": s3.options}
    remote = load_source(SPEC, source, seed=0)
    local = load_source(SPEC, {"kind": "point_folder", "path": str(tmp_path / "local")}, seed=0)
    assert remote["sample_id"].tolist() == local["sample_id"].tolist()
    assert remote["payload"].tolist() == local["payload"].tolist()
