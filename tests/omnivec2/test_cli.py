"""`omnivec2 screen --threads`: how many torch threads a screen trains with, and the warning when
one side of two processes side by side would oversubscribe the cores."""

from __future__ import annotations

import pytest
import torch

from omnivec2.cli import screen_threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_threads_hold_torch_to_that_count_and_one_side_at_one_thread_is_not_warned(restore_threads):
    assert screen_threads(1, "reference") is None
    assert torch.get_num_threads() == 1


def test_one_side_at_several_threads_is_warned_to_use_one(restore_threads):
    warning = screen_threads(2, "variant")
    assert torch.get_num_threads() == 2
    assert "variant side at 2 torch threads" in warning and "--threads 1" in warning


def test_both_sides_in_one_process_keep_the_default_threads_without_a_warning(restore_threads):
    torch.set_num_threads(2)
    assert screen_threads(None, None) is None and torch.get_num_threads() == 2


def test_a_thread_count_below_one_is_refused(restore_threads):
    with pytest.raises(ValueError, match="--threads must be at least 1, got 0"):
        screen_threads(0, None)
