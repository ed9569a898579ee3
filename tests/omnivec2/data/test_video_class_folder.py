"""The `video_class_folder` source: UCF-101-style class folders of videos in several containers ->
grey clips of the declared frames and size; its test list names the test videos, val is drawn from the rest."""

from __future__ import annotations

import numpy as np
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import load_source
from omnivec2.datasets import resolve_dataset
from omnivec2.validation import validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside
from tests.omnivec2.modalities.test_video import write_video

ACTIONS = ("ApplyEyeMakeup", "Archery")


def actions(path, **source):
    """A video dataset of 8 frames of 16x20 with UCF-101's first two classes, reading `path`."""
    return resolve_dataset("ucf", {"modality": "video", "shape": {"frames": 8, "size": [16, 20], "tubelet": 4, "patch": 4},
                                   "source": {"kind": "video_class_folder", "path": str(path), **source},
                                   "tasks": {"action": {"classes": list(ACTIONS)}}})


def write_ucf(root, per_class: int = 6, test_list: bool = False) -> None:
    """`<class>/v_<class>_g<i>_c01.<avi|mp4>`: 12-frame 32x40 clips whose frame k has value 10 k + 100 c,
    and (`test_list`) UCF-101's `testlist01.txt` naming the videos of group 1 of each class."""
    for c, action in enumerate(ACTIONS):
        (root / action).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            frames = (np.arange(12, dtype=np.uint8)[:, None, None] * 10 + 100 * c) * np.ones((1, 32, 40), np.uint8)
            suffix, codec = (".avi", "FFV1") if i % 2 else (".mp4", "mp4v")
            write_video(root / action / f"v_{action}_g{i:02d}_c01{suffix}", frames, codec)
    if test_list:
        (root / "testlist01.txt").write_text("".join(f"{a}/v_{a}_g01_c01.avi\r\n" for a in ACTIONS))


def test_class_folders_of_avi_and_mp4_become_clips_of_the_declared_frames_and_size(tmp_path):
    write_ucf(tmp_path)
    spec = actions(tmp_path)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    assert len(table) == 12 and set(table["shape"]) == {"8x16x20"}
    row = table.loc["ucf-Archery-v_Archery_g02_c01"]
    clip = decode_payload(row)
    assert row["action"] == 1 and clip.dtype == np.uint8
    lossless = decode_payload(table.loc["ucf-Archery-v_Archery_g01_c01"])  # FFV1: the values themselves
    expected = 100 + 10 * np.rint(np.linspace(0, 11, 8))
    np.testing.assert_array_equal(lossless.reshape(8, -1).mean(axis=1), expected)
    np.testing.assert_allclose(clip.reshape(8, -1).mean(axis=1), expected, atol=3)  # mp4v: lossy
    assert validate_sample_table(table.reset_index(), spec).report["success"]


def test_the_test_list_names_the_test_videos_and_val_is_drawn_from_the_rest(tmp_path):
    write_ucf(tmp_path, test_list=True)
    spec = actions(tmp_path, test_list="testlist01.txt", val_fraction=0.2)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    assert sorted(table.index[table["split"] == "test"]) == [f"ucf-{a}-v_{a}_g01_c01" for a in ACTIONS]
    val = table[table["split"] == "val"]
    assert len(val) == 2 and sorted(val["action"]) == [0, 1]  # stratified: one of each class
    assert (table["split"] == "train").sum() == 8
    no_val = actions(tmp_path, test_list="testlist01.txt", val_fraction=0.0)
    assert set(load_source(no_val, no_val.source, 0)["split"]) == {"train", "test"}


def test_a_video_that_does_not_decode_is_named_and_set_aside(tmp_path):
    write_ucf(tmp_path)
    (tmp_path / "Archery" / "v_Archery_g03_c01.avi").write_bytes(b"RIFF" + bytes(200))
    assert_file_set_aside(actions(tmp_path), actions(tmp_path).source, "ucf-Archery-v_Archery_g03_c01",
                          rf"{tmp_path}/Archery/v_Archery_g03_c01\.avi: no decodable video frames",
                          cache=tmp_path / "cache")
