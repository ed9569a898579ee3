"""The deterministic tokenizers: shapes, patch contents against hand examples, statistics from train only."""

from __future__ import annotations

import json

import numpy as np
import pytest

from omnivec2.data.sample_table import decode_payloads
from omnivec2.data.sources import load_source
from tests.default_suite import DATASETS
from omnivec2.tokens.columns import TableColumns, fitted_categories
from omnivec2.tokens.patches import ImagePatches, TimePatches


def test_image_patches_hand_example():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    tokens = ImagePatches(patch=2, scale=2.0).transform([image, image + 1], {})
    assert tokens.shape == (2, 4, 4) and tokens.dtype == np.float32
    # row-major patches, each flattened row-major, divided by scale
    np.testing.assert_array_equal(tokens[0], np.array([[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]) / 2)
    np.testing.assert_array_equal(tokens[1], tokens[0] + 0.5)


def test_image_patches_channels_first():
    image = np.stack([np.zeros((2, 2)), np.ones((2, 2))]).astype(np.float32)  # [C=2, 2, 2]
    tokens = ImagePatches(patch=2).transform([image], {})
    np.testing.assert_array_equal(tokens, [[[0, 0, 0, 0, 1, 1, 1, 1]]])


def test_image_patches_reject_indivisible_size():
    with pytest.raises(ValueError, match="not divisible"):
        ImagePatches(patch=3).transform([np.zeros((8, 8), np.float32)], {})


def test_time_patches_hand_example_and_train_stats():
    train = [np.array([[0, 2, 4, 6, 8, 10], [1, 1, 1, 1, 1, 1]], np.float32)]  # [C=2, T=6]
    tokenizer = TimePatches(patch=3)
    stats = tokenizer.fit(train)
    assert stats["mean"] == [5.0, 1.0]
    assert stats["std"][1] == pytest.approx(1e-6)  # constant channel: floored, never a division by zero
    series = np.array([[5, 5, 5, 5, 5, 5 + 2 * np.sqrt(35 / 3)], [1, 1, 1, 2, 1, 1]], np.float32)
    tokens = tokenizer.transform([series], stats)
    assert tokens.shape == (1, 2, 6) and tokens.dtype == np.float32
    # token t = channel 0 steps [3t, 3t+3) then channel 1 steps, standardised with the train stats
    np.testing.assert_allclose(tokens[0, 0], [0, 0, 0, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(tokens[0, 1], [0, 0, 2, 1e6, 0, 0], rtol=1e-5, atol=1e-5)


def test_time_patches_drop_a_ragged_tail():
    tokens = TimePatches(patch=4).transform([np.zeros((3, 10), np.float32)], {"mean": [0] * 3, "std": [1] * 3})
    assert tokens.shape == (1, 2, 12)


def test_numeric_columns_standardise_with_train_stats_only():
    train = [np.array([1, 10], np.float32), np.array([3, 10], np.float32)]
    tokenizer = TableColumns()
    stats = tokenizer.fit(train)
    assert stats["mean"] == [2.0, 10.0] and stats["std"][0] == 1.0 and stats["column_vocab"] == [0, 0]
    tokens = tokenizer.transform([np.array([5, 11], np.float32)], stats)
    assert tokens.shape == (1, 2, 2) and tokens.dtype == np.float32
    np.testing.assert_allclose(tokens[0, :, 0], [3.0, 1e6], rtol=1e-5)
    np.testing.assert_array_equal(tokens[0, :, 1], [0, 0])  # nothing missing
    assert tokenizer.stream_fields(stats) == {}  # an all-numeric table tells the network nothing more


def test_missing_numeric_cells_and_category_codes():
    # columns: numeric, categorical (codes: 0 missing, 1 unknown, 2.. the train categories), numeric
    nan = np.nan
    train = [np.array(row, np.float32) for row in ([1, 2, nan], [3, 3, 4], [nan, 0, 6], [5, 4, nan])]
    tokenizer = TableColumns(categorical=(1,))
    assert tokenizer.config() == {"kind": "table_columns", "categorical": [1], "missing": False}
    stats = tokenizer.fit(train)
    assert stats["mean"] == [3.0, 0.0, 5.0] and stats["std"][1:] == [1.0, 1.0]  # over the known cells only
    assert stats["column_vocab"] == [0, 5, 0] and tokenizer.stream_fields(stats) == {"column_vocab": [0, 5, 0]}
    rows = [np.array(row, np.float32) for row in ([nan, 3, 5], [3, nan, nan], [3, 7, 5], [3, 2.5, 5])]
    tokens = tokenizer.transform(rows, stats)
    assert tokens.shape == (4, 3, 2)
    np.testing.assert_allclose(tokens[:, 0], [[0, 1], [0, 0], [0, 0], [0, 0]])  # missing -> 0, flagged
    np.testing.assert_array_equal(tokens[:, 1], [[3, 0], [0, 1], [1, 0], [1, 0]])  # NaN, code 7, 2.5 -> missing, unknown
    np.testing.assert_allclose(tokens[:, 2], [[0, 0], [0, 1], [0, 0], [0, 0]])


def test_category_names_travel_in_the_fit_statistics_and_back():
    nan = np.nan
    train = [np.array(row, np.float32) for row in ([1, 2, 3], [3, 3, 2], [nan, 0, 4])]
    named = TableColumns(categorical=(1, 2), categories=(("colour", ("blue", "red")), ("size", ("L", "M", "S"))))
    assert named.config()["categories"] == [["colour", ["blue", "red"]], ["size", ["L", "M", "S"]]]  # in the cache key
    stats = named.fit(train)
    assert stats["column_vocab"] == [0, 4, 5]  # 2 reserved codes + the names (size: S has no train row here)
    assert stats["categories"] == [{"position": 1, "column": "colour", "names": ["blue", "red"]},
                                   {"position": 2, "column": "size", "names": ["L", "M", "S"]}]
    assert fitted_categories(stats, (1, 2)) == named.categories
    assert fitted_categories({"column_vocab": [0, 4, 5]}, (1, 2)) == ()  # statistics made before names travelled
    with pytest.raises(ValueError, match=r"name categories at positions \[1, 2\], the model's categorical columns are at \[2\]"):
        fitted_categories(stats, (2,))
    codes_only = TableColumns(categorical=(1, 2))
    np.testing.assert_array_equal(named.transform(train, stats), codes_only.transform(train, stats))  # names change no token
    assert "categories" not in codes_only.config() and "categories" not in codes_only.fit(train)


# [N, P] per modality on its default source: a change here changes every cache key and checkpoint.
TOKEN_SHAPES = {
    "audio": (48, 128), "depth": (64, 64), "graph": (64, 46), "hyperspectral": (64, 496), "image": (16, 4),
    "imu": (10, 60), "infrared": (64, 64), "point_cloud": (64, 51), "rgb": (64, 192), "tabular": (13, 2),
    "tabular_regression": (10, 2), "text": (64, 1), "time_series": (15, 10), "video": (80, 256), "xray": (64, 64),
}


def test_every_registered_modality_has_a_documented_token_shape():
    assert set(TOKEN_SHAPES) == set(DATASETS)


@pytest.mark.parametrize("name", sorted(TOKEN_SHAPES))
def test_registered_tokenizers_on_default_sources(name):
    spec = DATASETS[name]
    table = load_source(spec, spec.source, seed=0)
    train = table[table["split"] == "train"]
    stats = spec.tokenizer.fit(decode_payloads(train))
    json.dumps(stats)
    json.dumps(spec.tokenizer.config())
    tokens = spec.tokenizer.transform(decode_payloads(table.head(5)), stats)
    assert tokens.shape == (5, *TOKEN_SHAPES[name]) and tokens.dtype == np.float32 and np.isfinite(tokens).all()
    # fitting on a different split changes the stats: they come from what fit is given (train only)
    if stats:
        assert spec.tokenizer.fit(decode_payloads(table[table["split"] == "test"])) != stats
