"""`image_folder` (older name `png_folder`): an ImageFolder tree (one folder per class) of PNG, JPEG,
GIF, BMP or TIFF images, local or `s3://`.

The layouts, listing, splits, classes and sample ids are `class_folders`' (chest X-ray sets are
distributed both with and without split folders). Each image is decoded to the dataset's declared
payload (`[H, W]` grey or `[3, H, W]` RGB at the `size` setting, see `image_decode`) with values in
[0, `intensity_scale`] (default 1.0; 6.0 for X-ray datasets, the range of the generated radiographs'
line integrals, so bone stays bright). An image that cannot be decoded (empty, truncated, not what its
suffix says) is a row validation refuses by name.
"""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources.class_folders import read_class_folders
from omnivec2.data.sources.image_decode import IMAGE_SUFFIXES, decode_image
from omnivec2.datasets.spec import DatasetSpec


def intensity_scale(spec: DatasetSpec, source: dict) -> float:
    """Pixel value of a full-scale code: the source's `intensity_scale`, else 6.0 for X-ray, 1.0 for pictures."""
    return float(source.get("intensity_scale", 6.0 if spec.modality == "xray" else 1.0))


def load_image_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Image class folders -> sample table of payloads `[H, W]` or `[3, H, W]` float32."""
    scale = intensity_scale(spec, source)
    return read_class_folders(spec, {"kind": "image_folder", **source}, seed, IMAGE_SUFFIXES,
                              lambda data, path: decode_image(spec, data, path, scale), "image files")
