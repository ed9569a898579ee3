"""Shared bad-input checks of the audio, text and time-series tests: validation names the check and
the sample, quarantine sets exactly that sample aside, and no cache shard is written from it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from omnivec2.datasets import DatasetSpec
from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache, read_token_split
from omnivec2.validation import ValidationFailed, validate_sample_table
from tests.omnivec2.modalities.bad_inputs import with_payload, with_value  # noqa: F401  (re-exported)

ROW = 5


def assert_rejected(table: pd.DataFrame, spec: DatasetSpec, expectation: str, column: str | None,
                    sample: str, cache_root: Path, direct_refusal: bool) -> None:
    """Fail mode names `expectation` on `column` and `sample`; quarantine sets aside only `sample`
    (row-level checks). With `direct_refusal` (kinds the cache's own re-check covers) building the
    cache from the bad table is refused and writes nothing; otherwise the cache built from what
    validation lets through lacks the sample."""
    with pytest.raises(ValidationFailed) as info:
        validate_sample_table(table, spec)
    message = str(info.value)
    head = f"validation failed for dataset {spec.name!r}: {expectation}"
    head += f" on column {column!r}" if column else ""
    assert any(line.startswith(head) and sample in line for line in message.splitlines()), message

    if direct_refusal:
        with pytest.raises(UnvalidatedTableError):
            build_token_cache(table, spec, cache_root)
        assert not (cache_root / spec.name).exists()
    if column is None:  # table-level: quarantine cannot help either
        with pytest.raises(ValidationFailed):
            validate_sample_table(table, spec, mode="quarantine")
        return
    outcome = validate_sample_table(table, spec, mode="quarantine")
    assert set(outcome.quarantined["sample_id"]) == {sample}  # both rows of a duplicated id
    assert outcome.quarantined["reason"].str.contains(expectation).all()
    assert len(outcome.valid) == len(table) - len(outcome.quarantined)
    if not direct_refusal:  # the cache cannot tell: what validation lets through must not hold it
        build_token_cache(outcome.valid, spec, cache_root)
        cached = [i for split in ("train", "val", "test") for i in read_token_split(cache_root, spec.name, split).sample_ids]
        assert sample not in cached and len(cached) == len(outcome.valid)
