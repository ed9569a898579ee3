"""infrared: LWIR frames of the inventor meshes (heater on/off, object identity), the ImageFolder reader."""

from __future__ import annotations

import omnivec2.modalities  # noqa: F401  (first: registers the modality's source kinds)

import numpy as np
import pytest
from PIL import Image

from omnivec2.data.sample_table import decode_payload, decode_payloads
from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.embedded.inventor_catalog import EXPECTED_MESHES
from omnivec2.data.embedded.inventor_thermal import MAX_COUNT, band_radiance, radiance
from tests.default_suite import DATASETS
from omnivec2.tokens.cache import build_token_cache, read_token_split
from omnivec2.validation import validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside

SPEC = DATASETS["infrared"]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def test_planck_band_radiance():
    # 8-14 um band of a 300 K black body: 37.6% of sigma T^4 / pi = 146.2 W m^-2 sr^-1 -> ~55
    assert band_radiance(300.0) == pytest.approx(0.376 * 5.670374e-8 * 300.0**4 / np.pi, rel=0.01)
    assert band_radiance(310.0) > band_radiance(300.0)
    np.testing.assert_allclose(radiance(np.array([290.25, 301.7])), band_radiance(np.array([290.25, 301.7])), rtol=1e-4)
    assert MAX_COUNT == SPEC.payload.value_range[1] == 2**14 - 1


def test_default_source_counts_splits_labels(table):
    assert len(table) == EXPECTED_MESHES * 8 and table["sample_id"].is_unique
    assert table["split"].value_counts().to_dict() == {"train": 552, "test": 92, "val": 92}
    assert (table.groupby("object")["heater"].sum() == 4).all()  # half of each mesh's frames heated
    frames = np.stack(decode_payloads(table))
    assert frames.min() >= 0 and frames.max() <= MAX_COUNT and np.array_equal(frames, np.round(frames))
    assert validate_sample_table(table, SPEC).report["success"]
    small = {**SPEC.source, "views": 2, "test_views": 0, "val_views": 0}
    with pytest.raises(SourceError, match="dataset 'infrared'"):
        load_source(SPEC, {**small, "views": 1, "test_views": 1}, seed=0)  # no view left for training


def test_heated_frames_have_a_hot_spot_on_the_object(table):
    frames = np.stack(decode_payloads(table))
    background = np.median(frames, axis=(1, 2))
    spread = frames.max(axis=(1, 2)) - background
    heated = table["heater"].to_numpy() == 1
    assert np.median(spread[heated]) > 2 * np.median(spread[~heated])


def test_determinism_for_a_seed():
    small = {**SPEC.source, "views": 2, "test_views": 0, "val_views": 0}
    first, again, other = (load_source(SPEC, small, seed=s) for s in (0, 0, 1))
    assert first["payload"].tolist() == again["payload"].tolist()
    assert first["payload"].tolist() != other["payload"].tolist()


def test_tokens_are_standardised_patches(table, tmp_path):
    manifest = build_token_cache(table, SPEC, tmp_path)
    stats = manifest["fit_stats"]
    assert manifest["token_shape"] == [64, 64] and 2000 < stats["mean"] < 14000
    split = read_token_split(tmp_path, "infrared", "test")
    row = table.set_index("sample_id").loc[split.sample_ids[3]]
    expected = (decode_payload(row)[8:16, 0:8].reshape(-1) - stats["mean"]) / stats["std"]
    np.testing.assert_allclose(split.tokens[3, 8], expected, rtol=1e-5, atol=1e-5)  # patch row 1, column 0
    assert split.targets["heater"].shape == split.targets["object"].shape == (92,)


def _write_folder(root):
    rng = np.random.default_rng(0)
    for label in ("on", "off"):
        for split in ("train", "test"):
            folder = root / label / split
            folder.mkdir(parents=True)
            for i in range(3):
                counts = rng.integers(3000, 9000, (80, 64)).astype(np.uint16)
                Image.fromarray(counts).save(folder / f"{i}.png")
            np.save(folder / "3.npy", rng.integers(3000, 9000, (64, 64)).astype(np.float32))
    return {"kind": "thermal_folder", "path": str(root), "classes": ["off", "on"], "task": "heater"}


def test_thermal_folder_reads_16_bit_png_and_npy(tmp_path):
    source = _write_folder(tmp_path)
    table = load_source(SPEC, source, seed=0)
    assert len(table) == 16 and (table["shape"] == "64x64").all()
    rows = table.set_index("sample_id")
    assert rows.loc["on/train/0", "heater"] == 1 and rows.loc["off/test/3", "heater"] == 0
    assert (table["object"] == 0).all() and (table["split"] == "test").sum() == 8
    original = np.array(Image.open(tmp_path / "on" / "train" / "0.png"))  # 80x64 -> centre crop rows 8..71
    np.testing.assert_array_equal(decode_payload(rows.loc["on/train/0"]), original[8:72].astype(np.float32))
    assert validate_sample_table(table, SPEC).report["success"]


@pytest.mark.parametrize("content, expected", [(b"", "empty file"), (b"\x89PNG\r\n\x1a\ntruncated", "not a decodable PNG")])
def test_thermal_folder_bad_frame_is_named_and_set_aside(tmp_path, content, expected):
    source = _write_folder(tmp_path)
    (tmp_path / "on" / "train" / "bad.png").write_bytes(content)
    assert_file_set_aside(SPEC, source, "on/train/bad", rf"{tmp_path}/on/train/bad\.png: {expected}")


def test_thermal_folder_unknown_task(tmp_path):
    with pytest.raises(SourceError, match="no task 'colour'"):
        load_source(SPEC, {**_write_folder(tmp_path), "task": "colour"}, seed=0)
