"""Image file bytes (PNG, JPEG, GIF, BMP, TIFF) -> a float32 payload at the dataset's declared shape.

What the file holds is brought to the payload (`[H, W]` for one channel, `[C, H, W]` for C = 3):
* frames: an animated GIF (or multi-page TIFF) gives its first frame;
* channels: grey -> RGB replicates; RGB -> grey is ITU-R 601-2 luma (Pillow's `convert("L")`:
  0.299 R + 0.587 G + 0.114 B); palette, CMYK and YCbCr go through Pillow's RGB conversion;
  alpha is dropped, not composited (as torchvision's ImageFolder loader, `convert("RGB")`), so a
  transparent pixel keeps the colour stored under it;
* depth: 8-bit codes / 255, 16-bit codes / 65535 -> [0, 1]. Pillow opens 16-bit grey as `I;16`
  but cuts 16-bit-per-channel colour (48-bit RGB, 64-bit RGBA PNG and TIFF) to 8 bits, so those
  files are decoded by OpenCV at full depth (`cv2.IMREAD_UNCHANGED`), with Pillow's EXIF
  orientation applied and the same channel rules (alpha dropped, RGB -> grey in float 601-2 luma);
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
from omnivec2.data.sources.image_files import image_error_text
from omnivec2.datasets.spec import DatasetSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff")
CHANNEL_MODES = {1: "L", 3: "RGB"}
WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # how Pillow opens 16-bit grey PNG and TIFF
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601-2, the weights of Pillow's convert("L")


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
            if is_wide_colour(image):  # 16 bits per channel in colour: Pillow would keep 8 of them
                planes = oriented(wide_colour_planes(data, channels), image)
            else:
                image.load()
                planes = unit_planes(ImageOps.exif_transpose(image), channels)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        suffix = PurePosixPath(where).suffix.lstrip(".").upper()
        raise SourceError(f"dataset {spec.name!r}: {where}: not a decodable {suffix or 'image'} file "
                          f"({image_error_text(error)})") from None
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


def is_wide_colour(image) -> bool:
    """True for a not yet loaded PIL image whose file stores 16 bits per colour channel (PNG rawmode
    `RGB;16B`, `RGBA;16B`, `LA;16B`; TIFF `RGB;16N`, ...): Pillow decodes those to 8-bit RGB(A)."""
    tiles = getattr(image, "tile", None) or []
    args = tiles[0].args if tiles else None
    rawmode = args[0] if isinstance(args, tuple) and args else args
    return image.mode not in WIDE_GREY and isinstance(rawmode, str) and ";16" in rawmode


def wide_colour_planes(data: bytes, channels: int) -> np.ndarray:
    """16-bit colour image bytes -> float32 `[channels, h, w]` in [0, 1] (codes / 65535), decoded by
    OpenCV (BGR order, no EXIF orientation); alpha dropped, grey replicated, RGB -> grey by 601-2 luma."""
    import cv2

    codes = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)  # [h, w, k] uint16, BGR(A)
    if codes is None or codes.dtype != np.uint16:
        raise ValueError(f"OpenCV could not decode its 16-bit colour pixels (got {None if codes is None else codes.dtype})")
    codes = codes.reshape(*codes.shape[:2], -1)
    if codes.shape[2] >= 3:
        rgb = codes[..., 2::-1].astype(np.float64) / 65535.0  # BGR(A) -> RGB, alpha dropped
        planes = rgb.transpose(2, 0, 1) if channels == 3 else np.tensordot(LUMA, rgb, axes=([0], [2]))[None]
    else:
        planes = np.repeat((codes[..., 0] / 65535.0)[None], channels, axis=0)  # grey (+ alpha dropped)
    return planes.astype(np.float32)


def oriented(planes: np.ndarray, image) -> np.ndarray:
    """`[C, h, w]` decoded without EXIF -> turned as `ImageOps.exif_transpose` turns `image` (same table)."""
    from PIL import Image

    method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}.get(image.getexif().get(0x0112))  # 0x0112: Orientation
    if method is None:
        return planes
    return np.stack([np.asarray(Image.fromarray(plane).transpose(method)) for plane in planes])


def resize(planes: np.ndarray, height: int, width: int) -> np.ndarray:
    """`[C, h, w]` in [0, 1] -> `[C, height, width]` in [0, 1]: Lanczos per channel, clipped."""
    from PIL import Image

    if planes.shape[1:] == (height, width):
        return planes
    resized = [np.asarray(Image.fromarray(plane).resize((width, height), Image.Resampling.LANCZOS)) for plane in planes]
    return np.clip(np.stack(resized), 0.0, 1.0)
