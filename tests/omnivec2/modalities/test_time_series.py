"""Time series: UCR GunPoint through `ts_file`, a `.ts` fixture, time patches, bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.datasets import TaskSpec, resolve_dataset
from omnivec2.modalities import PayloadSpec
from tests.default_suite import DATASETS
from omnivec2.validation import validate_sample_table

SPEC = DATASETS["time_series"]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return load_source(SPEC, SPEC.source, seed=0)


def test_gunpoint_official_split_counts_and_classes(table):
    assert len(table) == 200 and table["sample_id"].is_unique
    assert table["split"].value_counts().to_dict() == {"test": 150, "train": 42, "val": 8}
    test = table[table["split"] == "test"]
    assert test["sample_id"].str.startswith("gunpoint-test-").all()
    assert test["gesture"].value_counts().sort_index().tolist() == [76, 74]
    assert (table["shape"] == "1x150").all() and (table["dtype"] == "float32").all()
    again = load_source(SPEC, SPEC.source, seed=0)
    assert again["split"].tolist() == table["split"].tolist()


def test_time_patches_by_hand(table):
    rows = table[table["split"] == "train"].to_dict("records")
    series = [decode_payload(r) for r in rows]
    stats = SPEC.tokenizer.fit(series)
    tokens = SPEC.tokenizer.transform(series, stats)
    assert tokens.shape == (42, 15, 10) and tokens.dtype == np.float32
    x = series[0][0].astype(np.float64)
    all_values = np.concatenate([s[0] for s in series]).astype(np.float64)
    expected = (x[20:30] - all_values.mean()) / all_values.std()  # token 2 = steps 20..29
    np.testing.assert_allclose(tokens[0, 2], expected, rtol=1e-4, atol=1e-5)


def test_arrowhead_alternative_loads_through_the_same_source():
    arrow = replace(SPEC, name="arrowhead", payload=PayloadSpec(shape=(1, 251), dtype="float32"),
                    tasks=(TaskSpec("shape", "classification", 3),))
    table = load_source(arrow, {"kind": "ts_file", "dataset": "ArrowHead"}, seed=0)
    assert len(table) == 211 and (table["split"] == "test").sum() == 175 and set(table["shape"]) == {"1x251"}


TS = """#A univariate toy in the UCR format
@problemName Toy
@timeStamps false
@univariate true
@classLabel true 1 2
@data
{rows}"""


def ts_text(labels: list[str], length: int = 150, start: float = 0.0) -> str:
    return TS.format(rows="".join(
        ",".join(f"{start + i + t / 10:.2f}" for t in range(length)) + f":{label}\n" for i, label in enumerate(labels)))


def test_ts_fixture_for_this_modality(tmp_path):
    (tmp_path / "X_TRAIN.ts").write_text(ts_text(["1", "2"] * 5))
    (tmp_path / "X_TEST.ts").write_text(ts_text(["2", "1", "1"], start=100.0))
    source = {"kind": "ts_file", "train_path": str(tmp_path / "X_TRAIN.ts"), "test_path": str(tmp_path / "X_TEST.ts"),
              "classes": ["1", "2"], "id_prefix": "toy"}
    table = load_source(SPEC, source, seed=0).set_index("sample_id")
    assert len(table) == 13 and (table["split"] == "test").sum() == 3
    assert table.loc["toy-test-00000", "gesture"] == 1 and table.loc["toy-train-00000", "gesture"] == 0
    np.testing.assert_allclose(decode_payload(table.loc["toy-test-00001"])[0, :3], [101.0, 101.1, 101.2], rtol=1e-6)


@pytest.mark.parametrize("train, message", [
    ("", r"no samples \(missing '@data' section\?\)"),
    (ts_text(["1", "2"])[:-40], r"X_TRAIN\.ts, line 8: expected '<channel>:\.\.\.:<label>'"),
    (ts_text(["1", "3"]), r"label '3' in .*X_TRAIN\.ts is not one of the classes"),
    (ts_text(["1", "2"]).replace("0.30", "abc"), r"line 7: could not convert"),
])
def test_ts_bad_files_raise_source_errors_naming_the_file(tmp_path, train, message):
    (tmp_path / "X_TRAIN.ts").write_text(train)
    (tmp_path / "X_TEST.ts").write_text(ts_text(["1"]))
    source = {"kind": "ts_file", "train_path": str(tmp_path / "X_TRAIN.ts"), "test_path": str(tmp_path / "X_TEST.ts"),
              "classes": ["1", "2"]}
    with pytest.raises(SourceError, match=r"dataset 'time_series'[:,] .*" + message):
        load_source(SPEC, source, seed=0)


# ----- unequal lengths and missing values (UEA style), at a shape of the dataset's own -------------
UNEVEN = """@problemName Uneven
@univariate false
@dimensions 3
@equalLength false
@missing true
@classLabel true a b
@data
0,1,2,3:10,?,30,40:5,5,5,5:a
0,1,2,3,4,5,6,7,8,9:0,1,2,3,4,5,6,7,8,9:1,1,1,1,1,1,1,1,1,1:b
?,2,?:NaN,NaN,NaN:1,2,3:a
"""


def uneven_dataset(tmp_path, **options):
    """A 3-channel, 8-step time-series dataset read from UNEVEN (train and test files alike)."""
    (tmp_path / "U_TRAIN.ts").write_text(UNEVEN)
    (tmp_path / "U_TEST.ts").write_text(UNEVEN)
    source = {"kind": "ts_file", "train_path": str(tmp_path / "U_TRAIN.ts"), "test_path": str(tmp_path / "U_TEST.ts"),
              "id_prefix": "u", "val_fraction": 0.34, **options}
    return resolve_dataset("uneven", {"modality": "time_series", "shape": {"channels": 3, "length": 8, "patch": 4},
                                      "source": source, "tasks": {"kind": {"classes": ["a", "b"]}}})


def test_unequal_lengths_and_missing_values_are_resampled_and_interpolated_by_default(tmp_path):
    spec = uneven_dataset(tmp_path)
    table = load_source(spec, spec.source, seed=0).set_index("sample_id")
    assert (table["shape"] == "3x8").all() and (table["nan_count"] == 0).all()
    steps = np.linspace(0.0, 3.0, 8)  # 4 steps resampled to 8, first and last kept
    np.testing.assert_allclose(decode_payload(table.loc["u-test-00000"]),
                               [steps, 10 + 10 * steps, np.full(8, 5.0)], rtol=1e-6)  # `?` interpolated: 20
    np.testing.assert_allclose(decode_payload(table.loc["u-test-00001"])[0], np.linspace(0.0, 9.0, 8), rtol=1e-6)
    third = decode_payload(table.loc["u-test-00002"])
    np.testing.assert_array_equal(third[0], np.full(8, 2.0))  # edges take the nearest known value
    np.testing.assert_array_equal(third[1], np.zeros(8))  # a channel with no known value
    np.testing.assert_allclose(third[2], np.linspace(1.0, 3.0, 8), rtol=1e-6)
    assert validate_sample_table(table.reset_index(), spec).report["success"]


def test_pad_policy_zero_pads_or_crops_and_missing_zero_fills_with_zeros(tmp_path):
    spec = uneven_dataset(tmp_path, length_policy="pad", missing="zero")
    table = load_source(spec, spec.source, seed=0).set_index("sample_id")
    np.testing.assert_array_equal(decode_payload(table.loc["u-test-00000"]),
                                  [[0, 1, 2, 3, 0, 0, 0, 0], [10, 0, 30, 40, 0, 0, 0, 0], [5, 5, 5, 5, 0, 0, 0, 0]])
    np.testing.assert_array_equal(decode_payload(table.loc["u-test-00001"])[1], np.arange(8))  # cropped to 8
    np.testing.assert_array_equal(decode_payload(table.loc["u-test-00002"])[:2],
                                  [[0, 2, 0, 0, 0, 0, 0, 0], np.zeros(8)])
    tokens = spec.tokenizer.transform(decode_payloads_of(table), spec.tokenizer.fit(decode_payloads_of(table)))
    assert tokens.shape == (len(table), 2, 12) and np.isfinite(tokens).all()


def decode_payloads_of(table: pd.DataFrame) -> list[np.ndarray]:
    return [decode_payload(row) for _, row in table.iterrows()]


@pytest.mark.parametrize("options, text, message", [
    ({}, UNEVEN.replace("@equalLength false\n", ""),
     r"U_TRAIN\.ts, line 8: sample of shape \(3, 10\), earlier samples \(3, 4\) \(declare '@equalLength false'"),
    ({}, UNEVEN.replace(":5,5,5,5:a", ":a"), r"U_TRAIN\.ts, line 8: 2 channel\(s\), the dataset declares 3"),
    ({"length_policy": "stretch"}, UNEVEN, r"length_policy 'stretch' is not one of \['resample', 'pad'\]"),
    ({"missing": "drop"}, UNEVEN, r"missing 'drop' is not one of \['interpolate', 'zero'\]"),
])
def test_uneven_file_problems_are_named(tmp_path, options, text, message):
    spec = uneven_dataset(tmp_path, **options)
    (tmp_path / "U_TRAIN.ts").write_text(text)
    with pytest.raises(SourceError, match=r"dataset 'uneven': .*" + message):
        load_source(spec, spec.source, seed=0)
