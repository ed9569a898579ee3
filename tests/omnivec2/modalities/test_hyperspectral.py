"""Hyperspectral: the linear-mixing generator, the Indian Pines-style scene reader, band-group
tokens with dense material labels (bad inputs: tests/omnivec2/validation/test_bad_inputs.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from scipy.io import savemat

from omnivec2.data.sample_table import decode_label_map, decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.datasets import TaskSpec
from tests.default_suite import DATASETS
from omnivec2.tokens.cache import build_token_cache, read_token_split
from omnivec2.tokens.spectral import SpectralPatches
from omnivec2.validation import validate_sample_table

SPEC = DATASETS["hyperspectral"]
TASK = SPEC.tasks[0]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def test_default_source_counts_splits_and_determinism(table):
    assert table["split"].value_counts().to_dict() == {"train": 168, "test": 48, "val": 24}
    assert table["sample_id"].is_unique and set(table["shape"]) == {"32x32x31"}
    assert set(table["material_shape"]) == {"32x32"} and table["material_max"].max() <= 23
    labels = np.stack([decode_label_map(r, TASK) for r in table.head(40).to_dict("records")])
    assert len(np.unique(labels)) == 24  # every material occurs
    small = {"kind": "hsi_mixing", "count": 20}
    a, b, c = (load_source(SPEC, small, seed) for seed in (1, 1, 2))
    assert a.equals(b) and not a["payload"].equals(c["payload"])


def test_mixing_physics_pure_pixels_are_reflectance_times_illuminant():
    from omnivec2.data.embedded.hsi_mixing import illuminants, mixing_cubes, reflectances

    data = mixing_cubes(6, seed=3, noise=0.0)
    _, spectra = reflectances()
    light = illuminants()
    for cube, labels, which in zip(data["cubes"], data["labels"], data["illuminant"]):
        ratio = cube / (spectra[labels] * light[which])  # [H, W, 31]: a scalar per pixel where it is pure
        spread = ratio.std(-1) / ratio.mean(-1)
        assert np.percentile(spread, 10) < 0.01  # pixels deep inside a region are pure
        assert np.percentile(spread, 90) > 0.1  # soft boundaries: many pixels are mixtures


def test_validation_passes_and_cache_holds_dense_targets(table, tmp_path):
    outcome = validate_sample_table(table, SPEC)
    assert outcome.report["success"] and set(outcome.report["pixel_balance"]["test"]["material"]) <= {str(i) for i in range(24)}
    manifest = build_token_cache(outcome.valid, SPEC, tmp_path)
    assert manifest["token_shape"] == [64, 496]
    test = read_token_split(tmp_path, "hyperspectral", "test")
    assert test.tokens.shape == (48, 64, 496) and test.targets["material"].shape == (48, 64, 16)
    first = table[table["sample_id"] == test.sample_ids[0]].iloc[0]
    np.testing.assert_array_equal(test.targets["material"][0, 0], decode_label_map(first, TASK)[:4, :4].reshape(-1))


def test_tokenizer_shapes_and_hand_checked_values():
    cube = np.arange(8 * 8 * 6, dtype=np.float32).reshape(8, 8, 6)
    stats = {"mean": [0.0] * 6, "std": [1.0] * 6}
    whole = SpectralPatches(patch=4, band_group=6, bands=6).transform([cube], stats)
    assert whole.shape == (1, 4, 96)
    np.testing.assert_array_equal(whole[0, 1, :6], cube[0, 4])  # token 1 = top-right patch, first pixel's spectrum
    np.testing.assert_array_equal(whole[0, 0, 6:12], cube[0, 1])  # then the next pixel of the row
    groups = SpectralPatches(patch=4, band_group=3, bands=6)
    tokens = groups.transform([cube], stats)
    assert tokens.shape == (1, 8, 48)
    np.testing.assert_array_equal(tokens[0, 1, :3], cube[0, 0, 3:6])  # patch 0, second band group
    labels = np.arange(64).reshape(8, 8)
    dense = groups.transform_dense([labels], TaskSpec("m", "dense", 64, 16))
    assert dense.shape == (1, 8, 16) and (dense[0, 0] == dense[0, 1]).all() and dense[0, 2, 0] == 4
    stats = SpectralPatches(4, 31, 31).fit([np.full((4, 4, 31), 2.0), np.full((4, 4, 31), 4.0)])
    assert stats["mean"][0] == 3.0 and stats["std"][0] == 1.0


def scene(height=70, width=70, bands=50):
    rng = np.random.default_rng(0)
    cube = rng.uniform(0, 1000, size=(height, width, bands))
    gt = rng.integers(0, 17, size=(height, width)).astype(np.uint8)
    return cube, gt


def test_scene_reader_mat_tiles_and_resamples(tmp_path):
    cube, gt = scene()
    savemat(tmp_path / "pines.mat", {"indian_pines": cube, "indian_pines_gt": gt})
    source = {"kind": "hsi_scene", "path": str(tmp_path / "pines.mat"), "scale": 1000.0}
    table = load_source(SPEC, source, seed=0)
    assert len(table) == 4 and set(table["shape"]) == {"32x32x31"}  # 70x70 -> 2x2 tiles, margin dropped
    row = table.set_index("sample_id").loc["hyperspectral-r0032-c0000"]
    tile = decode_payload(row)
    expected = np.interp(np.linspace(0, 49, 31), np.arange(50), cube[32, 0]) / 1000.0
    np.testing.assert_allclose(tile[0, 0], expected, rtol=1e-5)
    np.testing.assert_array_equal(decode_label_map(row, TASK), gt[32:64, 0:32])
    assert validate_sample_table(table, SPEC).report["success"]


def save_mat73(path, variables: dict[str, np.ndarray]) -> None:
    """A MATLAB v7.3 file as `save -v7.3` writes one: HDF5 behind a 512-byte header naming the version,
    each array stored column-major (its dimensions reversed)."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as handle:
        for name, array in variables.items():
            handle.create_dataset(name, data=np.ascontiguousarray(array.T))
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 08:00:00 2026 HDF5 schema 1.00 ."
    with open(path, "r+b") as handle:
        handle.write(header.ljust(116) + bytes(8) + b"\x00\x02IM")


