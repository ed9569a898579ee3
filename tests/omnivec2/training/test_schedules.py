from collections import Counter

import pytest

from omnivec2.training.schedules import ModalitySwitcher, PairSampler, valid_pairs


def test_cycle_visits_modalities_in_turn():
    switcher = ModalitySwitcher(["a", "b", "c"], "cycle")
    assert [switcher.next() for _ in range(6)] == ["a", "b", "c", "a", "b", "c"]


def test_pairs_of_tasks_come_from_different_modalities():
    tasks = ["image/digit", "video/digit", "video/direction", "imu/activity"]
    pairs = valid_pairs(tasks, lambda t: t.split("/")[0])
    assert ("video/digit", "video/direction") not in pairs
    assert len(pairs) == 5


@pytest.mark.parametrize("mode", ["uniform", "size", "budget"])
def test_every_pair_is_drawn(mode):
    items = ["a", "b", "c", "d"]
    sampler = PairSampler(valid_pairs(items), mode, sizes={"a": 10, "b": 20, "c": 30, "d": 40},
                          budgets={i: 200 for i in items}, seed=0)
    counts = Counter(sampler.next() for _ in range(600))
    assert set(counts) == set(valid_pairs(items))


def test_size_proportional_sampling_favours_large_datasets():
    sampler = PairSampler(valid_pairs(["small", "big", "mid"]), "size",
                          sizes={"small": 1, "big": 100, "mid": 10}, seed=0)
    counts = Counter(sampler.next() for _ in range(2000))
    assert counts[("small", "big")] > counts[("small", "mid")]


def test_budget_sampling_spends_budgets_evenly():
    sampler = PairSampler(valid_pairs(["a", "b", "c"]), "budget", budgets={"a": 100, "b": 100, "c": 100}, seed=1)
    for _ in range(120):
        sampler.next()
    spent = {k: 100 - v for k, v in sampler.remaining.items()}
    assert sum(spent.values()) == 240
    assert max(spent.values()) - min(spent.values()) <= 30


def test_sampler_state_resumes_the_same_sequence():
    a = PairSampler(valid_pairs("abc"), "uniform", seed=3)
    for _ in range(5):
        a.next()
    b = PairSampler(valid_pairs("abc"), "uniform", seed=99)
    b.load_state_dict(a.state_dict())
    assert [a.next() for _ in range(10)] == [b.next() for _ in range(10)]
