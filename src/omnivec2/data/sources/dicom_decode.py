"""DICOM radiographs (`.dcm`, the format chest X-ray sets such as RSNA's and SIIM's ship) -> a float32
payload at the dataset's declared shape, for `image_folder` and `omnivec2 predict`.

pydicom reads the file: uncompressed, RLE, and the JPEG syntaxes Pillow decodes (baseline, JPEG 2000);
another transfer syntax is refused naming it. The first frame is kept, then
* the Modality LUT (`RescaleSlope`, `RescaleIntercept`) gives the stored values their meaning;
* [0, 1] is the file's first VOI window (`WindowCenter`, `WindowWidth`, DICOM's linear function of
  PS3.3 C.11.2.1.2: what a viewer shows) when it has one, else the range its stored bits can hold
  through the same rescale (a 12-bit image: 0..4095), clipped;
* MONOCHROME1 (low values bright) is inverted, so bone is bright as in MONOCHROME2 and in the PNGs
  `image_folder` reads;
* colour (`SamplesPerPixel` 3) becomes grey by ITU-R 601-2 luma, as `image_decode`;
* resized to `[H, W]` with `image_decode.resize` (Lanczos, antialiased) and multiplied by
  `intensity_scale`.
The header's `Rows` x `Columns` meets `decode_bounds.MAX_IMAGE_PIXELS` before the pixels are decoded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from omnivec2.data.sources.decode_bounds import check_image_pixels
from omnivec2.data.sources.image_decode import LUMA, resize

DICOM_SUFFIXES = (".dcm", ".dicom")


def decode_dicom(data: bytes, where: str, channels: int, height: int, width: int, intensity_scale: float) -> np.ndarray:
    """DICOM bytes -> float32 `[H, W]` (channels 1) or `[3, H, W]` in [0, intensity_scale]; ValueError
    naming `where` for a file that is not DICOM, holds no pixels or uses a syntax nothing here decodes."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError) as error:
        raise ValueError(f"{where}: not a readable DICOM file ({type(error).__name__}: {error})") from None
    if "PixelData" not in dataset:
        raise ValueError(f"{where}: the DICOM file holds no image (no PixelData)")
    check_image_pixels(where, int(dataset.get("Columns", 0)), int(dataset.get("Rows", 0)))
    try:
        pixels = dataset.pixel_array
    except Exception as error:  # pydicom's missing-handler RuntimeError, truncated pixel data (ValueError)
        syntax = getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(syntax, "name", syntax)
        raise ValueError(f"{where}: its pixels (transfer syntax {name}) do not decode ({type(error).__name__}: "
                         f"{error})") from None
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    samples = int(dataset.get("SamplesPerPixel", 1))
    if frames > 1:
        pixels = pixels[0]
    if samples == 3:
        grey = np.tensordot(pixels.astype(np.float64) / _full_scale(dataset), LUMA, axes=([-1], [0]))
        unit = np.clip(grey, 0.0, 1.0)
    else:
        unit = _unit_grey(dataset, pixels)
    planes = np.repeat(unit[None].astype(np.float32), channels, axis=0)
    out = resize(planes, height, width) * float(intensity_scale)
    return (out[0] if channels == 1 else out).astype(np.float32)


def _full_scale(dataset) -> float:
    return float((1 << int(dataset.get("BitsStored", 8))) - 1)


def _unit_grey(dataset, pixels: np.ndarray) -> np.ndarray:
    """Stored grey values `[h, w]` -> [0, 1] (see the module docstring)."""
    slope, intercept = float(dataset.get("RescaleSlope", 1) or 1), float(dataset.get("RescaleIntercept", 0) or 0)
    values = pixels.astype(np.float64) * slope + intercept
    center, window = _first(dataset.get("WindowCenter")), _first(dataset.get("WindowWidth"))
    if center is not None and window is not None and window > 1:  # a width of 1 is a step: use the bits
        unit = (values - (center - 0.5)) / (window - 1) + 0.5  # PS3.3 C.11.2.1.2.1, onto [0, 1]
    else:
        bits, signed = int(dataset.get("BitsStored", 16)), int(dataset.get("PixelRepresentation", 0)) == 1
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        ends = sorted((low * slope + intercept, high * slope + intercept))
        unit = (values - ends[0]) / max(ends[1] - ends[0], 1e-12)
    unit = np.clip(unit, 0.0, 1.0)
    return 1.0 - unit if str(dataset.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1" else unit


def _first(value) -> float | None:
    """A DICOM value that may hold several (one per window) -> its first as a float, None if absent."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        value = value[0] if len(value) else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
