"""Ingestion sources: bundled defaults, `.ts` files, user tables and arrays."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source, parse_ts
from omnivec2.datasets import resolve_dataset
from tests.default_suite import DATASETS

EXPECTED = {"image": (1797, 360, "digit", 10), "tabular": (178, 36, "cultivar", 3), "imu": (80, 40, "activity", 4)}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_default_source_loads_expected_counts(name):
    spec = DATASETS[name]
    total, test, target, num_classes = EXPECTED[name]
    table = load_source(spec, spec.source, seed=0)
    assert len(table) == total
    assert (table["split"] == "test").sum() == test
    assert set(table["split"]) == {"train", "val", "test"}
    assert table["sample_id"].is_unique
    assert set(table[target]) == set(range(num_classes))
    assert (table["shape"] == "x".join(map(str, spec.payload.shape))).all()
    assert (table["dtype"] == "float32").all()
    assert decode_payload(table.iloc[0]).shape == spec.payload.shape


@pytest.mark.parametrize("name", ["image", "tabular"])
def test_sklearn_splits_are_deterministic_stratified_70_10_20(name):
    spec = DATASETS[name]
    first = load_source(spec, spec.source, seed=3)
    again = load_source(spec, spec.source, seed=3)
    other = load_source(spec, spec.source, seed=4)
    assert first["split"].tolist() == again["split"].tolist()
    assert first["split"].tolist() != other["split"].tolist()
    fractions = first["split"].value_counts(normalize=True)
    assert fractions["train"] == pytest.approx(0.7, abs=0.02)
    assert fractions["val"] == pytest.approx(0.1, abs=0.02)
    assert fractions["test"] == pytest.approx(0.2, abs=0.02)
    target = spec.tasks[0].name
    per_class_test = first[first["split"] == "test"][target].value_counts(normalize=True).sort_index()
    overall = first[target].value_counts(normalize=True).sort_index()
    assert np.allclose(per_class_test, overall, atol=0.03)


def test_digit_sample_id_is_the_index_in_the_dataset():
    from sklearn.datasets import load_digits

    spec = DATASETS["image"]
    table = load_source(spec, spec.source, seed=0).set_index("sample_id")
    row = table.loc["digits-00042"]
    np.testing.assert_array_equal(decode_payload(row), load_digits().images[42].astype(np.float32))
    assert row["digit"] == load_digits().target[42]


def test_basic_motions_uses_the_official_test_file_and_a_stratified_val():
    spec = DATASETS["imu"]
    table = load_source(spec, spec.source, seed=0)
    test = table[table["split"] == "test"]
    assert len(test) == 40 and test["sample_id"].str.startswith("basicmotions-test-").all()
    val = table[table["split"] == "val"]
    assert len(val) == 6 and val["sample_id"].str.startswith("basicmotions-train-").all()
    # ["badminton", "running", "standing", "walking"]: the first TRAIN line is labelled Standing
    assert table.set_index("sample_id").loc["basicmotions-train-00000", "activity"] == 2
    assert (test["activity"].value_counts() == 10).all()


TS_TRAIN = """# a comment
@problemName Toy
@univariate false
@dimensions 2
@classLabel true up down
@data
1,2,3:4,5,6:up
7,8,9:10,11,12:down
1,1,1:2,2,2:up
3,3,3:4,4,4:down
"""


# The fixture's own shape (2 channels x 3 steps), declared as a user would; errors name it 'imu'.
TOY_IMU = resolve_dataset("imu", {"modality": "imu", "shape": {"channels": 2, "length": 3, "patch": 1},
                                  "source": {"kind": "ts_file", "dataset": "unused"},
                                  "tasks": {"activity": {"num_classes": 2}}})


def _write_ts(tmp_path, train=TS_TRAIN, test=None):
    train_path, test_path = tmp_path / "Toy_TRAIN.ts", tmp_path / "Toy_TEST.ts"
    train_path.write_text(train)
    test_path.write_text(test or TS_TRAIN.replace("up", "down", 1))
    return {"kind": "ts_file", "train_path": str(train_path), "test_path": str(test_path)}


def widen_ts(text: str, copies: int) -> str:
    """The same file with each sample's channels repeated `copies` times (2 channels -> 2 * copies)."""
    def widen(line: str) -> str:
        *channels, label = line.split(":")
        return ":".join(channels * copies + [label])

    head, data = text.split("@data\n")
    return head + "@data\n" + "".join(widen(line) + "\n" for line in data.splitlines())


