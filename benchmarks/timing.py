"""Shared timing helper: interleaved repetitions, medians and ratios.

The machines are shared and noisy, so a subject is never timed on its own: every round runs each
callable once (the order rotated from round to round), and figures are medians over rounds.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable


def interleaved(subjects: dict[str, Callable[[], object]], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each callable: `warmup` untimed calls each, then `rounds` rounds in which
    every callable runs once, the order rotated by one each round (so none always runs first)."""
    names = list(subjects)
    for _ in range(warmup):
        for name in names:
            subjects[name]()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            started = time.perf_counter()
            subjects[name]()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return float(numerator) / float(denominator)


def large_matmul(size: int = 2048, device: str = "cpu", dtype=None) -> tuple[Callable[[], object], float]:
    """(a callable doing one `size`x`size` matmul, its FLOPs = 2 size^3): the machine's peak.

    Interleave it with the subject (`interleaved`) and divide FLOPs by its median time: that is the
    peak FLOP/s measured in the same run, at the same thread count (and dtype) as the subject.
    """
    import torch

    dtype = dtype or torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)

    def once() -> None:
        torch.mm(a, b, out=out)
        if device != "cpu":
            torch.cuda.synchronize()

    return once, 2.0 * size**3
