"""Names a source numbers something by (class labels, category cells), noted while it is read: a
reader calls `record(key, names)` deep inside its parsing, and the caller around the read gets them
from `recording()` without every reader returning them."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Sequence


class NameRecorder:
    """One kind of recorded names ({key: names in code order}), kept in a context variable so that
    concurrent reads (threads, asyncio) do not mix their names."""

    def __init__(self, kind: str):
        self._recorded: ContextVar[dict[str, tuple[str, ...]] | None] = ContextVar(kind, default=None)

    @contextmanager
    def recording(self) -> Iterator[dict[str, tuple[str, ...]]]:
        """-> a dict that fills with {key: names in code order} while the block reads a source."""
        names: dict[str, tuple[str, ...]] = {}
        token = self._recorded.set(names)
        try:
            yield names
        finally:
            self._recorded.reset(token)

    def record(self, key: str, names: Sequence) -> None:
        """Note that `key` was numbered by `names` (nothing happens outside a recording)."""
        recorded = self._recorded.get()
        if recorded is not None:
            recorded[key] = tuple(str(name) for name in names)