def test_ts_file_parses_a_written_fixture(tmp_path):
    series, labels = parse_ts(TS_TRAIN, "toy")
    assert len(series) == 4 and all(len(s) == 2 and s[0].dtype == np.float32 for s in series)
    np.testing.assert_array_equal(np.stack(series[1]), [[7, 8, 9], [10, 11, 12]])
    assert labels == ["up", "down", "up", "down"]

    source = _write_ts(tmp_path) | {"val_fraction": 0.5, "id_prefix": "toy"}
    table = load_source(TOY_IMU, source, seed=0)
    assert len(table) == 8
    assert (table["split"] == "test").sum() == 4 and (table["split"] == "val").sum() == 2
    row = table.set_index("sample_id").loc["toy-train-00001"]
    np.testing.assert_array_equal(decode_payload(row), [[7, 8, 9], [10, 11, 12]])
    assert row["activity"] == 0  # classes default to the sorted train labels: ["down", "up"]


def test_ts_file_explicit_classes(tmp_path):
    source = _write_ts(tmp_path) | {"classes": ["up", "down"]}
    table = load_source(TOY_IMU, source, seed=0)
    assert table[table["sample_id"].str.endswith("train-00000")]["activity"].item() == 0


@pytest.mark.parametrize(
    "bad_line, expected",
    [("1,2,x:4,5,6:up", "line 10"), ("1,2,3:4,5:up", "ragged"), ("1,2,3,4:5,6,7,8:up", "line 10"), ("1,2,3", "line 10")],
)
def test_malformed_ts_names_file_and_line(tmp_path, bad_line, expected):
    text = TS_TRAIN.replace("3,3,3:4,4,4:down", bad_line)
    with pytest.raises(ValueError, match=expected) as info:
        parse_ts(text, "Toy_TRAIN.ts")
    assert "Toy_TRAIN.ts, line 10" in str(info.value)
    with pytest.raises(SourceError, match=r"dataset 'imu'.*Toy_TRAIN\.ts, line 10"):
        load_source(TOY_IMU, _write_ts(tmp_path, train=text), seed=0)


def test_ts_label_outside_classes_is_an_error(tmp_path):
    with pytest.raises(SourceError, match="'sideways'"):
        load_source(TOY_IMU, _write_ts(tmp_path, test=TS_TRAIN.replace(":up", ":sideways", 1)), seed=0)


def test_ts_channel_count_other_than_declared_names_file_line_expected_and_observed(tmp_path):
    with pytest.raises(SourceError, match=r"dataset 'imu': .*Toy_TRAIN\.ts, line 7: 2 channel\(s\), "
                                          r"the dataset declares 6"):
        load_source(DATASETS["imu"], _write_ts(tmp_path), seed=0)
    source = _write_ts(tmp_path, train=widen_ts(TS_TRAIN, 3), test=widen_ts(TS_TRAIN, 3))
    assert (load_source(DATASETS["imu"], source, seed=0)["shape"] == "6x100").all()  # resampled 3 -> 100 steps


def _user_frame(n=40):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(0, 10, size=(n, 13)).astype(np.float32), columns=[f"f{i}" for i in range(13)])
    frame.insert(0, "id", [f"row-{i}" for i in range(n)])
    frame["label"] = np.array(["a", "b", "c", "d"])[np.arange(n) % 4]
    frame["part"] = np.where(np.arange(n) < 30, "train", "test")
    return frame


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_table_source_reads_csv_and_parquet(tmp_path, suffix):
    frame = _user_frame()
    path = tmp_path / f"user.{suffix}"
    # %.9g round-trips float32; the default format was seen writing 6 digits once earlier tests had run (global state)
    frame.to_csv(path, index=False, float_format="%.9g") if suffix == "csv" else frame.to_parquet(path)
    spec = DATASETS["tabular"]
    source = {"kind": "table", "path": str(path), "target_column": "label", "id_column": "id", "split_column": "part",
              "classes": ["a", "b", "c", "d"]}  # a user's labels, not the default wine dataset's class names
    table = load_source(spec, source, seed=0)
    assert table["sample_id"].tolist() == frame["id"].tolist()
    assert table["split"].tolist() == frame["part"].tolist()
    assert table["cultivar"].tolist() == [i % 4 for i in range(40)]  # sorted labels a, b, c, d
    np.testing.assert_array_equal(decode_payload(table.iloc[5]), frame.iloc[5][[f"f{i}" for i in range(13)]].to_numpy(np.float32))


