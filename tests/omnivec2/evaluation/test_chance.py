"""Chance levels and the binomial test of a score against them."""

from math import comb

import numpy as np
import pytest

from omnivec2.evaluation.chance import chance_level, majority_share, p_above_chance


def test_the_chance_accuracy_is_the_most_frequent_test_class_s_share():
    assert majority_share(np.array([2, 0, 2, 1, 2, 0])) == pytest.approx(0.5)
    assert majority_share(np.arange(92)) == pytest.approx(1 / 92)
    with pytest.raises(ValueError, match="at least one target"):
        majority_share(np.array([], dtype=np.int64))


def test_the_p_value_is_the_binomial_tail_from_the_score_s_hits():
    # 3 right of 92 at 1/92 (the classical infrared-object figure, 0.033): P(X >= 3), summed by hand
    by_hand = 1 - sum(comb(92, k) * (1 / 92) ** k * (91 / 92) ** (92 - k) for k in range(3))
    assert p_above_chance(3 / 92, 92, 1 / 92) == pytest.approx(by_hand, rel=1e-9)
    assert 0.05 < by_hand < 0.1  # not above chance at 0.05
    assert p_above_chance(0.0, 92, 1 / 92) == 1.0
    assert p_above_chance(0.5, 100, 0.25) < 1e-6
    # a mean of seeds is rounded to whole hits: 0.0326 of 92 is 3 hits
    assert p_above_chance(0.0326, 92, 1 / 92) == pytest.approx(by_hand, rel=1e-9)
    with pytest.raises(ValueError, match="trials >= 1"):
        p_above_chance(0.5, 0, 0.5)


def test_classification_and_retrieval_entries_have_a_chance_level_dense_regression_and_old_ones_do_not():
    assert chance_level({"kind": "classification", "chance": {"accuracy": 0.25}}) == 0.25
    assert chance_level({"kind": "classification", "omnivec2": {"accuracy": 0.9}}) is None
    retrieval = {"kind": "retrieval", "omnivec2": {"rank1": 0.1, "chance_rank1": 1 / 92}, "classical": {"rank1": 0.3}}
    assert chance_level(retrieval) == pytest.approx(1 / 92)
    assert chance_level({"kind": "dense", "omnivec2": {"miou": 0.5}}) is None
    assert chance_level({"kind": "regression", "omnivec2": {"rmse": 0.5}}) is None
