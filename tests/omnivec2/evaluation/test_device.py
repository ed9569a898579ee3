"""`evaluation.device`: which device evaluation runs its networks on, and refusals that say why."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from omnivec2.evaluation.device import evaluation_device, model_device


def test_auto_is_the_gpu_when_this_process_sees_one_else_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert evaluation_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert evaluation_device("auto") == torch.device("cuda")


def test_an_explicit_device_is_kept_and_one_that_is_not_there_is_refused(monkeypatch):
    assert evaluation_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="evaluation.device is 'cuda' but this process sees no CUDA device"):
        evaluation_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert evaluation_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ValueError, match="'cuda:1' but this process sees 1 CUDA device"):
        evaluation_device("cuda:1")


@pytest.mark.parametrize("setting", ["gpu", "mps", "meta"])
def test_anything_else_is_refused_with_the_choices(setting):
    with pytest.raises(ValueError, match="must be 'auto', 'cpu' or 'cuda"):
        evaluation_device(setting)


def test_the_model_device_is_where_its_weights_are():
    assert model_device(nn.Linear(2, 2)) == torch.device("cpu")
