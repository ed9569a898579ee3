"""`hsi_scene` cuts and resamples a scene to the dataset's own shape settings (tile side, bands)."""

from __future__ import annotations

import numpy as np
from scipy.io import savemat

from omnivec2.data.sample_table import decode_label_map, decode_payload
from omnivec2.data.sources import load_source
from omnivec2.datasets import resolve_dataset
from omnivec2.validation import validate_sample_table


def test_a_scene_is_cut_to_the_dataset_s_size_and_bands(tmp_path):
    rng = np.random.default_rng(0)
    cube = rng.uniform(0, 500, size=(40, 50, 20))
    gt = rng.integers(0, 4, size=(40, 50)).astype(np.uint8)  # 0: unlabelled
    savemat(tmp_path / "scene.mat", {"scene": cube, "scene_gt": gt})
    spec = resolve_dataset("scene", {
        "modality": "hyperspectral", "shape": {"size": 16, "bands": 8, "patch": 4},
        "source": {"kind": "hsi_scene", "path": str(tmp_path / "scene.mat"), "scale": 500.0},
        "tasks": {"land": {"kind": "dense", "classes": ["none", "water", "grass", "road"], "ignore_index": 0}}})
    table = load_source(spec, spec.source, seed=0)
    assert len(table) == 6 and set(table["shape"]) == {"16x16x8"}  # 40x50 -> 2x3 tiles of 16
    row = table.set_index("sample_id").loc["scene-r0016-c0032"]
    expected = np.interp(np.linspace(0, 19, 8), np.arange(20), cube[16, 32]) / 500.0
    np.testing.assert_allclose(decode_payload(row)[0, 0], expected, rtol=1e-5)
    np.testing.assert_array_equal(decode_label_map(row, spec.tasks[0]), gt[16:32, 32:48])
    assert validate_sample_table(table, spec).report["success"]
