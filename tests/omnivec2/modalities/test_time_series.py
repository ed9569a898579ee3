"""Time series: UCR GunPoint through `ts_file`, a `.ts` fixture, time patches, bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.datasets import TaskSpec
from omnivec2.modalities import PayloadSpec
from tests.default_suite import DATASETS
from tests.omnivec2.modalities.bad_inputs_audio_text_ts import ROW, assert_rejected, with_payload, with_value

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
    with pytest.raises(SourceError, match=r"dataset 'time_series': .*" + message):
        load_source(SPEC, source, seed=0)


BAD = {
    "nan": (lambda t: with_payload(t, ROW, np.r_[np.nan, np.zeros(149)].astype(np.float32).reshape(1, 150)), "expect_column_values_to_be_between", "nan_count", True),
    "inf": (lambda t: with_payload(t, ROW, np.r_[-np.inf, np.zeros(149)].astype(np.float32).reshape(1, 150)), "expect_column_values_to_be_between", "inf_count", True),
    "wrong shape": (lambda t: with_payload(t, ROW, np.zeros((2, 150), np.float32)), "expect_column_values_to_match_regex", "shape", True),
    "truncated payload": (lambda t: with_value(t, ROW, "payload", t.at[ROW, "payload"][:-4]), "payload_decodes_to_shape_and_dtype", "payload", True),
    "unknown label": (lambda t: with_value(t, ROW, "gesture", 2), "expect_column_values_to_be_in_set", "gesture", False),
    "duplicate id": (lambda t: with_value(t, ROW, "sample_id", t.at[ROW + 1, "sample_id"]), "expect_column_values_to_be_unique", "sample_id", True),
    "oversized": (lambda t: with_payload(t, ROW, np.zeros((1, 150), np.float64)), "expect_column_values_to_be_between", "nbytes", True),
    "out of range": (lambda t: with_payload(t, ROW, np.full((1, 150), 5.0e3, np.float32)), "expect_column_values_to_be_between", "max", False),
    "missing column": (lambda t: t.drop(columns=["gesture"]), "expect_table_columns_to_match_set", None, True),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_named_and_never_cached(table, tmp_path, kind):
    corrupt, expectation, column, direct = BAD[kind]
    sample = str(table.at[ROW + 1 if kind == "duplicate id" else ROW, "sample_id"])
    assert_rejected(corrupt(table), SPEC, expectation, column, "gesture" if column is None else sample, tmp_path / "c", direct)
