"""A tiny good dataset on disk for every source kind that reads users' files, for the reader fault tests
(`test_reader_faults.py`): `WRITERS[kind](root) -> (spec, source)`, each written in milliseconds.
The writers reuse the per-modality tests' own fixtures where they have one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from PIL import Image

from omnivec2.datasets import resolve_dataset
from tests.default_suite import default_dataset

# the source kinds that read users' files (the generators of the default suite read none)
FILE_KINDS = ("image_folder", "audio_folder", "video_class_folder", "point_folder", "thermal_folder", "esc50",
              "depth_folder", "video_folder", "text_table", "ts_file", "table", "regression_table", "sdf", "tu",
              "hsi_scene", "npy")
# those that find their files by listing a folder, and those whose files a user's CSV names
LISTING_KINDS = ("image_folder", "audio_folder", "video_class_folder", "point_folder", "thermal_folder")
CSV_LISTED_KINDS = ("esc50", "depth_folder", "video_folder")
PER_SAMPLE_KINDS = LISTING_KINDS + CSV_LISTED_KINDS  # one file per sample: a bad file is one bad sample
# the kinds whose data is one file (or a fixed set: TU), that file: a bad one is the dataset lost
DATASET_FILES = {"text_table": "texts.csv", "ts_file": "train.ts", "table": "wine.csv", "regression_table": "diabetes.csv",
                 "sdf": "all.sdf", "tu": "TOY_A.txt", "hsi_scene": "cube.npy", "npy": "wine.npz"}
SAMPLE_SUFFIXES = (".png", ".off", ".ply", ".npy", ".wav", ".avi")


def written(kind: str, root):
    """A good dataset of source kind `kind` under `root` -> (spec, source)."""
    root.mkdir(parents=True, exist_ok=True)
    return WRITERS[kind](root)


def data_file(kind: str, root):
    """The file of `written(kind, root)` that the fault tests damage or replace: a sample's file (the
    first in path order) for the per-sample kinds, the dataset's file for the others."""
    if kind in DATASET_FILES:
        return root / DATASET_FILES[kind]
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in SAMPLE_SUFFIXES)[0]


def pictures(root, per_class: int = 4, classes=("cat", "dog")):
    """`<root>/<class>/<i>.png`, 16x20 grey: an image dataset of two classes."""
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(np.full((20, 16), 40 * i + c, np.uint8)).save(root / name / f"{i}.png")
    spec = resolve_dataset("photos", {"modality": "image", "shape": {"size": [16, 20], "channels": 1, "patch": 4},
                                      "source": {"kind": "image_folder", "path": str(root)},
                                      "tasks": {"animal": {"classes": list(classes)}}})
    return spec, {"kind": "image_folder", "path": str(root)}


def points(root):
    from tests.omnivec2.modalities.test_point_cloud import _write_folder

    return default_dataset("point_cloud"), _write_folder(root)


def thermal(root):
    from tests.omnivec2.modalities.test_infrared import _write_folder

    return default_dataset("infrared"), _write_folder(root)


def esc50(root):
    from tests.omnivec2.modalities.test_audio import esc50_rows, write_esc50

    write_esc50(root, esc50_rows())
    return default_dataset("audio"), {"kind": "esc50", "path": str(root)}


def depth(root):
    from tests.omnivec2.modalities.test_depth import _write_nyu

    return default_dataset("depth"), _write_nyu(root)


def video(root, count: int = 6):
    from tests.omnivec2.modalities.test_video import write_video

    rows = []
    for i in range(count):
        write_video(root / f"clip{i}.avi", np.full((4, 16, 20), 30 * i, np.uint8), "FFV1")
        rows.append({"path": f"clip{i}.avi", "digit": i % 2, "direction": 0, "split": ["train", "test"][i % 2]})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)
    return default_dataset("video"), {"kind": "video_folder", "path": str(root)}


def texts(root, labels=("negative", "positive") * 5):
    path = root / "texts.csv"
    pd.DataFrame({"text": [f"text number {i}" for i in range(len(labels))], "label": list(labels)}).to_csv(path, index=False)
    return default_dataset("text"), {"kind": "text_table", "path": str(path)}


