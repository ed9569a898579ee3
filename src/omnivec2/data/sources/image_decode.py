"""Image file bytes (PNG, JPEG, GIF, BMP, TIFF) -> a float32 payload at the dataset's declared shape.

What the file holds is brought to the payload (`[H, W]` for one channel, `[C, H, W]` for C = 3):
* frames: an animated GIF (or multi-page TIFF) gives its first frame;
* channels: grey -> RGB replicates; RGB -> grey is ITU-R 601-2 luma (Pillow's `convert("L")`:
  0.299 R + 0.587 G + 0.114 B); palette, CMYK and YCbCr go through Pillow's RGB conversion;
  alpha is dropped, not composited (as torchvision's ImageFolder loader, `convert("RGB")`), so a
  transparent pixel keeps the colour stored under it;
* depth: 8-bit codes / 255, 16-bit grey codes (PNG, TIFF) / 65535 -> [0, 1];
* size: resized to `[H, W]` with Lanczos in float (antialiased: shrinking widens the kernel with
  the scale, so detail finer than the new pixels averages out instead of aliasing), clipped to
  [0, 1] (Lanczos lobes overshoot at sharp edges); the aspect ratio is not kept, as torchvision's
  `Resize((H, W))`. The EXIF orientation tag is applied first (a phone's portrait photo, stored
  sideways with a tag, is read upright, as viewers show it; torchvision's loader does not do this);
* then multiplied by `intensity_scale`.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import numpy as np

from omnivec2.data.sources.common import SourceError, open_image_checked
from omnivec2.datasets.spec import DatasetSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff")
CHANNEL_MODES = {1: "L", 3: "RGB"}
WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # how Pillow opens 16-bit grey PNG and TIFF


def payload_layout(spec: DatasetSpec) -> tuple[int, int, int]:
    """(C, H, W) of the dataset's payload: `[H, W]` is one channel; SourceError for other layouts."""
    shape = tuple(int(d) for d in spec.payload.shape)
    channels = shape[0] if len(shape) == 3 else 1
    if len(shape) not in (2, 3) or channels not in CHANNEL_MODES:
        raise SourceError(f"dataset {spec.name!r}: image files decode to [H, W] (grey) or [3, H, W] (RGB) "
                          f"payloads, not {list(shape)}")
    return channels, shape[-2], shape[-1]


def decode_image(spec: DatasetSpec, data: bytes, where: str, intensity_scale: float) -> np.ndarray:
    """Image bytes -> float32 `[H, W]` or `[C, H, W]` (the payload's shape) in [0, intensity_scale];
    SourceError naming `where` if the file is empty or undecodable."""
    from PIL import ImageOps, UnidentifiedImageError

    channels, height, width = payload_layout(spec)
    if not data:
        raise SourceError(f"dataset {spec.name!r}: {where}: empty file")
    try:
        with open_image_checked(data, where) as image:  # pixel limit before decoding
            image.seek(0)  # an animation's first frame
            image.load()
            planes = unit_planes(ImageOps.exif_transpose(image), channels)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        suffix = PurePosixPath(where).suffix.lstrip(".").upper()
        raise SourceError(f"dataset {spec.name!r}: {where}: not a decodable {suffix or 'image'} file ({error})") from None
    pixels = resize(planes, height, width) * float(intensity_scale)
    return (pixels[0] if channels == 1 else pixels).astype(np.float32)


def unit_planes(image, channels: int) -> np.ndarray:
    """A loaded PIL image -> float32 `[channels, h, w]` in [0, 1] (see the module docstring)."""
    if image.mode == "F":
        raise ValueError("32-bit float pixels have no code range to map to [0, 1]; save 8- or 16-bit images")
    if image.mode in WIDE_GREY:
        grey = np.asarray(image, dtype=np.float64)
        if grey.min() < 0 or grey.max() > 65535:
            raise ValueError(f"grey codes span {grey.min():.0f}..{grey.max():.0f}, outside 16 bits")
        return np.repeat((grey / 65535.0)[None], channels, axis=0).astype(np.float32)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # Pillow resolves a palette's transparency through RGBA
    if image.mode not in ("1", "L"):
        image = image.convert("RGB")  # drops alpha; palette, CMYK, YCbCr -> RGB
    image = image.convert(CHANNEL_MODES[channels])  # grey -> RGB replicates; RGB -> L is 601-2 luma
    codes = np.asarray(image).reshape(image.height, image.width, channels).transpose(2, 0, 1)
    return (codes / 255.0).astype(np.float32)


def resize(planes: np.ndarray, height: int, width: int) -> np.ndarray:
    """`[C, h, w]` in [0, 1] -> `[C, height, width]` in [0, 1]: Lanczos per channel, clipped."""
    from PIL import Image

    if planes.shape[1:] == (height, width):
        return planes
    resized = [np.asarray(Image.fromarray(plane).resize((width, height), Image.Resampling.LANCZOS)) for plane in planes]
    return np.clip(np.stack(resized), 0.0, 1.0)
