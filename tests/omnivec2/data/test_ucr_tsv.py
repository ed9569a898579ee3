"""UCR 2018 `.tsv` files through the `ts_file` source: labels first, NaN padding, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.sources.ucr_tsv import parse_tsv
from omnivec2.datasets import resolve_dataset

# As the archive writes a variable-length set: the second series is 3 steps long, padded with NaN;
# the fourth has a missing value inside.
TRAIN = "1\t0.5\t1.5\t2.5\t3.5\n2\t4\t5\t6\tNaN\n1\t1e0\t2\t3\t4\n2\t-1\tNaN\t-3\t-4\n"
TEST = "1\t0\t1\t2\t3\n2\t3\t2\t1\t0\n"

# A user's univariate dataset declared at the files' length (4 steps, patches of 2).
SERIES = resolve_dataset("series", {"modality": "time_series", "shape": {"channels": 1, "length": 4, "patch": 2},
                                    "source": {"kind": "ts_file", "dataset": "unused"},
                                    "tasks": {"label": {"classes": ["1", "2"]}}})


def written(tmp_path, train=TRAIN, test=TEST) -> dict:
    (tmp_path / "Toy_TRAIN.tsv").write_text(train)
    (tmp_path / "Toy_TEST.tsv").write_text(test)
    return {"kind": "ts_file", "train_path": str(tmp_path / "Toy_TRAIN.tsv"),
            "test_path": str(tmp_path / "Toy_TEST.tsv"), "id_prefix": "toy", "val_fraction": 0.5}


def test_labels_come_first_and_trailing_nan_is_padding_not_a_missing_value():
    series, labels = parse_tsv(TRAIN, "Toy_TRAIN.tsv")
    assert labels == ["1", "2", "1", "2"]
    assert all(len(s) == 1 and s[0].dtype == np.float32 for s in series)
    np.testing.assert_array_equal(series[0][0], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_array_equal(series[1][0], [4, 5, 6])  # the padding dropped
    assert np.isnan(series[3][0][1]) and len(series[3][0]) == 4  # a gap inside stays missing


def test_a_tsv_source_loads_at_the_declared_shape(tmp_path):
    table = load_source(SERIES, written(tmp_path), seed=0).set_index("sample_id")
    assert len(table) == 6 and (table["split"] == "test").sum() == 2 and (table["split"] == "val").sum() == 2
    np.testing.assert_allclose(decode_payload(table.loc["toy-train-00001"]), [[4, 14 / 3, 16 / 3, 6]], rtol=1e-6)  # resampled
    np.testing.assert_array_equal(decode_payload(table.loc["toy-train-00003"]), [[-1, -2, -3, -4]])  # interpolated
    assert table.loc["toy-test-00001", "label"] == 1


def test_padding_is_zero_padded_under_the_pad_policy(tmp_path):
    table = load_source(SERIES, written(tmp_path) | {"length_policy": "pad"}, seed=0).set_index("sample_id")
    np.testing.assert_array_equal(decode_payload(table.loc["toy-train-00001"]), [[4, 5, 6, 0]])


@pytest.mark.parametrize("bad_line, expected", [
    ("1\t0.5\tabc\t2", "line 3: value 'abc' is not a number"),
    ("1", "line 3: expected '<label>"),
    ("2\tNaN\tNaN", "line 3: the series has no values"),
])
def test_a_bad_line_names_the_dataset_file_and_line(tmp_path, bad_line, expected):
    lines = TRAIN.splitlines()
    lines[2] = bad_line
    with pytest.raises(SourceError, match=rf"dataset 'series': .*Toy_TRAIN\.tsv, {expected}"):
        load_source(SERIES, written(tmp_path, train="\n".join(lines) + "\n"), seed=0)


def test_a_multichannel_dataset_is_refused_naming_the_channels(tmp_path):
    two_channels = resolve_dataset("series", {"modality": "time_series",
                                              "shape": {"channels": 2, "length": 4, "patch": 2},
                                              "source": {"kind": "ts_file", "dataset": "unused"},
                                              "tasks": {"label": {"classes": ["1", "2"]}}})
    with pytest.raises(SourceError, match=r"dataset 'series': .*Toy_TRAIN\.tsv: a UCR \.tsv file holds univariate "
                                          r"series \(1 channel\); the dataset declares 2 channels"):
        load_source(two_channels, written(tmp_path), seed=0)


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(SourceError, match=r"Toy_TEST\.tsv: no samples"):
        load_source(SERIES, written(tmp_path, test="\n"), seed=0)
