"""The class names a source numbered string labels by, recorded per task while the source is read
(`read_source`), so that a task inferring its classes learns their names (`omnivec2.datasets.classes`)."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Sequence

_recorded: ContextVar[dict[str, tuple[str, ...]] | None] = ContextVar("class_names", default=None)


@contextmanager
def recording_class_names() -> Iterator[dict[str, tuple[str, ...]]]:
    """-> a dict that fills with {task: names in index order} while the block reads a source."""
    names: dict[str, tuple[str, ...]] = {}
    token = _recorded.set(names)
    try:
        yield names
    finally:
        _recorded.reset(token)


def record_class_names(task: str, names: Sequence) -> None:
    """Note that `task`'s labels were numbered by `names` (nothing happens outside a recording)."""
    recorded = _recorded.get()
    if recorded is not None:
        recorded[task] = tuple(str(name) for name in names)
