"""16 bits per colour channel (48-bit RGB and 64-bit RGBA PNG, 48-bit TIFF): decoded at full depth,
not cut to 8 bits as Pillow does, then brought to the declared channels and size like other formats."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from omnivec2.data.sources.image_decode import decode_image
from omnivec2.datasets import resolve_dataset


def spec(channels: int, size=(16, 20)):
    return resolve_dataset("photos", {"modality": "image", "shape": {"size": list(size), "channels": channels, "patch": 4},
                                      "source": {"kind": "image_folder", "path": "unused"},
                                      "tasks": {"animal": {"classes": ["cat", "dog"]}}})


def deep_rgb(height: int = 16, width: int = 20) -> np.ndarray:
    """`[h, w, 3]` uint16 RGB whose codes differ below the top byte (8 bits would merge them)."""
    rows, cols = np.indices((height, width))
    return np.stack([1000 + 37 * rows + cols, 30001 + 5 * cols, 65535 - 111 * rows], axis=-1).astype(np.uint16)


def encode(rgb: np.ndarray, ext: str = ".png", alpha: np.ndarray | None = None) -> bytes:
    bgr = rgb[..., ::-1] if alpha is None else np.concatenate([rgb[..., ::-1], alpha[..., None]], axis=-1)
    ok, buffer = cv2.imencode(ext, np.ascontiguousarray(bgr))
    assert ok
    return buffer.tobytes()


def with_exif_orientation(png: bytes, orientation: int) -> bytes:
    """The PNG with an eXIf chunk (orientation tag) inserted after IHDR, as cameras' converters write."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    body = exif.tobytes()
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
    end_of_ihdr = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, crc
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


@pytest.mark.parametrize("ext", [".png", ".tiff"])
def test_48_bit_rgb_keeps_sixteen_bits_per_channel(ext):
    rgb = deep_rgb()
    data = encode(rgb, ext)
    assert Image.open(io.BytesIO(data)).mode == "RGB"  # what Pillow would hand on: 8 bits
    pixels = decode_image(spec(3), data, f"cat/deep{ext}", 1.0)
    assert pixels.shape == (3, 16, 20) and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels, rgb.transpose(2, 0, 1) / 65535.0, atol=1e-7)
    assert len(np.unique(pixels[0])) == len(np.unique(rgb[..., 0]))  # the low byte still tells pixels apart


def test_64_bit_rgba_drops_alpha_and_one_channel_is_601_luma():
    rgb = deep_rgb()
    alpha = np.zeros(rgb.shape[:2], np.uint16)  # fully transparent: alpha dropped, not composited
    grey = decode_image(spec(1), encode(rgb, alpha=alpha), "cat/rgba.png", 1.0)
    assert grey.shape == (16, 20)
    expected = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 65535.0
    np.testing.assert_allclose(grey, expected, atol=1e-6)
    colour = decode_image(spec(3), encode(rgb, alpha=alpha), "cat/rgba.png", 2.0)  # intensity_scale applies
    np.testing.assert_allclose(colour, 2.0 * rgb.transpose(2, 0, 1) / 65535.0, atol=1e-6)


def test_48_bit_rgb_of_another_size_is_resized_like_the_8_bit_path():
    rgb = np.empty((40, 50, 3), np.uint16)
    rgb[...] = (51400, 25700, 12850)  # (200, 100, 50) x 257: the same colour in 8 and 16 bits
    deep = decode_image(spec(3), encode(rgb), "cat/big.png", 1.0)
    shallow = np.asarray(Image.new("RGB", (50, 40), (200, 100, 50)))
    ok, buffer = cv2.imencode(".png", shallow[..., ::-1].copy())
    eight = decode_image(spec(3), buffer.tobytes(), "cat/big8.png", 1.0)
    assert deep.shape == eight.shape == (3, 16, 20)
    np.testing.assert_allclose(deep, eight, atol=1e-6)
    np.testing.assert_allclose(deep.mean(axis=(1, 2)), (200 / 255, 100 / 255, 50 / 255), atol=1e-6)


def test_the_exif_orientation_of_a_48_bit_png_is_applied():
    """Stored sideways (20 high, 16 wide) with orientation 6, as the 8-bit test in test_image_folder."""
    upright = deep_rgb()  # [16, 20, 3]
    sideways = np.ascontiguousarray(np.rot90(upright, k=1))  # turned 90 degrees counter-clockwise: [20, 16, 3]
    pixels = decode_image(spec(3), with_exif_orientation(encode(sideways), 6), "cat/portrait.png", 1.0)
    np.testing.assert_allclose(pixels, upright.transpose(2, 0, 1) / 65535.0, atol=1e-7)


def test_a_broken_48_bit_png_is_named():
    from omnivec2.data.sources import SourceError

    data = bytearray(encode(deep_rgb()))
    data[60:] = b"\0" * (len(data) - 60)  # header intact, pixels gone
    with pytest.raises(SourceError, match=r"dataset 'photos': cat/broken.png: not a decodable PNG file"):
        decode_image(spec(3), bytes(data), "cat/broken.png", 1.0)