def series(root):
    from tests.omnivec2.modalities.test_time_series import ts_text

    (root / "train.ts").write_text(ts_text(["1", "2"] * 5))
    (root / "test.ts").write_text(ts_text(["1", "2"] * 2))
    return default_dataset("time_series"), {"kind": "ts_file", "train_path": str(root / "train.ts"),
                                             "test_path": str(root / "test.ts"), "classes": ["1", "2"]}


def wine(root):
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.sample(30, random_state=0)
    frame["target"] = frame["target"].map({0: "class_0", 1: "class_1", 2: "class_2"})
    frame.to_csv(root / "wine.csv", index=False)
    return default_dataset("tabular"), {"kind": "table", "path": str(root / "wine.csv"), "target_column": "target"}


def diabetes(root):
    from sklearn.datasets import load_diabetes

    load_diabetes(as_frame=True).frame.head(30).to_csv(root / "diabetes.csv", index=False)
    return default_dataset("tabular_regression"), {"kind": "regression_table", "path": str(root / "diabetes.csv"),
                                                    "target_column": "target"}


def molecules(root, labels=("soluble", "insoluble") * 4):
    from tests.omnivec2.modalities.test_graph import molblock, small_molecules

    (root / "all.sdf").write_text("".join(molblock(f"m{i}", ["C", "C", "O"], [(1, 2, 1), (2, 3, 1)],
                                                   {"ID": f"m{i}", "class": label}) for i, label in enumerate(labels)))
    spec = small_molecules(root / "all.sdf")
    return spec, dict(spec.source)


def tu(root):
    from tests.omnivec2.modalities.test_graph import write_tu

    return default_dataset("graph"), write_tu(root)


def scene(root):
    from tests.omnivec2.modalities.test_hyperspectral import scene as make_scene

    cube, gt = make_scene()
    np.save(root / "cube.npy", cube)
    np.save(root / "gt.npy", gt)
    return default_dataset("hyperspectral"), {"kind": "hsi_scene", "path": str(root / "cube.npy"),
                                              "gt_path": str(root / "gt.npy"), "scale": 1000.0}


def clips(root):
    """`<root>/<word>/<i>.wav`, 0.25 s at 8 kHz (resampled to the default 16 kHz): a spoken-digit folder
    of two classes."""
    from tests.omnivec2.modalities.test_audio import wav_bytes

    for c, word in enumerate(("3", "7")):  # the default audio dataset's digit classes
        (root / word).mkdir(parents=True, exist_ok=True)
        for i in range(5):
            t = np.arange(2000) / 8000
            tone = 8000 * np.sin(2 * np.pi * (300 + 100 * i + 50 * c) * t)
            (root / word / f"{i}.wav").write_bytes(wav_bytes(tone, 8000))
    return default_dataset("audio"), {"kind": "audio_folder", "path": str(root)}


def action_videos(root):
    """`<root>/<action>/<i>.avi`: 4 grey frames of 16x20, a video class folder of two classes."""
    from tests.omnivec2.data.test_video_class_folder import actions
    from tests.omnivec2.modalities.test_video import write_video

    for c, action in enumerate(("ApplyEyeMakeup", "Archery")):
        (root / action).mkdir(parents=True, exist_ok=True)
        for i in range(4):
            write_video(root / action / f"{i}.avi", np.full((4, 16, 20), 30 * i + 100 * c, np.uint8), "FFV1")
    spec = actions(root)
    return spec, dict(spec.source)


def arrays(root):
    rng = np.random.default_rng(0)
    np.savez(root / "wine.npz", x=rng.random((20, 13)).astype(np.float32), y=np.arange(20) % 3)
    return default_dataset("tabular"), {"kind": "npy", "path": str(root / "wine.npz")}


WRITERS = {"image_folder": pictures, "audio_folder": clips, "video_class_folder": action_videos,
           "point_folder": points, "thermal_folder": thermal, "esc50": esc50, "depth_folder": depth,
           "video_folder": video, "text_table": texts, "ts_file": series, "table": wine,
           "regression_table": diabetes, "sdf": molecules, "tu": tu, "hsi_scene": scene, "npy": arrays}


def with_classes_inferred(spec):
    """`spec` with its first task's class list left to the labels read (so near-duplicates would become classes)."""
    first = replace(spec.tasks[0], classes=(), num_classes=0, infer_classes=True)
    return replace(spec, tasks=(first, *spec.tasks[1:]))
