"""`image_folder` (older name `png_folder`): an ImageFolder tree (one folder per class) of PNG, JPEG,
GIF, BMP or TIFF images, or DICOM radiographs (`.dcm`: `dicom_decode`), local or `s3://`.

The layouts, listing, splits, classes and sample ids are `class_folders`' (chest X-ray sets are
distributed both with and without split folders). Each image is decoded to the dataset's declared
payload (`[H, W]` grey or `[3, H, W]` RGB at the `size` setting, see `image_decode`) with values in
[0, `intensity_scale`] (default 1.0; 6.0 for X-ray datasets, the range of the generated radiographs'
line integrals, so bone stays bright). An image that cannot be decoded (empty, truncated, not what its
suffix says) is a row validation refuses by name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sources.class_folders import read_class_folders
from omnivec2.data.sources.common import SourceError
from omnivec2.data.sources.dicom_decode import DICOM_SUFFIXES, decode_dicom
from omnivec2.data.sources.image_decode import IMAGE_SUFFIXES, decode_image, payload_layout
from omnivec2.datasets.spec import DatasetSpec


def intensity_scale(spec: DatasetSpec, source: dict) -> float:
    """Pixel value of a full-scale code: the source's `intensity_scale`, else 6.0 for X-ray, 1.0 for pictures."""
    return float(source.get("intensity_scale", 6.0 if spec.modality == "xray" else 1.0))


def decode_picture(spec: DatasetSpec, data: bytes, path: str, scale: float) -> np.ndarray:
    """An image or DICOM file's bytes (the suffix says which) -> the dataset's payload."""
    if path.lower().endswith(DICOM_SUFFIXES):
        if not data:
            raise SourceError(f"dataset {spec.name!r}: {path}: empty file")
        return decode_dicom(data, path, *payload_layout(spec), scale)
    return decode_image(spec, data, path, scale)


def load_image_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Image class folders -> sample table of payloads `[H, W]` or `[3, H, W]` float32."""
    scale = intensity_scale(spec, source)
    return read_class_folders(spec, {"kind": "image_folder", **source}, seed, IMAGE_SUFFIXES + DICOM_SUFFIXES,
                              lambda data, path: decode_picture(spec, data, path, scale), "image files")
