"""UCR/UEA `.ts` files with `@timeStamps true`: `(time,value)` pairs per channel, numbers or
date-times, irregular and unequal, brought to the dataset's [channels, length] in time."""

from __future__ import annotations

import numpy as np
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source, parse_ts
from omnivec2.datasets import resolve_dataset

HEADER = """@problemName Stamped
@timeStamps {timed}
@univariate {univariate}
@equalLength {equal}
@missing {missing}
@classLabel true a b
@data
"""


def dataset(tmp_path, rows: list[str], channels: int, length: int, timed=True, equal=False, **options):
    """A time-series dataset of `channels` x `length` reading `rows` (same train and test files)."""
    text = HEADER.format(timed=str(timed).lower(), univariate=str(channels == 1).lower(), equal=str(equal).lower(),
                         missing="true") + "".join(row + "\n" for row in rows)
    for part in ("TRAIN", "TEST"):
        (tmp_path / f"S_{part}.ts").write_text(text)
    source = {"kind": "ts_file", "train_path": str(tmp_path / "S_TRAIN.ts"), "test_path": str(tmp_path / "S_TEST.ts"),
              "id_prefix": "s", "val_fraction": 0.5, **options}
    return resolve_dataset("stamped", {"modality": "time_series", "shape": {"channels": channels, "length": length,
                                                                            "patch": 1},
                                       "source": source, "tasks": {"kind": {"classes": ["a", "b"]}}})


def payloads(spec) -> dict[str, np.ndarray]:
    table = load_source(spec, spec.source, seed=0)
    return {row["sample_id"]: decode_payload(row) for _, row in table[table["split"] == "test"].iterrows()}


def stamped(channel: list[float], times=None) -> str:
    return ",".join(f"({t},{'?' if np.isnan(v) else v})" for t, v in zip(times or range(len(channel)), channel))


@pytest.mark.parametrize("options", [{}, {"length_policy": "pad", "missing": "zero"}])
def test_stamps_0_1_2_read_exactly_as_the_same_file_without_stamps(tmp_path, options):
    samples = [([0.0, 1.0, np.nan, 3.0], [10.0, 20.0, 30.0, 40.0], "a"), ([5.0, 6.0], [7.0, np.nan], "b")]
    plain = [":".join(",".join("?" if np.isnan(v) else str(v) for v in c) for c in (x, y)) + f":{label}"
             for x, y, label in samples]
    timed = [f"{stamped(x)}:{stamped(y)}:{label}" for x, y, label in samples]
    (tmp_path / "plain").mkdir()
    (tmp_path / "timed").mkdir()
    expected = payloads(dataset(tmp_path / "plain", plain, 2, 6, timed=False, **options))
    got = payloads(dataset(tmp_path / "timed", timed, 2, 6, **options))
    assert expected.keys() == got.keys()
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-6, err_msg=key)


def test_irregular_stamps_are_resampled_in_time_not_by_index(tmp_path):
    times = [0, 1, 4, 10]
    row = f"{stamped([2.0 * t for t in times], times)}:b"  # v = 2 t, sampled irregularly
    got = payloads(dataset(tmp_path, [row, row.replace(":b", ":a")], 1, 6))["s-test-00000"]
    np.testing.assert_allclose(got, [2.0 * np.linspace(0, 10, 6)], rtol=1e-6)  # by index it would be 0,..,8,20


def test_date_times_with_colons_and_channels_on_different_stamps_share_one_time_axis(tmp_path):
    """Channel x at 00:00:00, 00:00:02, 00:00:04; channel y at 00:00:01, 00:00:04 (value at :01 missing
    in x, at :00 and :02 in y): the union of stamps is the sample's axis, gaps interpolated in time."""
    day = "2007-01-01 00:00:0"
    x = f"({day}4,8.0),({day}0,0.0),({day}2,?)"  # out of order, a missing value
    y = f"({day}1,1.0),({day}4,4.0)"
    spec = dataset(tmp_path, [f"{x}:{y}:a", f"{x}:{y}:b"], 2, 5)
    series, labels = parse_ts((tmp_path / "S_TRAIN.ts").read_text(), "S_TRAIN.ts", 2)
    np.testing.assert_array_equal(series[0][0].times, [1167609600.0, 1167609602.0, 1167609604.0])  # seconds, sorted
    assert labels == ["a", "b"]
    got = payloads(spec)["s-test-00000"]  # axis 0, 1, 2, 4 s resampled to 0, 1, 2, 3, 4 s
    np.testing.assert_allclose(got[0], [0.0, 2.0, 4.0, 6.0, 8.0], rtol=1e-6)  # x's only known values: 0 at 0 s, 8 at 4 s
    np.testing.assert_allclose(got[1], [1.0, 1.0, 2.0, 3.0, 4.0], rtol=1e-6)  # held before its first stamp


def test_pad_keeps_the_stamps_as_steps_and_zero_fills_gaps(tmp_path):
    row = "(0,1.0),(2,3.0),(5,?):(1,7.0):a"
    got = payloads(dataset(tmp_path, [row, row.replace(":a", ":b")], 2, 6, length_policy="pad", missing="zero"))
    np.testing.assert_array_equal(got["s-test-00000"], [[1, 0, 3, 0, 0, 0], [0, 7, 0, 0, 0, 0]])  # axis 0, 1, 2, 5


@pytest.mark.parametrize("timed", [True, False])
def test_univariate_unequal_lengths_with_missing_values(tmp_path, timed):
    rows = [[1.0, np.nan, 3.0], [4.0, 5.0, 6.0, 7.0, 8.0]]
    text = [(stamped(r) if timed else ",".join("?" if np.isnan(v) else str(v) for v in r)) + f":{label}"
            for r, label in zip(rows, "ab")]
    got = payloads(dataset(tmp_path, text, 1, 5, timed=timed))
    np.testing.assert_allclose(got["s-test-00000"], [np.linspace(1.0, 3.0, 5)], rtol=1e-6)
    np.testing.assert_allclose(got["s-test-00001"], [[4.0, 5.0, 6.0, 7.0, 8.0]], rtol=1e-6)


def test_equal_length_true_still_refuses_stamped_channels_of_different_lengths(tmp_path):
    spec = dataset(tmp_path, ["(0,1),(1,2):(0,1):a"], 2, 4, equal=True)
    with pytest.raises(SourceError, match=r"S_TRAIN\.ts, line 8: ragged channels of lengths \[1, 2\]"):
        load_source(spec, spec.source, seed=0)


@pytest.mark.parametrize("row, message", [
    ("(0,1),(0,2):a", r"time stamp '0' appears twice in one channel"),
    ("(0,1),(2007-01-01,2):a", r"time stamps must all be numbers or all date-times"),
    ("(0,1),5:a", r"expected '\(time,value\)' pairs separated by ','"),
    ("(0 1):a", r"a pair without ',' between time and value"),
    ("(0,x):a", r"could not convert"),
])
def test_bad_stamped_lines_name_dataset_file_and_line(tmp_path, row, message):
    spec = dataset(tmp_path, ["(0,1),(1,2):b", row], 1, 4)
    with pytest.raises(SourceError, match=r"dataset 'stamped': .*S_TRAIN\.ts, line 9: " + message):
        load_source(spec, spec.source, seed=0)
