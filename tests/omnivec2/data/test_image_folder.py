"""The `image_folder` source: real formats at their own sizes -> the dataset's declared channels and
[height, width], antialiased; files it cannot read are named (validation refuses them by name), not dropped."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import load_source
from omnivec2.datasets import resolve_dataset
from omnivec2.validation import ValidationFailed, validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside

COLOUR = (200, 100, 50)
LUMA = (COLOUR[0] * 299 + COLOUR[1] * 587 + COLOUR[2] * 114) / 1000 / 255  # ITU-R 601-2, as convert("L")


def photos(path, channels: int, kind: str = "image_folder"):
    """A dataset of 16x20 (height x width) pictures with `channels` channels reading `path`."""
    return resolve_dataset("photos", {"modality": "image", "shape": {"size": [16, 20], "channels": channels, "patch": 4},
                                      "source": {"kind": kind, "path": str(path)},
                                      "tasks": {"animal": {"classes": ["cat", "dog"]}}})


def uniform(mode: str, width: int, height: int, value) -> Image.Image:
    return Image.new(mode, (width, height), value)


def write_formats(root) -> dict[str, object]:
    """One file per format (uniform colour, sizes unlike the payload's) -> {sample id: expected RGB in [0, 1]}."""
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    rgb = np.array(COLOUR) / 255
    uniform("RGB", 24, 24, COLOUR).save(root / "cat" / "square.png")
    uniform("RGB", 40, 32, COLOUR).save(root / "cat" / "wide.JPG", quality=95)
    frames = [uniform("RGB", 30, 18, c).convert("P") for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(root / "cat" / "anim.gif", save_all=True, append_images=frames[1:])
    palette = uniform("P", 12, 10, 1)
    palette.putpalette([0, 0, 0, *COLOUR] + [0] * 762)
    palette.save(root / "cat" / "palette.png", transparency=0)
    uniform("RGBA", 50, 20, (*COLOUR, 0)).save(root / "dog" / "alpha.png")  # fully transparent: alpha dropped
    uniform("CMYK", 16, 20, (0, 255, 255, 0)).save(root / "dog" / "cmyk.jpeg", quality=95)
    Image.fromarray(np.full((20, 40), 32768, np.uint16)).save(root / "dog" / "deep.png")
    uniform("RGB", 20, 16, COLOUR).save(root / "dog" / "bitmap.bmp")
    uniform("L", 33, 17, 128).save(root / "dog" / "scan.tif")
    return {"square": rgb, "wide": rgb, "anim": (1.0, 0.0, 0.0), "palette": rgb, "alpha": rgb,
            "cmyk": (1.0, 0.0, 0.0), "deep": (32768 / 65535,) * 3, "bitmap": rgb, "scan": (128 / 255,) * 3}


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. Pillow's warning on palette transparency
def test_every_format_becomes_rgb_at_the_declared_height_and_width(tmp_path):
    expected = write_formats(tmp_path)
    spec = photos(tmp_path, 3)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    assert len(table) == 9 and set(table["shape"]) == {"3x16x20"}
    for name, colour in expected.items():
        row = table.loc[next(i for i in table.index if i.endswith(f"-{name}"))]
        pixels = decode_payload(row)
        assert pixels.shape == (3, 16, 20) and pixels.dtype == np.float32 and 0 <= pixels.min() <= pixels.max() <= 1
        lossy = 0.04 if name in ("wide", "cmyk") else 1e-5  # JPEG
        np.testing.assert_allclose(pixels.mean(axis=(1, 2)), colour, atol=lossy, err_msg=name)
    assert table.loc["photos-dog-alpha", "animal"] == 1 and table.loc["photos-cat-anim", "animal"] == 0
    assert validate_sample_table(table.reset_index(), spec).report["success"]


def test_one_channel_is_601_luma_and_keeps_sixteen_bits(tmp_path):
    expected = write_formats(tmp_path)
    spec = photos(tmp_path, 1, kind="png_folder")  # the older name reads the same
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    assert set(table["shape"]) == {"16x20"}
    assert decode_payload(table.loc["photos-cat-square"]) == pytest.approx(np.full((16, 20), LUMA), abs=1 / 255)
    np.testing.assert_allclose(decode_payload(table.loc["photos-dog-deep"]), expected["deep"][0], atol=1e-6)  # not 8-bit


def test_x_ray_pictures_span_the_default_intensity_scale(tmp_path):
    (tmp_path / "test" / "a").mkdir(parents=True)  # split folders: one file needs no split of its own
    Image.fromarray(np.full((30, 30), 65535, np.uint16)).save(tmp_path / "test" / "a" / "x.tiff")
    spec = resolve_dataset("chest", {"modality": "xray", "shape": {"size": [16, 8], "patch": 4},
                                     "source": {"kind": "image_folder", "path": str(tmp_path)},
                                     "tasks": {"finding": {"num_classes": 2}}})
    pixels = decode_payload(load_source(spec, spec.source, 0).iloc[0])
    assert pixels.shape == (16, 8)
    np.testing.assert_allclose(pixels, 6.0, rtol=1e-6)


def test_shrinking_is_antialiased_and_stretches_to_height_by_width(tmp_path):
    folder = tmp_path / "train" / "cat"
    folder.mkdir(parents=True)
    checker = (np.indices((64, 80)).sum(axis=0) % 2 * 255).astype(np.uint8)  # 1-pixel checkerboard, 64 high, 80 wide
    Image.fromarray(checker).save(folder / "checker.png")
    ramp = np.tile(np.linspace(0, 255, 40).astype(np.uint8), (32, 1))  # dark left, bright right
    Image.fromarray(ramp).save(folder / "ramp.png")
    spec = photos(tmp_path, 1)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    fine = decode_payload(table.loc["photos-train-cat-checker"])
    assert np.abs(fine[2:-2, 2:-2] - 0.5).max() < 0.02  # averaged to mid-grey; point sampling gives 0 or 1
    ramp = decode_payload(table.loc["photos-train-cat-ramp"])
    assert ramp.shape == (16, 20) and (np.diff(ramp[8]) > 0).all() and ramp[:, 0].max() < 0.1 < 0.9 < ramp[:, -1].min()


def test_files_that_are_not_images_are_named_and_hidden_ones_ignored(tmp_path):
    write_formats(tmp_path)
    (tmp_path / "cat" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "x.png").write_bytes(b"")
    spec = photos(tmp_path, 3)
    assert len(load_source(spec, spec.source, 0)) == 9
    (tmp_path / "cat" / "notes.txt").write_text("labels by hand")
    (tmp_path / "dog" / "photo.webp").write_bytes(b"RIFF")
    table = load_source(spec, spec.source, 0)  # the two files are rows validation refuses by name
    with pytest.raises(ValidationFailed, match=r"validation failed for dataset 'photos': source_file_was_read on "
                                               r"column 'source_problem' failed for 2 of 11 samples \(e.g. "
                                               r"photos-cat-notes.txt, photos-dog-photo.webp\)"):
        validate_sample_table(table, spec)
    outcome = validate_sample_table(table, spec, mode="quarantine")
    assert len(outcome.valid) == 9 and len(outcome.quarantined) == 2
    problems = outcome.report["source_problems"]
    assert sorted(problems) == ["photos-cat-notes.txt", "photos-dog-photo.webp"]
    assert problems["photos-dog-photo.webp"] == (f"{tmp_path}/dog/photo.webp: not read, a reader of .png, .jpg, .jpeg, "
                                                 ".gif, .bmp, .tif, .tiff, .dcm, .dicom files skips it")


def test_an_undecodable_jpeg_is_named_and_set_aside(tmp_path):
    write_formats(tmp_path)
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    spec = photos(tmp_path, 3)
    assert_file_set_aside(spec, spec.source, "photos-dog-broken",
                          re.escape(f"{tmp_path}/dog/broken.jpg: not a decodable JPG file"), tmp_path / "cache")


def test_the_exif_orientation_tag_is_applied_before_resizing(tmp_path):
    """A 20x16 (width x height) picture stored sideways, 16x20, with orientation 6 (rotate 90 degrees
    clockwise to view) reads as the upright picture: its red left half stays on the left."""
    upright = Image.new("RGB", (20, 16), (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, 10, 16))  # left half red
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    for i in range(4):  # enough files for the split
        upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "cat" / f"portrait{i}.png", exif=exif)
        upright.save(tmp_path / "dog" / f"plain{i}.png")
    table = load_source(photos(tmp_path, 3), photos(tmp_path, 3).source, seed=0)
    for _, row in table.iterrows():
        pixels = decode_payload(row)  # [3, 16, 20]
        assert pixels.shape == (3, 16, 20)
        assert pixels[0, :, :8].mean() > 0.9 and pixels[0, :, 12:].mean() < 0.1, row["sample_id"]
