"""Users' datasets for the tiny end-to-end run, declared in YAML alone (no Python in the project):
files in the formats people have, at shapes other than the default suite's, several per modality.

* `photos`: an RGB ImageFolder at two sizes (24x24 and 40x32) in the formats people have (PNG,
  JPEG, GIF, palette PNG, PNG with alpha, CMYK JPEG, 48-bit PNG), decoded to the dataset's declared
  single channel at 16x16: a second image dataset next to the 8x8 digits, with the same token width
  (2x2 patches), so the two share one image projection.
* `reviews`: a CSV of texts whose labels are arbitrary names.
* `sounds`: an ESC-50 folder of 2-second 44.1 kHz stereo clips with 3 of ESC-50's 50 classes.
* `motions`: a UEA `.ts` pair (TRAIN/TEST) of 3-channel series of unequal lengths (20-48 steps) with
  missing values, resampled to 32 steps.
* `shoppers`: a CSV table with string categories and missing cells, one token per column, written
  as a German spreadsheet would (`;` separators, decimal commas, Latin-1 with a category `grün`).
* `fields`: a MATLAB `.mat` scene cube (60x60 pixels x 20 bands) with a ground-truth map whose 0 is
  "unlabelled", cut into 16x16 tiles of 8 bands; unlabelled pixels count in no loss and no metric.

and the four of `user_formats` (video, point sets, depth frames, molecules).
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tests.pipelines import user_formats

PHOTO_CLASSES = ["cat", "dog", "fox"]
REVIEW_CLASSES = ["awful", "meh", "great"]
SOUND_TARGETS = {0: "dog", 10: "rain", 40: "helicopter"}  # ESC-50 target ids
MOTION_CLASSES = ["circle", "shake", "still"]
SHOPPER_CLASSES = ["no", "yes"]
FIELD_CLASSES = ["unlabelled", "water", "grass", "road"]


def save_photo(pixels: np.ndarray, path: Path, kind: int) -> None:
    """RGB uint8 `[H, W, 3]` -> one of seven formats (the suffix of `path` is replaced)."""
    import cv2
    from PIL import Image

    image = Image.fromarray(pixels, "RGB")
    if kind == 1:
        image.save(path.with_suffix(".jpg"), quality=95)
    elif kind == 2:
        image.save(path.with_suffix(".gif"))
    elif kind == 3:
        image.quantize(64).save(path.with_suffix(".png"))  # palette PNG
    elif kind == 4:
        alpha = np.full(pixels.shape[:2], 255, np.uint8)
        alpha[0, 0] = 0  # one transparent corner pixel
        Image.fromarray(np.dstack([pixels, alpha]), "RGBA").save(path.with_suffix(".png"))
    elif kind == 5:
        image.convert("CMYK").save(path.with_suffix(".jpg"), quality=95)
    elif kind == 6:  # 48-bit PNG (16 bits per channel; OpenCV writes BGR)
        cv2.imwrite(str(path.with_suffix(".png")), (pixels[..., ::-1].astype(np.uint16) * 257))
    else:
        image.save(path.with_suffix(".png"))


def write_photos(root: Path, per_class: int = 20) -> None:
    rng = np.random.default_rng(0)
    for c, name in enumerate(PHOTO_CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            h, w = (24, 24) if i % 2 else (32, 40)
            pixels = rng.integers(0, 60, size=(h, w, 3))
            pixels[..., c] += 150  # each class dominated by one colour channel: a learnable label
            save_photo(pixels.clip(0, 255).astype(np.uint8), root / name / f"{name}_{i:02d}.png", i % 8)


def write_reviews(path: Path, count: int = 60) -> None:
    words = {"awful": "terrible broken waste", "meh": "fine okay average", "great": "wonderful lovely superb"}
    rows = [{"id": f"r{i:03d}", "text": f"review {i}: {words[REVIEW_CLASSES[i % 3]]}", "label": REVIEW_CLASSES[i % 3]}
            for i in range(count)]
    pd.DataFrame(rows).to_csv(path, index=False)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    pcm = np.clip(samples, -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_sounds(root: Path, per_class: int = 10, seconds: float = 2.0, rate: int = 44100) -> None:
    (root / "audio").mkdir(parents=True)
    (root / "meta").mkdir()
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * rate)) / rate
    rows = []
    for k, (target, category) in enumerate(SOUND_TARGETS.items()):
        for i in range(per_class):
            tone = np.sin(2 * np.pi * (300 + 500 * k) * t)
            stereo = np.stack([tone, 0.8 * tone], axis=1) * 12000 + rng.normal(0, 300, (len(t), 2))
            name = f"{1 + i % 5}-{100 + i}-{'ABC'[k]}-{target}.wav"
            (root / "audio" / name).write_bytes(wav_bytes(stereo, rate))
            rows.append((name, 1 + i % 5, target, category))
    pd.DataFrame(rows, columns=["filename", "fold", "target", "category"]).to_csv(root / "meta" / "esc50.csv", index=False)


def motion(kind: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """One gesture `[3, length]`: a circle in the first two channels, a shake in all three, or rest."""
    t = np.linspace(0, 2 * np.pi, length)
    signal = {"circle": np.stack([np.sin(t), np.cos(t), 0 * t]),
              "shake": np.stack([np.sin(6 * t)] * 3),
              "still": np.zeros((3, length))}[kind]
    return 3 * signal + rng.normal(0, 0.3, (3, length))


def write_motions(folder: Path, per_class: tuple[tuple[str, int], ...] = (("TRAIN", 20), ("TEST", 8))) -> None:
    rng = np.random.default_rng(2)
    folder.mkdir(parents=True)
    header = ["@problemName Motions", "@timeStamps false", "@missing true", "@univariate false", "@dimensions 3",
              "@equalLength false", f"@classLabel true {' '.join(MOTION_CLASSES)}", "@data"]
    for split, count in per_class:
        lines = list(header)
        for i in range(count * len(MOTION_CLASSES)):
            kind = MOTION_CLASSES[i % len(MOTION_CLASSES)]
            series = motion(kind, int(rng.integers(20, 49)), rng)
            channels = [",".join("?" if (i + j) % 17 == 5 else f"{v:.3f}" for j, v in enumerate(c)) for c in series]
            lines.append(":".join(channels) + f":{kind}")
        (folder / f"Motions_{split}.ts").write_text("\n".join(lines) + "\n")


def write_shoppers(path: Path, count: int = 90) -> None:
    rng = np.random.default_rng(3)
    colour = rng.choice(["red", "green", "blue"], count).astype(object)
    frame = pd.DataFrame({
        "id": [f"s{i:03d}" for i in range(count)],
        "age": np.where(np.arange(count) % 7 == 1, np.nan, rng.integers(18, 80, count).astype(float)),
        "colour": np.where(np.arange(count) % 11 == 2, None, colour),
        "income": rng.normal(3000, 800, count).round(2),
        "size": rng.choice(["S", "M", "L"], count),
        "bought": np.where(colour == "red", "yes", "no"),  # learnable from a category
    })
    frame["colour"] = frame["colour"].replace({"green": "grün"})
    frame.to_csv(path, index=False, sep=";", decimal=",", encoding="latin-1")


def write_fields(path: Path, side: int = 64, bands: int = 20) -> None:
    """A scene of four materials in vertical stripes with their own spectra; a fifth of the pixels unlabelled."""
    from scipy.io import savemat

    rng = np.random.default_rng(4)
    spectra = rng.uniform(100, 900, size=(len(FIELD_CLASSES), bands))
    material = (np.arange(side)[None, :] // 4 + np.arange(side)[:, None] // 8) % (len(FIELD_CLASSES) - 1) + 1
    cube = spectra[material] + rng.normal(0, 20, (side, side, bands))
    gt = np.where(rng.random((side, side)) < 0.2, 0, material).astype(np.uint8)
    savemat(path, {"fields": cube, "fields_gt": gt})


def declare(project: Path, data: Path, env: str = "tiny") -> dict:
    """Write the files under `data` and the `datasets:` entries into `project/conf/<env>/`."""
    write_photos(data / "photos")
    write_reviews(data / "reviews.csv")
    write_sounds(data / "sounds")
    write_motions(data / "motions")
    write_shoppers(data / "shoppers.csv")
    write_fields(data / "fields.mat")
    block = {
        "photos": {"modality": "image", "shape": {"size": 16, "channels": 1, "patch": 2},
                   "source": {"kind": "image_folder", "path": str(data / "photos")},
                   "tasks": {"species": {"kind": "classification", "classes": PHOTO_CLASSES}},
                   "card": {"description": "RGB photos at two sizes, read as grey 16x16", "licence": "generated"}},
        "reviews": {"modality": "text", "shape": {"max_tokens": 16},
                    "source": {"kind": "text_table", "path": str(data / "reviews.csv"), "text_column": "text",
                               "label_column": "label", "id_column": "id"},
                    "tasks": {"opinion": {"kind": "classification", "classes": REVIEW_CLASSES}}},
        "sounds": {"modality": "audio", "shape": {"seconds": 2.0},
                   "source": {"kind": "esc50", "path": str(data / "sounds"), "test_fold": 5, "val_fold": 4},
                   "tasks": {"sound": {"kind": "classification", "num_classes": 50}}},
        "motions": {"modality": "time_series", "shape": {"channels": 3, "length": 32, "patch": 8},
                    "source": {"kind": "ts_file", "train_path": str(data / "motions/Motions_TRAIN.ts"),
                               "test_path": str(data / "motions/Motions_TEST.ts"), "length_policy": "resample",
                               "missing": "interpolate"},
                    "tasks": {"gesture": {"kind": "classification", "classes": MOTION_CLASSES}}},
        "shoppers": {"modality": "tabular", "shape": {"columns": 4},
                     "source": {"kind": "table", "path": str(data / "shoppers.csv"), "target_column": "bought",
                                "id_column": "id", "categorical_columns": ["colour", "size"], "allow_missing": True,
                                "separator": ";", "decimal": ",", "encoding": "latin-1"},
                     "tasks": {"bought": {"kind": "classification", "classes": SHOPPER_CLASSES}}},
        "fields": {"modality": "hyperspectral", "shape": {"size": 16, "bands": 8, "patch": 4},
                   "source": {"kind": "hsi_scene", "path": str(data / "fields.mat"), "val_fraction": 0.15,
                              "test_fraction": 0.25},
                   "tasks": {"land": {"kind": "dense", "classes": FIELD_CLASSES, "ignore_index": 0}}},
        **user_formats.declare(data),
    }
    (project / "conf" / env / "parameters_datasets.yml").write_text(yaml.safe_dump({"datasets": block}))
    return block
