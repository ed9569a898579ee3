"""Video: the moving-digits generator (bounces, independent labels, unseen digit scans in test), the
video-folder + CSV reader (OpenCV), tubelet tokens with tube masking (bad inputs: tests/omnivec2/validation/test_bad_inputs.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from tests.default_suite import DATASETS
from omnivec2.model.masking import make_mask
from omnivec2.tokens.tubelets import Tubelets
from omnivec2.validation import validate_sample_table

SPEC = DATASETS["video"]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def test_default_source_counts_splits_labels_and_determinism(table):
    assert table["split"].value_counts().to_dict() == {"train": 700, "test": 200, "val": 100}
    assert set(table["shape"]) == {"16x32x40"} and set(table["dtype"]) == {"uint8"}
    assert sorted(table["digit"].unique()) == list(range(10)) and sorted(table["direction"].unique()) == list(range(8))
    contingency = pd.crosstab(table["digit"], table["direction"])
    assert (contingency > 0).all().all()  # every digit moves in every direction: labels independent
    small = {"kind": "moving_digits", "count": 30}
    a, b, c = (load_source(SPEC, small, seed) for seed in (1, 1, 2))
    assert a.equals(b) and not a["payload"].equals(c["payload"])
    assert validate_sample_table(table, SPEC).report["success"]


def test_test_clips_show_unseen_digit_scans():
    from omnivec2.data.embedded.moving_digits import moving_digit_clips

    data = moving_digit_clips(300, seed=4)
    train, test = set(data["image"][data["split"] == "train"]), set(data["image"][data["split"] == "test"])
    assert train and test and not train & test


def test_motion_bounces_off_the_walls_and_follows_the_heading():
    from omnivec2.data.embedded.moving_digits import bounce, render

    xs = bounce(np.array([20.0]), np.array([2.0]), 6, 24.0)
    np.testing.assert_allclose(xs[0], [20, 22, 24, 22, 20, 18])  # reflected at x = 24
    digit = np.zeros((1, 16, 16), np.uint8)
    digit[0, 0, 0] = 200
    clips = render(digit, np.array([[0, 1]]), np.array([[3, 5]]), 32, 40)
    assert clips[0, 0, 0, 3] == 200 and clips[0, 1, 1, 5] == 200 and clips.sum() == 400
    from omnivec2.data.embedded.moving_digits import moving_digit_clips

    data = moving_digit_clips(200, seed=1)
    centre = lambda clip, t: np.array(np.nonzero(clip[t])).mean(axis=1)  # noqa: E731  (row, column)
    right = [i for i in range(200) if data["direction"][i] == 0]
    moved = [centre(data["clips"][i], 1)[1] - centre(data["clips"][i], 0)[1] for i in right]
    assert np.mean(np.array(moved) > 0) > 0.8  # heading 0 = rightwards (except right after a wall)


def test_tubelets_shapes_hand_value_and_tube_masking():
    clip = np.zeros((16, 32, 40), np.uint8)
    clip[5, 9, 17] = 255  # frame 5 -> slice 1, position 1 inside it; row 9, col 17 -> patch (1, 2), offset (1, 1)
    tokens = SPEC.tokenizer.transform([clip], {})
    assert tokens.shape == (1, 80, 256)
    assert tokens[0, 1 * 20 + 1 * 5 + 2, 1 * 64 + 1 * 8 + 1] == 1.0 and tokens.sum() == 1.0
    assert Tubelets(2, 8).transform([clip], {}).shape == (1, 160, 128)
    mask = make_mask("tube", 2, 80, SPEC.mask.ratio, period=SPEC.mask.tube_period, generator=torch.Generator().manual_seed(0))
    hidden = mask.masked.reshape(2, 4, 20)
    assert hidden.sum().item() == 2 * 72 and (hidden == hidden[:, :1]).all()  # 18 of 20 positions, same in every slice


def write_video(path, frames: np.ndarray, codec: str = "MJPG") -> None:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 10, (frames.shape[2], frames.shape[1]), isColor=False)
    for frame in frames:
        writer.write(frame)
    writer.release()


def test_video_folder_reader_decodes_resizes_and_resamples_frames(tmp_path):
    rows = []
    for i in range(10):
        frames = np.repeat(np.arange(24, dtype=np.uint8)[:, None, None] * 10, 64, axis=1)
        frames = np.repeat(frames, 80, axis=2)  # 24 frames of 64x80, frame k has value 10k
        write_video(tmp_path / f"clip{i}.avi", frames, "FFV1")
        rows.append({"path": f"clip{i}.avi", "digit": i % 10, "direction": "up" if i % 2 else "right",
                     "split": ["train", "train", "train", "train", "train", "train", "val", "test", "test", "test"][i]})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    classes = {"direction": ["right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"]}
    table = load_source(SPEC, {"kind": "video_folder", "path": str(tmp_path), "classes": classes}, 0)
    assert len(table) == 10 and table["split"].value_counts().to_dict() == {"train": 6, "test": 3, "val": 1}
    row = table.set_index("sample_id").loc["video-clip3"]
    assert row["direction"] == 2 and row["digit"] == 3
    clip = decode_payload(row)
    assert clip.shape == (16, 32, 40)
    expected = np.rint(np.linspace(0, 23, 16)).astype(int) * 10  # frames resampled evenly, lossless codec
    np.testing.assert_array_equal(clip[:, 10, 10], expected)
    assert validate_sample_table(table, SPEC).report["success"]


def test_video_folder_reader_over_fsspec(tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    for i in range(12):
        write_video(tmp_path / "v.avi", np.full((16, 32, 40), 100, np.uint8))
        fs.pipe(f"/vids/v{i}.avi", (tmp_path / "v.avi").read_bytes())
    csv = pd.DataFrame({"path": [f"v{i}.avi" for i in range(12)], "digit": [i % 2 for i in range(12)], "direction": 0})
    fs.pipe("/vids/labels.csv", csv.to_csv(index=False).encode())
    table = load_source(SPEC, {"kind": "video_folder", "path": "memory://vids"}, 0)
    assert len(table) == 12 and set(table["split"]) == {"train", "val", "test"}
    assert abs(float(decode_payload(table.iloc[0]).mean()) - 100) < 3  # MJPG is lossy


@pytest.mark.parametrize("content, message", [(b"", "empty file"), (b"RIFF\x00\x00\x00\x00AVI garbage" * 4, "no decodable video frames")])
def test_video_folder_reader_rejects_empty_and_undecodable_files(tmp_path, content, message):
    (tmp_path / "bad.avi").write_bytes(content)
    pd.DataFrame({"path": ["bad.avi"], "digit": [1], "direction": [2]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(SourceError, match=rf"dataset 'video': .*bad.avi: {message}"):
        load_source(SPEC, {"kind": "video_folder", "path": str(tmp_path)}, 0)


def test_video_folder_reader_rejects_a_csv_without_task_columns(tmp_path):
    pd.DataFrame({"path": ["a.avi"], "digit": [1]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(SourceError, match=r"labels.csv: missing column\(s\) \['direction'\]"):
        load_source(SPEC, {"kind": "video_folder", "path": str(tmp_path)}, 0)
