"""Fits side by side (`omnivec2.parallel_fits`): the same results as one after another, in order,
with BLAS and OpenMP held to one thread inside every fit."""

import threading
from functools import partial

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from omnivec2.parallel_fits import run_fits, start_order
from omnivec2.training.head_refit import _logistic


def _problem(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 20))
    return x, (x @ rng.normal(size=(20, 3))).argmax(1)


def test_side_by_side_fits_equal_those_run_in_turn_bit_for_bit_and_keep_their_order():
    fits = [partial(_logistic, *_problem(seed), 3, 500) for seed in range(6)]
    in_turn = run_fits(fits, workers=1)
    side_by_side = run_fits(fits, workers=2)
    assert len(side_by_side) == 6
    for (w1, b1), (w2, b2) in zip(in_turn, side_by_side):
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(b1, b2)
    # different problems, different weights: the order is the fits' order, not the finishing order
    assert not np.array_equal(in_turn[0][0], in_turn[1][0])


def test_each_fit_runs_with_one_blas_and_one_openmp_thread_on_the_pool():
    seen = []

    def record():
        seen.append((threading.current_thread().name,
                     {info["user_api"]: info["num_threads"] for info in threadpool_info()}))

    run_fits([record] * 4, workers=2)
    assert {name.startswith("fit") for name, _ in seen} == {True}
    assert all(threads == 1 for _, limits in seen for threads in limits.values()), seen


def test_a_failing_fit_raises_its_own_error():
    def broken():
        raise ValueError("pixel 3 has one class")

    with pytest.raises(ValueError, match="pixel 3 has one class"):
        run_fits([lambda: 1, broken, lambda: 2], workers=2)


def test_the_costliest_fits_are_submitted_first_and_the_results_keep_the_fits_order():
    costs = [1, 50, 3, 40, 3]
    assert start_order(5, costs) == [1, 3, 2, 4, 0]
    assert start_order(3) == [0, 1, 2]
    assert run_fits([partial(int, i) for i in range(5)], workers=2, costs=costs) == [0, 1, 2, 3, 4]
