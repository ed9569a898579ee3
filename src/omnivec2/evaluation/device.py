"""Where evaluation runs its networks (`evaluation.device`): the single-task specialists' training
and every forward pass over a split (test metrics, predictions, linear probes, retrieval features).

`auto` takes the first CUDA device when this process sees one, else the CPU. So under `--env gpu`
the specialists (the `base` preset, trained from scratch for as many steps as stage 3 gave their
task) train on the GPU as stage 3 did, instead of for hours on the CPU; on a CPU-only machine
nothing changes. The linear fits on frozen features (sklearn) run on the CPU either way.

The forward-pass helpers (`metrics.predict_task`, `linear_probe.frozen_features`, ...) follow the
model: they move each batch to the device its weights are on and hand results back on the CPU.
"""

from __future__ import annotations

import torch
from torch import nn

AUTO = "auto"


def evaluation_device(setting: str = AUTO) -> torch.device:
    """`evaluation.device`: "auto", "cpu", "cuda" or "cuda:<index>" -> the device. A CUDA device this
    process cannot see is refused with the reason, not left to fail at the first batch."""
    if setting == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(setting)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"evaluation.device must be 'auto', 'cpu' or 'cuda[:index]', got {setting!r}") from error
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"evaluation.device must be 'auto', 'cpu' or 'cuda[:index]', got {setting!r}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"evaluation.device is {setting!r} but this process sees no CUDA device "
                             "(torch.cuda.is_available() is False); use 'auto' or 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"evaluation.device is {setting!r} but this process sees "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    return device


def model_device(model: nn.Module) -> torch.device:
    """The device `model`'s weights are on (the forward-pass helpers send their batches there)."""
    return next(model.parameters()).device
