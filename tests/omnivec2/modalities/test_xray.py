"""X-ray: the DRR generator (Beer-Lambert physics, counts, determinism), the PNG ImageFolder reader,
ViT patch tokens (bad inputs: tests/omnivec2/validation/test_bad_inputs.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.datasets import resolve_dataset
from tests.default_suite import DATASETS
from omnivec2.validation import validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside

SPEC = DATASETS["xray"]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def test_default_source_counts_splits_and_determinism(table):
    assert table["split"].value_counts().to_dict() == {"train": 560, "test": 160, "val": 80}
    assert table.groupby("split")["nodule"].mean().round(2).to_dict() == {"test": 0.5, "train": 0.5, "val": 0.5}
    assert set(table["shape"]) == {"64x64"} and table["sample_id"].is_unique
    small = {"kind": "xray_drr", "count": 20}
    a, b, c = (load_source(SPEC, small, seed) for seed in (1, 1, 2))
    assert a.equals(b) and not a["payload"].equals(c["payload"])
    assert validate_sample_table(table, SPEC).report["success"]


def test_ray_sums_are_exact_chords_and_the_nodule_adds_its_integral():
    from omnivec2.data.embedded.xray_drr import chord, line_integrals

    grid = np.array([[0.0, 0.5, 0.99]])
    lengths = chord(grid, np.zeros_like(grid), [0.0], [0.0], [1.0], [1.0], [1.0])
    np.testing.assert_allclose(lengths[0, 0], 2 * np.sqrt(1 - grid[0] ** 2))  # a unit sphere's chords
    with_nodule = line_integrals(4, np.random.default_rng(5), np.ones(4, bool))
    without = line_integrals(4, np.random.default_rng(5), np.zeros(4, bool))
    extra = with_nodule - without
    assert (extra >= -1e-12).all() and (extra.reshape(4, -1).max(axis=1) > 0.1).all()
    assert ((extra > 1e-9).reshape(4, -1).sum(axis=1) < 60).all()  # a small blob, 2.2-3.8 px in radius


def test_noise_is_poisson_in_photon_counts():
    from omnivec2.data.embedded.xray_drr import radiographs

    images = radiographs(40, seed=0)["images"]
    outside = images[:, :, :2]  # the body never reaches the outermost columns: I = I0, -ln(counts/I0) ~ N(0, 1/I0)
    assert abs(outside.mean()) < 2e-3 and 1 / np.sqrt(8000) * 0.8 < outside.std() < 1 / np.sqrt(3000) * 1.2


def test_tokens_are_8x8_patches_with_a_hand_checked_value():
    image = np.zeros((64, 64), np.float32)
    image[0, 8] = 4.0  # top-left pixel of the second patch
    image[9, 1] = 2.0  # row 1, column 1 of the ninth patch (second patch row)
    tokens = SPEC.tokenizer.transform([image], {})
    assert tokens.shape == (1, 64, 64) and tokens[0, 1, 0] == 1.0 and tokens[0, 8, 9] == 0.5
    assert tokens.sum() == 1.5


def write_png(path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_png_folder_reader_with_split_folders_resizes_and_scales(tmp_path):
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("val", 1), ("test", 2)):
        for cls in ("NODULE", "NORMAL"):
            for i in range(count):
                write_png(tmp_path / split / cls / f"{i}.png", rng.integers(0, 256, (32, 32), dtype=np.uint8))
    flat = np.full((64, 64), 255, np.uint8)
    write_png(tmp_path / "train" / "NODULE" / "full.png", flat)
    table = load_source(SPEC, {"kind": "png_folder", "path": str(tmp_path), "classes": ["normal", "nodule"]}, 0)
    assert len(table) == 13 and table["split"].value_counts().to_dict() == {"train": 7, "test": 4, "val": 2}
    row = table.set_index("sample_id").loc["xray-train-NODULE-full"]
    assert row["nodule"] == 1 and row["shape"] == "64x64"
    np.testing.assert_allclose(decode_payload(row), 6.0)  # code 255 -> intensity_scale
    assert (table.set_index("sample_id").loc["xray-test-NORMAL-0", "nodule"]) == 0
    assert validate_sample_table(table, SPEC).report["success"]


def test_png_folder_reader_over_fsspec_with_16_bit_pngs():
    import fsspec

    fs = fsspec.filesystem("memory")
    for cls in ("absent", "present"):  # the task's declared classes
        for i in range(6):
            buffer = io.BytesIO()
            Image.fromarray(np.full((64, 64), 65535 if cls == "present" else 0, np.uint16)).save(buffer, format="PNG")
            fs.pipe(f"/xr/{cls}/{i}.png", buffer.getvalue())
    table = load_source(SPEC, {"kind": "png_folder", "path": "memory://xr"}, 0)
    assert len(table) == 12 and set(table["split"]) == {"train", "val", "test"}
    assert {float(decode_payload(r).max()) for r in table[table["nodule"] == 1].to_dict("records")} == {6.0}


@pytest.mark.parametrize("content, message", [(b"", "empty file"), (b"\x89PNG\r\n\x1a\nnot really", "not a decodable PNG")])
def test_png_folder_reader_sets_empty_and_undecodable_files_aside_by_name(tmp_path, content, message):
    for cls in ("absent", "present"):
        for i in range(4):
            write_png(tmp_path / cls / f"good{i}.png", np.zeros((64, 64), np.uint8))
    (tmp_path / "present" / "bad.png").write_bytes(content)
    source = {"kind": "png_folder", "path": str(tmp_path)}
    assert_file_set_aside(SPEC, source, "xray-present-bad", rf"{tmp_path}/present/bad.png: {message}")
    for good in (tmp_path / "absent").glob("good*.png"):
        good.write_bytes(content)  # none left of one class, and one bad file of the other
    assert len(load_source(SPEC, source, 0)) == 9
    for good in (tmp_path / "present").glob("good*.png"):
        good.write_bytes(content)  # no file decodes: nothing to set aside, the reading stops
    with pytest.raises(SourceError, match=rf"dataset 'xray': none of the 9 image files could be decoded \(first: "
                                          rf".*/absent/good0.png: {message}"):
        load_source(SPEC, source, 0)


def test_png_folder_reader_rejects_unknown_classes_and_empty_trees(tmp_path):
    write_png(tmp_path / "cats" / "x.png", np.zeros((64, 64), np.uint8))
    with pytest.raises(SourceError, match=r"dataset 'xray', task 'nodule': label 'cats' .* is not one of the classes "
                                          r"\['normal', 'nodule'\] \(the source's 'classes'\)"):
        load_source(SPEC, {"kind": "png_folder", "path": str(tmp_path), "classes": ["normal", "nodule"]}, 0)
    declared = resolve_dataset("scans", {"modality": "xray", "source": {"kind": "image_folder", "path": str(tmp_path)},
                                         "tasks": {"finding": {"classes": ["clear", "nodule"]}}})
    with pytest.raises(SourceError, match=r"dataset 'scans', task 'finding': label 'cats' .* is not one of the classes "
                                          r"\['clear', 'nodule'\] \(the task's declared 'classes'\)"):
        load_source(declared, declared.source, 0)
    with pytest.raises(SourceError, match=r"no image files \(.png, .jpg, .jpeg, .gif, .bmp, .tif, .tiff, .dcm, .dicom\) under"):
        load_source(SPEC, {"kind": "png_folder", "path": str(tmp_path / "nothing")}, 0)