def test_a_csv_with_semicolons_decimal_commas_and_latin_1_reads_as_the_plain_csv(tmp_path):
    frame = _user_frame()
    frame["colour"] = np.array(["grün", "rot", "blau", "weiß"], dtype=object)[np.arange(len(frame)) % 4]
    frame.to_csv(tmp_path / "plain.csv", index=False, float_format="%.9g")
    frame.to_csv(tmp_path / "european.csv", index=False, float_format="%.9g", sep=";", decimal=",", encoding="latin-1")
    text = (tmp_path / "european.csv").read_bytes()
    assert b"id;f0;" in text and re.search(rb";\d+,\d+;", text) and "grün".encode("latin-1") in text
    source = {"kind": "table", "target_column": "label", "id_column": "id", "split_column": "part",
              "categorical_columns": ["colour"], "classes": ["a", "b", "c", "d"]}
    spec = resolve_dataset("user", {"modality": "tabular", "shape": {"columns": 14}, "source": {**source, "path": "x"},
                                    "tasks": {"label": {"classes": ["a", "b", "c", "d"]}}})
    plain = load_source(spec, {**source, "path": str(tmp_path / "plain.csv")}, seed=0)
    european = load_source(spec, {**source, "path": str(tmp_path / "european.csv"), "separator": ";", "decimal": ",",
                                  "encoding": "latin-1"}, seed=0)
    pd.testing.assert_frame_equal(plain, european)
    with pytest.raises(SourceError, match=r"dataset 'user': .*european\.csv' is not utf-8 text \(undecodable byte at "
                                          r"offset \d+\); set the source's encoding"):
        load_source(spec, {**source, "path": str(tmp_path / "european.csv"), "separator": ";", "decimal": ","}, seed=0)


@pytest.mark.parametrize("options, message", [
    ({"encoding": "klingon"}, r"source option encoding: 'klingon' is not a known text encoding"),
    ({"decimal": ",,"}, r"source option decimal must be a single character, got ',,'"),
    ({"separator": ""}, r"source option separator must be a non-empty string, got ''"),
    ({"separator": ",", "decimal": ","}, r"separator and decimal are both ','"),
    ({"format": "parquet", "separator": ";"}, r"\['separator'\] are options of CSV files; .* is read as Parquet"),
])
def test_csv_options_that_cannot_work_are_refused_naming_the_dataset_and_option(tmp_path, options, message):
    _user_frame().to_csv(tmp_path / "user.csv", index=False)
    source = {"kind": "table", "path": str(tmp_path / "user.csv"), "target_column": "label", **options}
    with pytest.raises(SourceError, match=r"dataset 'tabular': " + message):
        load_source(DATASETS["tabular"], source, seed=0)


def test_table_source_defaults_features_and_splits_deterministically(tmp_path):
    frame = _user_frame().drop(columns=["part", "id"])
    path = tmp_path / "user.csv"
    frame.to_csv(path, index=False)
    source = {"kind": "table", "path": str(path), "target_column": "label", "classes": ["d", "c", "b", "a"]}
    table = load_source(DATASETS["tabular"], source, seed=7)
    assert (table["shape"] == "13").all()  # the string label column is not a feature
    assert table["cultivar"].iloc[0] == 3
    assert table["split"].tolist() == load_source(DATASETS["tabular"], source, seed=7)["split"].tolist()
    assert table["sample_id"].iloc[3] == "tabular-00003"


def test_table_source_missing_column_is_named(tmp_path):
    path = tmp_path / "user.csv"
    _user_frame().to_csv(path, index=False)
    with pytest.raises(SourceError, match=r"no column\(s\) \['nope'\]"):
        load_source(DATASETS["tabular"], {"kind": "table", "path": str(path), "target_column": "nope"}, seed=0)


