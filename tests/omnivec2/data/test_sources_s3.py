"""Every registered modality reads its standard-format fixture from an s3:// URI on the loopback S3 server,
and gets exactly the sample table it gets from the same files on local disk.

Each fixture is the one the modality's own tests write (their writer helpers are imported from there); it is
written to a local folder, uploaded under `s3://<bucket>/fixture/`, and the source's local paths are
rewritten to S3 URIs. Plus: transient S3 errors (503 SlowDown) are retried with back-off.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.sources.common import S3_RETRIES, storage_options
from tests.default_suite import DATASETS
from tests.s3_server import FlakyS3Proxy


# ----- one standard-format fixture per modality: folder -> source with local paths -----------------------
def image_npz(root: Path) -> dict:  # tests/omnivec2/data/test_sources.py::test_npy_source
    rng = np.random.default_rng(1)
    np.savez(root / "images.npz", x=rng.integers(0, 17, size=(30, 8, 8)).astype(np.uint8), y=np.arange(30) % 10,
             sample_id=np.array([f"img-{i}" for i in range(30)]))
    return {"kind": "npy", "path": str(root / "images.npz")}


def video_folder(root: Path) -> dict:  # test_video.py::test_video_folder_reader_decodes_resizes_and_resamples_frames
    from tests.omnivec2.modalities.test_video import write_video

    rows = []
    for i in range(10):
        frames = np.repeat(np.repeat(np.arange(24, dtype=np.uint8)[:, None, None] * 10, 64, axis=1), 80, axis=2)
        write_video(root / f"clip{i}.avi", frames, "FFV1")
        rows.append({"path": f"clip{i}.avi", "digit": i % 10, "direction": "up" if i % 2 else "right",
                     "split": (["train"] * 6 + ["val"] + ["test"] * 3)[i]})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)
    classes = {"direction": ["right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"]}
    return {"kind": "video_folder", "path": str(root), "classes": classes}


def esc50_folder(root: Path) -> dict:  # test_audio.py::test_esc50_folder_reads_folds_resamples_and_mixes
    from tests.omnivec2.modalities.test_audio import esc50_rows, write_esc50

    write_esc50(root, esc50_rows())
    return {"kind": "esc50", "path": str(root)}


def text_jsonl(root: Path) -> dict:  # test_text.py::test_jsonl_with_integer_labels_and_seeded_splits
    (root / "texts.jsonl").write_text(
        "".join(json.dumps({"text": f"tweet {i} ü", "label": i % 3}) + "\n" for i in range(30)), encoding="utf-8")
    return {"kind": "text_table", "path": str(root / "texts.jsonl")}


def gunpoint_like_ts(root: Path) -> dict:  # test_time_series.py::test_ts_fixture_for_this_modality
    from tests.omnivec2.modalities.test_time_series import ts_text

    (root / "X_TRAIN.ts").write_text(ts_text(["1", "2"] * 5))
    (root / "X_TEST.ts").write_text(ts_text(["2", "1", "1"], start=100.0))
    return {"kind": "ts_file", "train_path": str(root / "X_TRAIN.ts"), "test_path": str(root / "X_TEST.ts"),
            "classes": ["1", "2"], "id_prefix": "toy"}


def imu_ts(root: Path) -> dict:  # test_sources.py::test_ts_file_parses_a_written_fixture, at imu's 6 channels
    from tests.omnivec2.data.test_sources import TS_TRAIN, _write_ts, widen_ts

    return _write_ts(root, train=widen_ts(TS_TRAIN, 3), test=widen_ts(TS_TRAIN, 3)) | {"val_fraction": 0.5,
                                                                                       "id_prefix": "toy"}


def wine_like_table(root: Path) -> dict:  # test_sources.py::test_table_source_reads_csv_and_parquet
    from tests.omnivec2.data.test_sources import _user_frame

    _user_frame().to_parquet(root / "user.parquet")
    return {"kind": "table", "path": str(root / "user.parquet"), "target_column": "label", "id_column": "id",
            "split_column": "part", "classes": ["a", "b", "c", "d"]}


def regression_csv(root: Path) -> dict:  # test_tabular_regression.py::test_regression_table_reads_a_csv_...
    from tests.omnivec2.modalities.test_tabular_regression import user_table

    user_table(root / "user.csv")
    return {"kind": "regression_table", "path": str(root / "user.csv"), "target_column": "y", "split_column": "part"}


def sdf_files(root: Path) -> dict:  # test_graph.py::test_sdf_source_train_and_test_files
    from tests.omnivec2.modalities.test_graph import ACETONITRILE, ETHANOL

    (root / "train.sdf").write_text((ETHANOL + ACETONITRILE) * 5)
    (root / "test.sdf").write_text(ACETONITRILE + ETHANOL)
    return {"kind": "sdf", "train_path": str(root / "train.sdf"), "test_path": str(root / "test.sdf"),
            "label_property": "class", "classes": ["insoluble", "soluble"], "val_fraction": 0.2}


def point_folder(root: Path) -> dict:  # test_point_cloud.py::test_point_folder_reads_off_ply_npy
    from tests.omnivec2.modalities.test_point_cloud import _write_folder

    return _write_folder(root)


def nyu_depth(root: Path) -> dict:  # test_depth.py::test_depth_folder_reads_png_and_npy_with_label_maps
    from tests.omnivec2.modalities.test_depth import _write_nyu

    return _write_nyu(root)


def thermal_folder(root: Path) -> dict:  # test_infrared.py::test_thermal_folder_reads_16_bit_png_and_npy
    from tests.omnivec2.modalities.test_infrared import _write_folder

    return _write_folder(root)


def xray_png_folder(root: Path) -> dict:  # test_xray.py::test_png_folder_reader_with_split_folders_resizes_and_scales
    from tests.omnivec2.modalities.test_xray import write_png

    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("val", 1), ("test", 2)):
        for cls in ("NODULE", "NORMAL"):
            for i in range(count):
                write_png(root / split / cls / f"{i}.png", rng.integers(0, 256, (32, 32), dtype=np.uint8))
    write_png(root / "train" / "NODULE" / "full.png", np.full((64, 64), 255, np.uint8))
    return {"kind": "png_folder", "path": str(root), "classes": ["normal", "nodule"]}


def hsi_mat(root: Path) -> dict:  # test_hyperspectral.py::test_scene_reader_mat_tiles_and_resamples
    from scipy.io import savemat

    from tests.omnivec2.modalities.test_hyperspectral import scene

    cube, gt = scene()
    savemat(root / "pines.mat", {"indian_pines": cube, "indian_pines_gt": gt})
    return {"kind": "hsi_scene", "path": str(root / "pines.mat"), "scale": 1000.0}


def rgb_png_folder(root: Path) -> dict:  # test_rgb.py::test_rgb_png_folder_keeps_colour_and_scales_to_unit_range
    from PIL import Image

    for cls, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        (root / cls).mkdir()
        for i in range(5):
            Image.fromarray(np.full((32, 32, 3), colour, np.uint8)).save(root / cls / f"{i}.png")
    return {"kind": "png_folder", "path": str(root), "classes": ["red", "blue"]}


FIXTURES = {
    "image": image_npz, "video": video_folder, "audio": esc50_folder, "text": text_jsonl,
    "time_series": gunpoint_like_ts, "imu": imu_ts, "tabular": wine_like_table, "tabular_regression": regression_csv,
    "graph": sdf_files, "point_cloud": point_folder, "depth": nyu_depth, "infrared": thermal_folder,
    "xray": xray_png_folder, "hyperspectral": hsi_mat, "rgb": rgb_png_folder,
}


def on_s3(source: dict, root: Path, uri: str) -> dict:
    """The same source with every path under `root` rewritten to the same key under `uri`."""
    local = str(root)
    return {k: uri + v[len(local):] if isinstance(v, str) and v.startswith(local) else v for k, v in source.items()}


def test_every_registered_modality_has_an_s3_fixture():
    assert set(FIXTURES) == set(DATASETS)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_from_s3_gives_the_local_sample_table(name, tmp_path, s3):
    spec = DATASETS[name]
    root = tmp_path / "fixture"
    root.mkdir()
    source = FIXTURES[name](root)
    bucket = s3.bucket(name)
    s3.upload_folder(root, bucket, prefix="fixture")
    remote_source = on_s3(source, root, f"s3://{bucket}/fixture") | {"storage_options": s3.options}
    assert any(str(v).startswith("s3://") for v in remote_source.values())

    local = load_source(spec, source, seed=0)
    remote = load_source(spec, remote_source, seed=0)
    assert len(local) > 0
    pd.testing.assert_frame_equal(remote.reset_index(drop=True), local.reset_index(drop=True))


# ----- retries with back-off on transient errors ------------------------------------------------------------
@pytest.fixture
def csv_on_s3(s3, tmp_path):
    from tests.omnivec2.data.test_sources import _user_frame

    bucket = s3.bucket("flaky")
    s3.client.put_object(Bucket=bucket, Key="user.csv", Body=_user_frame().to_csv(index=False).encode())
    return f"s3://{bucket}/user.csv"


def test_transient_s3_errors_are_retried_with_back_off(s3, csv_on_s3, monkeypatch):
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    spec = DATASETS["tabular"]
    expected = load_source(spec, {"kind": "table", "path": csv_on_s3, "target_column": "label",
                                  "classes": ["a", "b", "c", "d"], "storage_options": s3.options}, seed=0)
    for status, failures in ((503, 2), (500, 1)):  # SlowDown (s3fs and botocore retry it), InternalError (botocore)
        with FlakyS3Proxy(s3.endpoint, failures=failures, status=status) as proxy:
            source = {"kind": "table", "path": csv_on_s3, "target_column": "label", "classes": ["a", "b", "c", "d"],
                      "storage_options": s3.storage_options(proxy.endpoint, skip_instance_cache=True)}
            table = load_source(spec, source, seed=0)
        assert proxy.failed == failures and proxy.forwarded >= 1
        pd.testing.assert_frame_equal(table, expected)


def test_the_retry_budget_comes_from_the_storage_options(s3, csv_on_s3):
    assert storage_options(csv_on_s3, {})["config_kwargs"]["retries"] == S3_RETRIES
    assert storage_options(csv_on_s3, {"storage_options": {"config_kwargs": {"retries": {"max_attempts": 1}}}}) == {
        "config_kwargs": {"retries": {"max_attempts": 1}}}
    assert storage_options("/local/file.csv", {}) == {}
    failed = {}
    for attempts in (1, 2):  # a server that never recovers: each request is tried `attempts` times
        with FlakyS3Proxy(s3.endpoint, failures=10**6, status=500) as proxy:
            options = s3.storage_options(proxy.endpoint, skip_instance_cache=True,
                                         config_kwargs={"retries": {"max_attempts": attempts, "mode": "standard"}})
            with pytest.raises(SourceError, match=r"dataset 'tabular': cannot read 's3://.*user\.csv'"):
                load_source(DATASETS["tabular"], {"kind": "table", "path": csv_on_s3, "target_column": "label",
                                                  "storage_options": options}, seed=0)
        failed[attempts] = proxy.failed
    assert 1 <= failed[1] < failed[2], failed  # more attempts, more (failed) requests before giving up
