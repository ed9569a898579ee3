"""Great Expectations Data Docs built from the results of validations that ran (one passing, one
failing): a suite and a validation page per dataset, with the failure on the failing one's page."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from omnivec2.data.sources import load_source
from omnivec2.validation import ValidationFailed, validate_sample_table
from omnivec2.validation.data_docs import build_data_docs, validation_pages
from tests.default_suite import DATASETS
from tests.omnivec2.validation.bad_input_kinds import with_payload


def _text(html: bytes) -> str:
    """The page's visible text, roughly (tags, scripts and styles dropped)."""
    html = re.sub(rb"<script.*?</script>|<style.*?</style>", b" ", html, flags=re.S)
    return " ".join(re.sub(rb"<[^>]+>", b" ", html).decode().split())


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    tabular = DATASETS["tabular"]
    clean = validate_sample_table(load_source(tabular, tabular.source, seed=0), tabular)
    bad_table = with_payload(load_source(tabular, tabular.source, seed=0), 17, np.r_[np.nan, np.ones(12)].astype(np.float32))
    with pytest.raises(ValidationFailed) as failed:
        validate_sample_table(bad_table, tabular)
    # as the catalog stores them: JSON
    return json.loads(json.dumps({"wine": clean.gx_result, "wine_broken": failed.value.gx_result}))


def test_a_suite_and_a_validation_page_per_dataset(results):
    site = build_data_docs(results)
    pages = validation_pages(site)
    assert sorted(pages) == ["wine", "wine_broken"]
    assert {"index.html", "expectations/wine.html", "expectations/wine_broken.html"} <= set(site)
    index = site["index.html"].decode()
    assert all(page in index for page in pages.values())  # the index links each validation
    clean, broken = _text(site[pages["wine"]]), _text(site[pages["wine_broken"]])
    assert "Expectation Suite: wine" in clean and "Status: Succeeded" in clean
    assert "Expectation Suite: wine_broken" in broken and "Status: Failed" in broken
    checked = len(results["wine_broken"]["results"])
    failed = sum(not r["success"] for r in results["wine_broken"]["results"])
    assert failed >= 1 and f"Evaluated Expectations {checked} Successful Expectations {checked - failed}" in broken
    assert "nan_count" in broken  # the failing expectation's column


def test_a_dataset_without_gx_checks_is_left_out_and_a_foreign_dict_is_refused(results):
    assert sorted(validation_pages(build_data_docs({"wine": results["wine"], "empty": None}))) == ["wine"]
    with pytest.raises(ValueError, match=r"dataset 'odd': the Great Expectations result lacks \['results'\]"):
        build_data_docs({"odd": {"success": True}})
