"""RGB: the visible-light renderer (paired with the infrared frames), the RGB PNG ImageFolder reader,
8x8x3 ViT patch tokens (bad inputs: tests/omnivec2/validation/test_bad_inputs.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import load_source
from tests.default_suite import DATASETS
from omnivec2.validation import validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside

SPEC = DATASETS["rgb"]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def test_default_source_pairs_every_frame_with_the_infrared_scene(table):
    assert table["split"].value_counts().to_dict() == {"train": 552, "test": 92, "val": 92}
    assert set(table["shape"]) == {"3x64x64"} and table["sample_id"].is_unique
    infrared = load_source(DATASETS["infrared"], DATASETS["infrared"].source, seed=0)
    key = lambda ids, marker: [s.replace(marker, "~") for s in ids]  # noqa: E731
    rgb = dict(zip(key(table["sample_id"], "-rgb"), zip(table["split"], table["object"])))
    ir = dict(zip(key(infrared["sample_id"], "-ir"), zip(infrared["split"], infrared["object"])))
    assert rgb == ir  # same scenes: same mesh and same split, one to one
    assert validate_sample_table(table, SPEC).report["success"]


def test_meshes_have_their_own_paint_and_the_floor_is_lit(table):
    frames = np.stack([decode_payload(r) for r in table[table["split"] == "test"].to_dict("records")])  # [92, 3, 64, 64]
    assert frames.shape == (92, 3, 64, 64) and 0.0 <= frames.min() and frames.max() <= 1.0
    colourfulness = (frames.max(axis=1) - frames.min(axis=1)).max(axis=(1, 2))  # grey floor/wall: ~0 (noise only)
    assert np.median(colourfulness) > 0.1


def test_tokens_are_8x8x3_patches_channel_major():
    image = np.zeros((3, 64, 64), np.float32)
    image[2, 0, 8] = 1.0  # blue channel, top-left pixel of the second patch
    tokens = SPEC.tokenizer.transform([image], {})
    assert tokens.shape == (1, 64, 192) and tokens[0, 1, 2 * 64] == 1.0 and tokens.sum() == 1.0


def test_rgb_png_folder_keeps_colour_and_scales_to_unit_range(tmp_path):
    for cls, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        for i in range(5):
            (tmp_path / cls).mkdir(exist_ok=True)
            Image.fromarray(np.full((32, 32, 3), colour, np.uint8)).save(tmp_path / cls / f"{i}.png")
    table = load_source(SPEC, {"kind": "png_folder", "path": str(tmp_path), "classes": ["red", "blue"]}, 0)
    assert len(table) == 10 and set(table["shape"]) == {"3x64x64"}
    red = decode_payload(table.set_index("sample_id").loc["rgb-red-0"])
    np.testing.assert_allclose(red[:, 10, 10], [1.0, 0.0, 0.0])
    assert validate_sample_table(table, SPEC).report["success"]
    (tmp_path / "red" / "5.png").write_bytes(b"")
    assert_file_set_aside(SPEC, {"kind": "png_folder", "path": str(tmp_path), "classes": ["red", "blue"]}, "rgb-red-5",
                          rf"{tmp_path}/red/5.png: empty file")
