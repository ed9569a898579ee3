"""`sklearn_digits`: scikit-learn's bundled 8x8 digit scans (1797 images, values 0..16, 10 classes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import stratified_splits, target_name
from omnivec2.datasets.spec import DatasetSpec


def load_digits_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Images float32 `[8, 8]`; `sample_id` is `digits-<index in the scikit-learn dataset>`."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = data.images.astype(np.float32)  # [1797, 8, 8]
    labels = data.target.astype(np.int64)
    ids = [f"digits-{i:05d}" for i in range(len(labels))]
    splits = stratified_splits(labels, seed, val=source.get("val_fraction", 0.1), test=source.get("test_fraction", 0.2))
    return build_sample_table(ids, splits, images, {target_name(spec): labels})
