"""`moving_digits`: clips of real handwritten digits moving with wall bounces; labels digit and direction.

* Digits: scikit-learn's 1797 8x8 scans (UCI optdigits, 43 writers, BSD), upscaled bilinearly to
  16x16 and mapped from 0..16 to 0..255.
* Motion: a start position uniform in the canvas, a heading of k * 45 degrees (k = direction label,
  0 = right, counter-clockwise with the image's y axis pointing up; 8 classes), a speed of 1.0-2.0
  px/frame; positions reflect off the walls (triangle wave) and are rounded to whole pixels.
  Direction is the heading at frame 0 (a bounce later reverses a component).
* Labels are independent: digit image and heading are drawn separately.
* Splits: the 1797 digit images are split first (stratified by digit, 70/10/20), and a clip's
  digit comes from its split's pool, so test clips show digit images never seen in training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, stratified_splits
from omnivec2.datasets.spec import DatasetSpec

DIGIT = 16  # side of the upscaled digit


def upscaled_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 `[1797, 16, 16]`, labels int64 `[1797]`)."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    data = load_digits()
    images = zoom(data.images, (1, 2, 2), order=1)  # bilinear 8x8 -> 16x16
    return np.clip(images / 16.0 * 255.0, 0, 255).round().astype(np.uint8), data.target.astype(np.int64)


def bounce(start: np.ndarray, velocity: np.ndarray, frames: int, room: float) -> np.ndarray:
    """Positions `[S, T]` in [0, room] of points moving at `velocity` `[S]` from `start` `[S]`, reflected at the walls."""
    free = start[:, None] + velocity[:, None] * np.arange(frames)[None, :]
    return room - np.abs(np.mod(free, 2 * room) - room)


def render(digits: np.ndarray, ys: np.ndarray, xs: np.ndarray, height: int, width: int) -> np.ndarray:
    """Digits `[S, 16, 16]` at integer top-left corners `[S, T]` -> clips uint8 `[S, T, height, width]`."""
    s, t = ys.shape
    clips = np.zeros((s, t, height, width), np.uint8)
    d = np.arange(DIGIT)
    rows = ys[:, :, None, None] + d[None, None, :, None]  # [S, T, 16, 1]
    cols = xs[:, :, None, None] + d[None, None, None, :]  # [S, T, 1, 16]
    clip_index = np.arange(s)[:, None, None, None]
    frame_index = np.arange(t)[None, :, None, None]
    clips[clip_index, frame_index, rows, cols] = digits[:, None]
    return clips


def moving_digit_clips(count: int, seed: int, frames: int = 16, height: int = 32, width: int = 40) -> dict:
    """-> {"clips": uint8 [S, T, H, W], "digit": [S], "direction": [S], "split": [S], "image": [S] source index}."""
    images, labels = upscaled_digits()
    rng = np.random.default_rng(seed)
    image_split = stratified_splits(labels, seed, val=0.1, test=0.2)
    n_val, n_test = round(0.1 * count), round(0.2 * count)
    split = rng.permutation(np.array(["val"] * n_val + ["test"] * n_test + ["train"] * (count - n_val - n_test), dtype=object))
    image = np.empty(count, np.int64)
    for name in ("train", "val", "test"):
        chosen = split == name
        image[chosen] = rng.choice(np.flatnonzero(image_split == name), size=int(chosen.sum()))
    direction = rng.integers(0, 8, size=count)
    speed = rng.uniform(1.0, 2.0, size=count)
    angle = direction * np.pi / 4
    room_y, room_x = height - DIGIT, width - DIGIT
    ys = bounce(rng.uniform(0, room_y, count), -speed * np.sin(angle), frames, room_y)  # y axis points down
    xs = bounce(rng.uniform(0, room_x, count), speed * np.cos(angle), frames, room_x)
    clips = render(images[image], np.rint(ys).astype(int), np.rint(xs).astype(int), height, width)
    return {"clips": clips, "digit": labels[image], "direction": direction.astype(np.int64), "split": split, "image": image}


def load_moving_digits(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload uint8 `[16, 32, 40]` (frames, height, width); targets `digit` (10) and `direction` (8).

    Source keys: `count` (1000). `sample_id` is `mdigits-<seed>-<index>`.
    """
    count = int(source.get("count", 1000))
    if count < 20:
        raise SourceError(f"dataset {spec.name!r}: moving_digits needs count >= 20, got {count}")
    frames, height, width = spec.payload.shape
    data = moving_digit_clips(count, seed, frames, height, width)
    ids = [f"mdigits-{seed}-{i:04d}" for i in range(count)]
    return build_sample_table(ids, list(data["split"]), list(data["clips"]),
                              {"digit": data["digit"], "direction": data["direction"]})
