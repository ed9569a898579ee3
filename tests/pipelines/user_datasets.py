"""Users' datasets for the tiny end-to-end run, declared in YAML alone (no Python in the project):
files in the formats people have, at shapes other than the default suite's, several per modality.

* `photos`: an RGB ImageFolder of PNGs at two sizes (24x24 and 40x32), decoded to the dataset's
  declared single channel at 16x16: a second image dataset next to the 8x8 digits, with the same
  token width (2x2 patches), so the two share one image projection.
* `reviews`: a CSV of texts whose labels are arbitrary names.
* `sounds`: an ESC-50 folder of 2-second 44.1 kHz stereo clips with 3 of ESC-50's 50 classes.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

PHOTO_CLASSES = ["cat", "dog", "fox"]
REVIEW_CLASSES = ["awful", "meh", "great"]
SOUND_TARGETS = {0: "dog", 10: "rain", 40: "helicopter"}  # ESC-50 target ids


def write_photos(root: Path, per_class: int = 20) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(PHOTO_CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            h, w = (24, 24) if i % 2 else (32, 40)
            pixels = rng.integers(0, 60, size=(h, w, 3))
            pixels[..., c] += 150  # each class dominated by one colour channel: a learnable label
            Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB").save(root / name / f"{name}_{i:02d}.png")


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


def declare(project: Path, data: Path, env: str = "tiny") -> dict:
    """Write the files under `data` and the `datasets:` entries into `project/conf/<env>/`."""
    write_photos(data / "photos")
    write_reviews(data / "reviews.csv")
    write_sounds(data / "sounds")
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
    }
    (project / "conf" / env / "parameters_datasets.yml").write_text(yaml.safe_dump({"datasets": block}))
    return block
