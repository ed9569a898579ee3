"""Reading single-channel frames (16-bit PNG, 8-bit PNG, `.npy`) and fitting them to a square payload."""

from __future__ import annotations

import io

import numpy as np

FRAME_SUFFIXES = (".png", ".npy")


def decode_frame(data: bytes, name: str) -> np.ndarray:
    """PNG (8/16-bit grey) or `.npy` bytes -> 2-D array (its own dtype); ValueError naming `name`."""
    if not data:
        raise ValueError(f"{name}: empty file")
    if name.lower().endswith(".npy"):
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as error:
            raise ValueError(f"{name}: not a readable .npy array ({error})") from None
    else:
        from PIL import UnidentifiedImageError

        from omnivec2.data.sources.common import open_image_checked

        try:
            with open_image_checked(data, name) as image:  # pixel limit checked before decoding
                image.load()
                array = np.array(image)
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise ValueError(f"{name}: not a decodable PNG ({image_error_text(error)})") from None
    if array.ndim == 3 and array.shape[-1] in (3, 4) and not name.lower().endswith(".npy"):
        array = array[..., :3].mean(axis=-1)  # an RGB(A) PNG of a grey frame
    if array.ndim != 2 or array.size == 0 or array.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected a 2-D numeric frame, got {array.dtype} {array.shape}")
    return array


def image_error_text(error: Exception) -> str:
    """Pillow's error as report text: "cannot identify image file <_io.BytesIO object at 0x...>" names a
    memory address that would differ between runs of an otherwise identical report."""
    from PIL import UnidentifiedImageError

    return "no image format recognised in its bytes" if isinstance(error, UnidentifiedImageError) else str(error)


def fit_square(array: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop `[H, W]` to a square, then nearest-neighbour resize to `[size, size]` (nearest keeps
    label ids and sensor holes intact). Returns float64 for numeric data, the input dtype for labels."""
    h, w = array.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = array[top : top + side, left : left + side]
    index = (np.arange(size) * side // size).astype(np.int64) + (side // size) // 2 if side >= size else (np.arange(size) * side // size)
    return crop[np.ix_(index, index)]
