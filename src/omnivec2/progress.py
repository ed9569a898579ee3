"""Progress people can watch while the main job runs.

- `StageProgress`: the line rank 0 prints every `log_every` steps of a training stage,
  ``[omnivec2] train_multitask: step 40/200 loss 1.2345 | 3.21 steps/s | ETA 0:50``.
- `progress_bar`: a bar over a known number of items (the single-task baselines, the ablation grid's
  runs): tqdm when the stream is a terminal, else one plain line per finished item, so that a log file
  or CI output gets readable lines instead of carriage-return redraws.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

PREFIX = "[omnivec2]"


def format_duration(seconds: float) -> str:
    """Seconds -> "m:ss" or "h:mm:ss" ("?" when unknown)."""
    if seconds != seconds or seconds in (float("inf"), float("-inf")) or seconds < 0:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class StageProgress:
    """Rate and ETA of a stage from the steps made since it started (or resumed) in this process."""

    def __init__(self, stage: str, steps: int, first_step: int = 0, clock: Callable[[], float] = time.perf_counter):
        self.stage, self.steps, self.first_step, self.clock = stage, steps, first_step, clock
        self.started = clock()

    def line(self, step: int, loss: float | None) -> str:
        elapsed = self.clock() - self.started
        done = step - self.first_step
        rate = done / elapsed if elapsed > 0 and done > 0 else float("nan")
        eta = (self.steps - step) / rate if rate == rate and rate > 0 else float("nan")
        loss_text = f"{loss:.4f}" if loss is not None else "n/a"
        rate_text = f"{rate:.2f}" if rate == rate else "?"
        return (f"{PREFIX} {self.stage}: step {step}/{self.steps} loss {loss_text} | {rate_text} steps/s "
                f"| ETA {format_duration(eta)}")


class PlainProgress:
    """tqdm's `update` / `set_postfix_str` / `close` as one printed line per finished item."""

    def __init__(self, total: int, desc: str, stream: TextIO, clock: Callable[[], float] = time.perf_counter):
        self.total, self.desc, self.stream, self.clock = total, desc, stream, clock
        self.n, self.postfix, self.started = 0, "", clock()

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def update(self, count: int = 1) -> None:
        self.n += count
        elapsed = self.clock() - self.started
        eta = elapsed / self.n * (self.total - self.n) if self.n else float("nan")
        label = f" ({self.postfix})" if self.postfix else ""
        print(f"{PREFIX} {self.desc}: {self.n}/{self.total}{label} | elapsed {format_duration(elapsed)} "
              f"| ETA {format_duration(eta)}", file=self.stream, flush=True)

    def close(self) -> None:
        """Nothing to tidy: every line is complete when printed."""


class Progress:
    """A bar over `total` items: `advance(label)` after each one; a context manager."""

    def __init__(self, total: int, desc: str, stream: TextIO | None = None):
        stream = stream if stream is not None else sys.stderr
        if _is_terminal(stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, file=stream, unit="run", dynamic_ncols=True)
        else:
            self.bar = PlainProgress(total, desc, stream)

    def advance(self, label: str = "") -> None:
        """One item done; `label` names it (the task, the variant and seed)."""
        self.bar.set_postfix_str(label)
        self.bar.update(1)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()


def progress_bar(total: int, desc: str, stream: TextIO | None = None) -> Progress:
    """tqdm on a terminal, plain lines otherwise (see the module docstring)."""
    return Progress(total, desc, stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or file-less stream
        return False
