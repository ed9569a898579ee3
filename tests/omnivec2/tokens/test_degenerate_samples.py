"""Degenerate samples (issue 14, item 3), checked against what each tokenizer does with them.

* zero-extent point sets: refused by validation (`payload_is_not_degenerate`; the refusal and its reason
  are tested in `tests/omnivec2/data/test_reader_faults.py` and the validation corpus);
* every other tokenizer takes a constant sample without a division by zero, so validation keeps it (the
  reasons are in `omnivec2.validation.checks.NOT_DEGENERATE`). These tests hold that claim for each
  default dataset: constant samples tokenize to finite tokens, alone (a train split of constant samples:
  every fitted deviation is zero before its floor) and among varied ones;
* images of one value: there is no per-patch normalisation (pixels are divided by a fixed scale), so a
  one-value image's tokens are that value over the scale, everywhere;
* constant series: standardised with the train split's per-channel mean and deviation (floored at 1e-6),
  so a constant sample gives finite tokens;
* graphs with no edges (one atom, or atoms without bonds: methane, water, salts in a solubility set): the
  normalised Laplacian is the identity, whose eigenbasis numpy returns as the unit vectors, so the node
  identifiers are defined, finite and the same on every run.
"""

from __future__ import annotations

import numpy as np
import pytest

from omnivec2.tokens.graph import encode_graph, laplacian_ids
from omnivec2.tokens.patches import ImagePatches
from omnivec2.validation.checks import NOT_DEGENERATE, checks_for
from tests.default_suite import DATASETS, default_dataset


def constant_samples(spec, value_index: int) -> list[np.ndarray]:
    """Three constant payloads of the dataset's shape and dtype (graphs: edgeless; text: one repeated byte)."""
    if spec.tokenizer.__class__.__name__ == "GraphTokens":
        return [encode_graph([5], []), encode_graph([5, 7], []), encode_graph([5, 5, 7], [])]
    shape = tuple(d if d is not None else 12 for d in spec.payload.shape)
    low, high = spec.payload.value_range
    value = [low if low is not None else 0.0, high if high is not None else 1.0, 0.5 * ((low or 0.0) + (high or 1.0))][value_index]
    if spec.payload.dtype == "uint8" and spec.modality == "text":
        value = 97  # "aaaa...": a text of one repeated character
    return [np.full(shape, value, dtype=spec.payload.dtype) for _ in range(3)]


def varied_samples(spec, rng) -> list[np.ndarray]:
    if spec.tokenizer.__class__.__name__ == "GraphTokens":
        return [encode_graph([5, 5, 7], [(0, 1, 1), (1, 2, 2)]), encode_graph([5, 7], [(0, 1, 1)])]
    shape = tuple(d if d is not None else 12 for d in spec.payload.shape)
    low, high = spec.payload.value_range
    values = rng.uniform(low if low is not None else 0.0, high if high is not None else 1.0, (2, *shape))
    return [v.astype(spec.payload.dtype) for v in values]


SAFE = [name for name in DATASETS if not callable(getattr(default_dataset(name).tokenizer, "degenerate", None))]


def test_only_the_point_groups_refuse_degenerate_samples():
    refusing = sorted(set(DATASETS) - set(SAFE))
    assert refusing == ["point_cloud"], refusing
    spec = default_dataset("point_cloud")
    assert any(c.type == NOT_DEGENERATE for c in checks_for(spec))
    assert spec.tokenizer.degenerate(np.ones((1024, 3))).startswith("all 1024 points are identical (zero extent)")
    assert spec.tokenizer.degenerate(np.random.default_rng(0).normal(size=(1024, 3))) is None


@pytest.mark.parametrize("name", SAFE)
@pytest.mark.parametrize("value_index", [0, 1, 2], ids=["low", "high", "middle"])
def test_constant_samples_tokenize_to_finite_tokens(name, value_index):
    spec = default_dataset(name)
    tokenizer, constant = spec.tokenizer, constant_samples(spec, value_index)
    alone = tokenizer.transform(constant, tokenizer.fit(constant))  # every fitted deviation zero before its floor
    assert np.isfinite(alone).all(), name
    varied = varied_samples(spec, np.random.default_rng(0))
    mixed = tokenizer.transform(constant + varied, tokenizer.fit(constant + varied))
    assert np.isfinite(mixed).all(), name


def test_an_image_of_one_value_has_tokens_of_that_value_over_the_scale():
    tokens = ImagePatches(patch=4, scale=16.0).transform([np.full((8, 12), 6.0, np.float32)], {})
    assert tokens.shape == (1, 6, 16) and np.all(tokens == 6.0 / 16.0)  # no per-patch normalisation


def test_an_edgeless_graph_has_defined_node_identifiers():
    ids = laplacian_ids(np.zeros((1, 4, 4)), k=3)  # four atoms, no bonds: the Laplacian is the identity
    np.testing.assert_array_equal(ids[0], np.eye(4)[:, 1:4])  # the unit vectors, the trivial first dropped
    np.testing.assert_array_equal(laplacian_ids(np.zeros((1, 4, 4)), k=3), ids)  # the same on every call
    single = laplacian_ids(np.zeros((1, 1, 1)), k=3)  # one atom: no non-trivial eigenvector, zeros
    assert single.shape == (1, 1, 3) and not single.any()
