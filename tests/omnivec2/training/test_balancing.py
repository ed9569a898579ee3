import math

import pytest
import torch

from omnivec2.training.balancing import DynamicWeightAverage, EqualWeighting, UncertaintyWeighting


def test_dwa_matches_the_formula_on_a_known_loss_sequence():
    dwa = DynamicWeightAverage(temperature=2.0, window=1)
    # Visits: task a's losses 4 -> 2 (ratio 0.5), task b's 1 -> 1 (ratio 1.0).
    for loss_a, loss_b in [(4.0, 1.0), (2.0, 1.0)]:
        dwa.combine({"a": torch.tensor(loss_a), "b": torch.tensor(loss_b)})
    weights = dwa.weights(["a", "b"])
    ea, eb = math.exp(0.5 / 2.0), math.exp(1.0 / 2.0)
    assert weights["a"] == pytest.approx(2 * ea / (ea + eb))
    assert weights["b"] == pytest.approx(2 * eb / (ea + eb))
    assert sum(weights.values()) == pytest.approx(2.0)


def test_dwa_counts_a_task_s_own_visits_when_it_is_absent_from_steps():
    dwa = DynamicWeightAverage(temperature=1.0, window=2)
    for loss in [8.0, 8.0, 4.0, 4.0]:  # task a visited 4 times, with other tasks in between
        dwa.combine({"a": torch.tensor(loss), "c": torch.tensor(1.0)})
        dwa.combine({"b": torch.tensor(1.0), "c": torch.tensor(1.0)})
    assert dwa.ratio("a") == pytest.approx(0.5)
    assert dwa.ratio("b") == pytest.approx(1.0)
    assert dwa.ratio("unseen") == 1.0


def test_dwa_stays_finite_when_a_loss_rises_from_almost_zero():
    """A memorised task's loss at 1e-9 then 1e-3 is a ratio of 1e6: the weights are still a softmax."""
    dwa = DynamicWeightAverage(temperature=2.0, window=1)
    for loss_a, loss_b in [(1e-9, 1.0), (1e-3, 1.0)]:
        dwa.combine({"a": torch.tensor(loss_a), "b": torch.tensor(loss_b)})
    weights = dwa.weights(["a", "b"])
    assert weights["a"] == pytest.approx(2.0) and weights["b"] == pytest.approx(0.0, abs=1e-12)


def test_dwa_weights_are_uniform_without_history():
    assert DynamicWeightAverage().weights(["x", "y"]) == {"x": 1.0, "y": 1.0}


def test_equal_weighting_sums():
    total, weights = EqualWeighting().combine({"a": torch.tensor(1.0), "b": torch.tensor(2.0)})
    assert float(total) == 3.0 and weights == {"a": 1.0, "b": 1.0}


def test_uncertainty_weighting_is_kendall_s_formula_and_learnable():
    balancer = UncertaintyWeighting(["a", "b"])
    with torch.no_grad():
        balancer.log_vars["a"].fill_(math.log(2.0))
    total, _ = balancer.combine({"a": torch.tensor(4.0), "b": torch.tensor(1.0)})
    assert float(total.detach()) == pytest.approx(4.0 / 2.0 + math.log(2.0) + 1.0)
    total.backward()
    assert balancer.log_vars["a"].grad is not None


def test_normalised_dwa_puts_tasks_of_different_loss_scales_on_one_scale():
    """L_k / L_k(0): after each task's first visit, a 92-class loss and a binary one weigh the same
    relative to where they started; the first visit itself is not rescaled."""
    dwa = DynamicWeightAverage(temperature=2.0, window=1, normalise=True)
    assert dwa.weights(["many", "two"]) == {"many": 1.0, "two": 1.0}
    dwa.combine({"many": torch.tensor(4.5), "two": torch.tensor(0.7)})
    weights = dwa.weights(["many", "two"])
    assert weights["many"] * 4.5 == pytest.approx(weights["two"] * 0.7)
    plain = DynamicWeightAverage(temperature=2.0, window=1)
    plain.combine({"many": torch.tensor(4.5), "two": torch.tensor(0.7)})
    assert plain.weights(["many", "two"]) == {"many": 1.0, "two": 1.0}


def test_dwa_state_keeps_the_initial_losses_and_reads_the_older_format():
    dwa = DynamicWeightAverage(window=1, normalise=True)
    for loss in (3.0, 2.0):
        dwa.combine({"a": torch.tensor(loss)})
    restored = DynamicWeightAverage(window=1, normalise=True)
    restored.load_state_dict(dwa.state_dict())
    assert restored.weights(["a", "b"]) == dwa.weights(["a", "b"]) and restored.initial == {"a": 3.0}
    older = DynamicWeightAverage(window=1)
    older.load_state_dict({"a": [3.0, 2.0]})  # a checkpoint from before L_k(0) was kept
    assert older.ratio("a") == pytest.approx(2 / 3) and older.initial == {}
