"""What the reader fault tests assert. `assert_nothing_cached`: a refused reading stops before anything
reaches the token cache. `assert_file_set_aside`: what every test of a file a reader could not use asserts (`omnivec2.data.sources.undecodable`,
`listing.skipped_rows`): the reading goes on; `fail` mode stops the run naming the sample and what is
wrong with its file; `quarantine` mode sets exactly that row aside with the same words, lists it under
`source_problems`, and the token cache built from what is left holds nothing of it."""

from __future__ import annotations

import re

import pytest

from omnivec2.data.sources import SourceError, load_source
from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache, read_token_split
from omnivec2.validation import ValidationFailed, validate_sample_table


def cached_ids(root, name: str) -> list[str]:
    """Every sample id in the token cache of dataset `name` under `root`."""
    return sorted(i for split in ("train", "val", "test") for i in read_token_split(root, name, split).sample_ids)


def assert_nothing_cached(spec, source, cache, error=(SourceError, ValidationFailed, UnvalidatedTableError)):
    """Reading, validating (fail mode) and caching `source` stops before anything is written to `cache`;
    returns the error, whose message the caller checks."""
    with pytest.raises(error) as info:
        table = load_source(spec, source, 0)
        validate_sample_table(table, spec)
        build_token_cache(table, spec, cache)
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*")), list(cache.rglob("*"))
    return info.value


def assert_file_set_aside(spec, source, sample_id: str, problem: str, cache=None):
    """`problem` (a regex) is what the reading says of the file of `sample_id`; returns the quarantine outcome.
    With `cache` (a folder), the token cache of the rows kept is built there and must lack `sample_id`."""
    table = load_source(spec, source, 0)
    assert sample_id in set(table["sample_id"]), sorted(table["sample_id"])
    with pytest.raises(ValidationFailed) as failed:
        validate_sample_table(table, spec)  # the default mode, `fail`
    message = str(failed.value)
    assert f"validation failed for dataset {spec.name!r}: source_file_was_read on column 'source_problem'" in message
    assert sample_id in message and re.search(problem, message), message
    outcome = validate_sample_table(table, spec, mode="quarantine")
    assert outcome.quarantined["sample_id"].tolist() == [sample_id], outcome.quarantined["sample_id"].tolist()
    assert re.search(f"source_file_was_read on 'source_problem': .*{problem}", outcome.quarantined["reason"][0])
    assert re.search(problem, outcome.report["source_problems"][sample_id]), outcome.report["source_problems"]
    assert sample_id not in set(outcome.valid["sample_id"]) and len(outcome.valid) == len(table) - 1
    if cache is not None:
        build_token_cache(outcome.valid, spec, cache)
        assert cached_ids(cache, spec.name) == sorted(outcome.valid["sample_id"])
    return outcome