def test_scene_reader_reads_matlab_v73_files_as_their_v5_twins(tmp_path):
    cube, gt = scene()
    savemat(tmp_path / "v5.mat", {"houston": cube, "houston_gt": gt})
    save_mat73(tmp_path / "v73.mat", {"houston": cube, "houston_gt": gt})
    read = {version: load_source(SPEC, {"kind": "hsi_scene", "path": str(tmp_path / f"{version}.mat"), "scale": 1000.0},
                                 seed=0) for version in ("v5", "v73")}
    assert len(read["v73"]) == 4
    assert read["v73"].drop(columns="payload").equals(read["v5"].drop(columns="payload"))
    assert read["v73"]["payload"].tolist() == read["v5"]["payload"].tolist()
    (tmp_path / "damaged.mat").write_bytes((tmp_path / "v73.mat").read_bytes()[:1500])
    with pytest.raises(SourceError, match=r"dataset 'hyperspectral': .*damaged\.mat: not a readable MATLAB v7\.3 file"):
        load_source(SPEC, {"kind": "hsi_scene", "path": str(tmp_path / "damaged.mat")}, 0)


def test_scene_reader_npy_with_wavelengths_over_fsspec(tmp_path):
    import fsspec

    cube, gt = scene(32, 64, 5)
    fs = fsspec.filesystem("memory")
    for name, array in (("cube.npy", cube), ("gt.npy", gt)):
        buffer = io.BytesIO()
        np.save(buffer, array)
        fs.pipe(f"/hsi/{name}", buffer.getvalue())
    source = {"kind": "hsi_scene", "path": "memory://hsi/cube.npy", "gt_path": "memory://hsi/gt.npy",
              "wavelengths": [400, 450, 550, 650, 700], "scale": 1000.0}
    table = load_source(SPEC, source, seed=0)
    tile = decode_payload(table.set_index("sample_id").loc["hyperspectral-r0000-c0032"])
    np.testing.assert_allclose(tile[0, 0], np.interp(np.arange(400, 701, 10), source["wavelengths"], cube[0, 32]) / 1000.0, rtol=1e-5)


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"MATLAB 5.0 MAT-file garbage" + bytes(50), "not a readable .mat file"),
])
def test_scene_reader_rejects_empty_and_undecodable_files(tmp_path, content, message):
    (tmp_path / "bad.mat").write_bytes(content)
    with pytest.raises(SourceError, match=rf"dataset 'hyperspectral': .*bad.mat: {message}"):
        load_source(SPEC, {"kind": "hsi_scene", "path": str(tmp_path / "bad.mat")}, 0)


def test_scene_reader_rejects_mismatched_ground_truth_and_tiny_scenes(tmp_path):
    cube, gt = scene()
    savemat(tmp_path / "a.mat", {"cube": cube, "gt": gt[:60]})
    with pytest.raises(SourceError, match="does not match the cube's"):
        load_source(SPEC, {"kind": "hsi_scene", "path": str(tmp_path / "a.mat")}, 0)
    savemat(tmp_path / "b.mat", {"cube": cube[:20], "gt": gt[:20]})
    with pytest.raises(SourceError, match="smaller than one 32x32 tile"):
        load_source(SPEC, {"kind": "hsi_scene", "path": str(tmp_path / "b.mat")}, 0)
