"""Every bad-input kind (bad_input_kinds.KINDS) against every dataset of the default suite, as timm's
test_models runs every model: validation names the dataset, the check, the column and the sample;
quarantine sets aside exactly the bad rows and keeps every good one; the token cache refuses the
bad table and writes nothing, and a cache of what quarantine keeps holds every good sample."""

from __future__ import annotations

import json
from functools import cache

import pandas as pd
import pytest

from omnivec2.data.sources import load_source
from omnivec2.modalities.registry import MODALITIES
from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache, read_token_split
from omnivec2.validation import ValidationFailed, validate_sample_table
from tests.default_suite import DATASETS
from tests.omnivec2.validation.bad_input_kinds import KINDS, BadInput

ROW = 5  # the corrupted row of the good table
PER_SPLIT = 4  # rows per split in the good table
# Smaller runs of the slow generators (the corpus needs a dozen rows); other datasets read their default source.
SMALLER_SOURCE = {
    "audio": {"train_voices": ["en-us"], "val_voices": ["en-us+f5"], "test_voices": ["en-029+m4"], "speeds": [160], "pitches": [50]},
    **{name: {"views": 3, "test_views": 1, "val_views": 1} for name in ("depth", "infrared", "rgb")},
    **{name: {"count": 30} for name in ("hyperspectral", "video", "xray")},
}
# (kind x dataset) pairs the per-modality copies tested before this corpus replaced them (120 over the 15
# default datasets); the corpus must not test fewer
PAIRS_BEFORE_THE_CORPUS = 120

PAIRS = [(name, kind) for name in sorted(DATASETS) for kind in KINDS]
TESTED = [pytest.param(name, kind, id=f"{name}-{kind.name}") for name, kind in PAIRS if not kind.not_applicable(DATASETS[name])]
LEFT_OUT = {(name, kind.name): kind.not_applicable(DATASETS[name]) for name, kind in PAIRS if kind.not_applicable(DATASETS[name])}


@cache
def good_table(name: str) -> pd.DataFrame:
    """The first PER_SPLIT samples of each split of the dataset's default source (clean: see
    test_good_table_passes_and_caches)."""
    spec = DATASETS[name]
    table = load_source(spec, {**spec.source, **SMALLER_SOURCE.get(name, {})}, seed=0)
    return table.groupby("split", group_keys=False).head(PER_SPLIT).reset_index(drop=True)


def cached_ids(root, name: str) -> list[str]:
    return sorted(i for split in ("train", "val", "test") for i in read_token_split(root, name, split).sample_ids)


def assert_nothing_written(root) -> None:
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*")), list(root.rglob("*"))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_good_table_passes_and_caches(name, tmp_path):
    table = good_table(name)
    outcome = validate_sample_table(table, DATASETS[name])
    assert outcome.report["success"] and len(outcome.valid) == len(table) > ROW
    build_token_cache(table, DATASETS[name], tmp_path)
    assert cached_ids(tmp_path, name) == sorted(table["sample_id"])


@pytest.mark.parametrize("name, kind", TESTED)
def test_bad_input_is_named_set_aside_and_never_cached(name: str, kind: BadInput, tmp_path):
    spec, good = DATASETS[name], good_table(name)
    bad = kind.corrupt(good, spec, ROW)

    with pytest.raises(ValidationFailed) as info:
        validate_sample_table(bad.table, spec)
    error = info.value
    assert error.dataset == name and error.report["modality"] == spec.modality
    head = f"validation failed for dataset {name!r}: {bad.expectation}"
    head += f" on column {bad.column!r} failed for " if bad.column else " failed: "
    assert any(line.startswith(head) and bad.named in line for line in str(error).splitlines()), str(error)
    failed = [e for e in error.report["expectations"] if not e["success"]]
    assert any(e["expectation"] == bad.expectation and e["column"] == bad.column for e in failed)
    json.dumps(error.report)

    if bad.column is None:  # a table-level failure: quarantine cannot keep anything either
        with pytest.raises(ValidationFailed, match=bad.expectation):
            validate_sample_table(bad.table, spec, mode="quarantine")
    else:
        outcome = validate_sample_table(bad.table, spec, mode="quarantine")
        kept = bad.table.drop(index=list(bad.bad_rows))
        assert outcome.valid["sample_id"].tolist() == kept["sample_id"].tolist()  # every good sample, in order
        assert len(outcome.quarantined) == len(bad.bad_rows)
        assert outcome.quarantined["reason"].str.contains(bad.expectation).all(), outcome.quarantined["reason"].tolist()
        build_token_cache(outcome.valid, spec, tmp_path / "kept")
        assert cached_ids(tmp_path / "kept", name) == sorted(kept["sample_id"])

    with pytest.raises(UnvalidatedTableError, match=f"dataset {name!r}") as refusal:
        build_token_cache(bad.table, spec, tmp_path / "cache")
    assert bad.named in str(refusal.value)
    assert_nothing_written(tmp_path / "cache")


def test_pairs_left_out_are_explained_and_the_corpus_covers_at_least_what_it_replaced():
    assert all(reason for reason in LEFT_OUT.values())
    assert len(TESTED) + len(LEFT_OUT) == len(DATASETS) * len(KINDS)
    assert len(TESTED) >= PAIRS_BEFORE_THE_CORPUS, LEFT_OUT


def test_every_registered_modality_has_a_dataset_in_the_corpus():
    """A newly registered modality fails here until the default suite holds a dataset of it (the
    good table every kind corrupts)."""
    covered = {spec.modality for spec in DATASETS.values()}
    assert not set(MODALITIES) - covered, f"modalities without a default dataset: {sorted(set(MODALITIES) - covered)}"
