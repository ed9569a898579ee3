"""The Great Expectations suite per modality: clean tables pass, failure counts, table-level failures,
quarantine (each bad-input kind against each dataset: test_bad_inputs.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sources import load_source
from tests.default_suite import DATASETS
from tests.omnivec2.validation.bad_input_kinds import with_payload, with_value
from omnivec2.validation import ValidationFailed, validate_sample_table


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: load_source(spec, spec.source, seed=0) for name, spec in DATASETS.items()}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_clean_default_table_passes(tables, name):
    outcome = validate_sample_table(tables[name], DATASETS[name])
    report = outcome.report
    assert report["success"] and len(outcome.valid) == len(tables[name]) and outcome.quarantined.empty
    assert report["dataset"] == name and report["modality"] == DATASETS[name].modality and report["great_expectations_version"].startswith("1.")
    assert report["row_counts"]["valid"] == len(tables[name])
    for task in (t for t in DATASETS[name].tasks if t.kind in ("classification", "dense")):
        assert sum(report["class_balance"]["test"][task.name].values()) == report["row_counts"]["valid_per_split"]["test"]
    for task in (t for t in DATASETS[name].tasks if t.kind == "regression"):
        assert task.name not in report["class_balance"]["test"]  # no classes to balance
    assert json.loads(json.dumps(report)) == report
    assert validate_sample_table(tables[name], DATASETS[name]).report == report  # deterministic


ROW = 17

def test_message_counts_failures(tables):
    table = with_payload(tables["tabular"], ROW, np.r_[np.nan, np.ones(12)].astype(np.float32))
    with pytest.raises(ValidationFailed, match=r"'nan_count' failed for 1 of 178 samples \(e\.g\. wine-00017: 1\); expected >= 0 and <= 0"):
        validate_sample_table(table, DATASETS["tabular"])


def test_no_test_samples_is_a_table_failure(tables):
    table = tables["tabular"].assign(split="train")
    with pytest.raises(ValidationFailed, match=r"on column 'split' failed: no samples in split\(s\) \['test'\]"):
        validate_sample_table(table, DATASETS["tabular"], mode="quarantine")


def test_quarantine_keeps_good_rows_and_records_reasons(tables):
    table = with_payload(tables["tabular"], 5, np.r_[np.nan, np.ones(12)].astype(np.float32))
    table = with_value(table, 9, "cultivar", 7)
    table = with_value(table, 11, "payload", table.at[11, "payload"][:10])
    outcome = validate_sample_table(table, DATASETS["tabular"], mode="quarantine")
    assert len(outcome.valid) == 175
    assert outcome.quarantined["sample_id"].tolist() == ["wine-00005", "wine-00009", "wine-00011"]
    reasons = dict(zip(outcome.quarantined["sample_id"], outcome.quarantined["reason"]))
    assert "expect_column_values_to_be_between on 'nan_count'" in reasons["wine-00005"]
    assert "expect_column_values_to_be_in_set on 'cultivar': value 7" in reasons["wine-00009"]
    assert "payload holds 10 bytes" in reasons["wine-00011"]
    assert not outcome.valid["sample_id"].isin(reasons).any()
    report = outcome.report
    assert not report["success"] and report["row_counts"]["quarantined"] == 3
    assert report["quarantine_reasons"]["expect_column_values_to_be_in_set on 'cultivar'"] == 1
    json.dumps(report)


def test_quarantine_that_empties_a_required_split_raises(tables):
    table = tables["tabular"].copy()
    table["nan_count"] = np.where(table["split"] == "test", 1, 0)
    with pytest.raises(ValidationFailed, match=r"no samples left in split\(s\) \['test'\] after quarantine"):
        validate_sample_table(table, DATASETS["tabular"], mode="quarantine")


def test_unknown_mode(tables):
    with pytest.raises(ValueError, match="mode"):
        validate_sample_table(tables["tabular"], DATASETS["tabular"], mode="ignore")


def test_a_payload_out_of_the_modality_s_range_is_told_its_values_the_range_and_the_fix(tables):
    """Raw 16-bit counts in a 14-bit infrared dataset: the message gives the sample's largest value,
    the bound and which settings change it, not only that `max` failed."""
    table = with_payload(tables["infrared"], ROW, np.full((64, 64), 29000.0, np.float32))
    with pytest.raises(ValidationFailed) as info:
        validate_sample_table(table, DATASETS["infrared"])
    sample = table["sample_id"].iloc[ROW]
    assert (f"on column 'max' failed for 1 of {len(table)} samples (e.g. {sample}: 29000.0); expected <= 16383.0 "
            "(the payload's values, the modality's value_range: rescale the data, e.g. with the source's `scale` "
            "option where it has one, or set the dataset's `value_range` shape setting)") in str(info.value)


def test_each_example_s_value_is_its_own_first_failing_row_s_and_ids_are_named_once():
    from omnivec2.validation.report import example_ids, example_values

    table = pd.DataFrame({"sample_id": ["a", "a", None, "b"], "max": [np.float32(5.0), 6.0, 7.0, 8.0],
                          "payload": [b"xy", b"", b"", b""]})
    assert example_ids(table, [0, 1, 2, 3]) == ["a", "<row 2>", "b"]
    assert example_values(table, [0, 1, 2, 3], "max") == [5.0, 7.0, 8.0]
    assert type(example_values(table, [0], "max")[0]) is float  # numpy scalars unwrapped for JSON
    assert example_values(table, [1, 0], "payload") == ["<0 bytes>"]