def test_a_headerless_csv_reads_with_header_false_and_columns_named_by_position(tmp_path):
    frame = _user_frame().drop(columns=["id", "part"])
    frame["colour"] = np.array(["red", "blue"], dtype=object)[np.arange(len(frame)) % 2]
    features = [f"f{i}" for i in range(13)]
    frame[["label", *features, "colour"]].to_csv(tmp_path / "user.data", index=False, header=False, float_format="%.9g")
    spec = resolve_dataset("user", {"modality": "tabular", "shape": {"columns": 14},
                                    "source": {"kind": "table", "path": "x", "target_column": 0},
                                    "tasks": {"label": {"classes": ["a", "b", "c", "d"]}}})
    source = {"kind": "table", "path": str(tmp_path / "user.data"), "target_column": 0, "categorical_columns": [14],
              "header": False}
    table = load_source(spec, source, seed=0)
    assert len(table) == len(frame)  # the first row is a sample, not a header
    assert table["label"].tolist() == [i % 4 for i in range(len(frame))]
    np.testing.assert_array_equal(decode_payload(table.iloc[0])[:13], frame.iloc[0][features].to_numpy(np.float32))
    assert len({decode_payload(row)[13] for _, row in table.iterrows()}) == 2  # column 14 coded as categories

    read_with_header = {key: value for key, value in source.items() if key != "header"}
    with pytest.raises(SourceError, match=r"has no column\(s\) \['0'\]; it has \['a', '.*', 'red'\]; its first row "
                                          r"reads as numbers, not column names: if the file has no header row, set "
                                          r"the source's header: false"):
        load_source(spec, {**read_with_header, "categorical_columns": []}, seed=0)


@pytest.mark.parametrize("options, message", [
    ({"header": "no"}, r"source option header must be true or false, got 'no'"),
    ({"header": False, "format": "parquet"}, r"\['header'\] are options of CSV files"),
])
def test_a_header_option_that_cannot_work_is_refused(tmp_path, options, message):
    _user_frame().to_csv(tmp_path / "user.csv", index=False)
    with pytest.raises(SourceError, match=r"dataset 'tabular': " + message):
        load_source(DATASETS["tabular"], {"kind": "table", "path": str(tmp_path / "user.csv"), "target_column": "label",
                                          **options}, seed=0)


def test_npy_source(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 17, size=(30, 8, 8)).astype(np.uint8)
    y = np.arange(30) % 10
    path = tmp_path / "images.npz"
    np.savez(path, x=x, y=y, sample_id=np.array([f"img-{i}" for i in range(30)]))
    table = load_source(DATASETS["image"], {"kind": "npy", "path": str(path)}, seed=0)
    assert len(table) == 30 and (table["dtype"] == "float32").all()
    assert set(table["split"]) == {"train", "val", "test"}
    row = table.set_index("sample_id").loc["img-4"]
    np.testing.assert_array_equal(decode_payload(row), x[4].astype(np.float32))
    assert row["digit"] == 4


def test_bad_path_names_modality_and_path(tmp_path):
    missing = str(tmp_path / "absent.csv")
    with pytest.raises(SourceError, match=r"dataset 'tabular': cannot read '.*absent\.csv'"):
        load_source(DATASETS["tabular"], {"kind": "table", "path": missing, "target_column": "y"}, seed=0)
    with pytest.raises(SourceError, match="dataset 'image'.*absent"):
        load_source(DATASETS["image"], {"kind": "npy", "path": str(tmp_path / "absent.npz")}, seed=0)


def test_unknown_kind():
    with pytest.raises(SourceError, match="unknown source kind 'nope'"):
        load_source(DATASETS["image"], {"kind": "nope"}, seed=0)


def test_a_binary_ts_file_is_a_clear_source_error(tmp_path):
    from omnivec2.data.sources import SourceError, load_source
    from tests.default_suite import default_dataset

    bad = tmp_path / "X_TRAIN.ts"
    bad.write_bytes(b"@problemName X\n\xff\xfe\x00garbage")
    with pytest.raises(SourceError, match=r"dataset 'imu': .*X_TRAIN.ts is not UTF-8 text"):
        load_source(default_dataset("imu"), {"kind": "ts_file", "train_path": str(bad), "test_path": str(bad)}, 0)
