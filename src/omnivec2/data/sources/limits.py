"""Bounds on what a user's files may bring in, and the notes a reading leaves for the validation report.

Every reader of users' formats takes these settings in its source entry (each has a default far above
what the modalities keep, so only a damaged or hostile file reaches it):

* `max_file_bytes` (1 GiB): the size of any one file read;
* `max_dataset_bytes` (64 GiB): the size of all files one reading of a dataset's source reads;
* `max_frames` (100 000): frames decoded from one video (`video_folder`);
* `max_line_chars` (1 000 000): characters in one text (`text_table`) or one line of a `.ts` file;
* `max_nodes` (10 000): nodes (atoms) of one graph (`tu`, `sdf`);
* `max_points` (10 000 000): vertices of one point-cloud file (`point_folder`).

`reading(spec, source)` holds them (and the byte count so far) while `load_source` runs the reader,
so the shared helpers (`files.read_bytes`, the parsers) check them without every call passing them.
It also collects the dataset-level notes a reader leaves (labels it normalised): `load_source` puts
them in the table's `source_note` column, and validation lists them in its report.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Iterator

from omnivec2.data.sources.errors import SourceError

LIMITS = {
    "max_file_bytes": 1 << 30,
    "max_dataset_bytes": 64 << 30,
    "max_frames": 100_000,
    "max_line_chars": 1_000_000,
    "max_nodes": 10_000,
    "max_points": 10_000_000,
}
READER_OPTIONS = ("max_file_bytes", "max_dataset_bytes", "normalise_labels")  # every reader of users' formats


@dataclass
class Reading:
    dataset: str
    source: dict
    bytes_read: int = 0
    notes: list[str] = field(default_factory=list)


_current: ContextVar[Reading | None] = ContextVar("reading", default=None)


@contextmanager
def reading(dataset: str, source: dict) -> Iterator[Reading]:
    """The reading of `dataset`'s `source` in progress (nested readings share the outer one's budget)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    state = Reading(dataset, dict(source or {}))
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)


def limit(name: str) -> int:
    """The current source's setting `name`, else its default."""
    state = _current.get()
    value = state.source.get(name) if state is not None else None
    return int(LIMITS[name] if value is None else value)


def option(name: str, default=None):
    """Any option of the source being read (`default` outside a reading)."""
    state = _current.get()
    return default if state is None else state.source.get(name, default)


class SourceLimitError(SourceError):
    """An input over one of the limits above (readers that try optional files never take it for a missing one)."""


def count_bytes(dataset: str, where: str, size: int) -> None:
    """Charge `size` bytes read from `where` to the file and dataset limits; SourceLimitError past either."""
    if size > limit("max_file_bytes"):
        raise SourceLimitError(f"dataset {dataset!r}: {where} holds {size} bytes, over the source's max_file_bytes "
                          f"({limit('max_file_bytes')}); raise it if the file is genuine")
    state = _current.get()
    if state is None:
        return
    state.bytes_read += int(size)
    if state.bytes_read > limit("max_dataset_bytes"):
        raise SourceLimitError(f"dataset {dataset!r}: reading {where} brings the dataset to {state.bytes_read} bytes, "
                          f"over the source's max_dataset_bytes ({limit('max_dataset_bytes')})")


def check_count(dataset: str, where: str, what: str, count: int, name: str) -> None:
    """SourceError naming `where` when `count` `what` exceed the source's setting `name`."""
    if count > limit(name):
        raise SourceLimitError(f"dataset {dataset!r}: {where} has {count} {what}, over the source's {name} "
                          f"({limit(name)}); raise it if the data is genuine")


def note(text: str) -> None:
    """A dataset-level note for the validation report (nothing happens outside a reading)."""
    state = _current.get()
    if state is not None and text not in state.notes:
        state.notes.append(text)


def current_dataset() -> str | None:
    """The name of the dataset being read, None outside a reading."""
    state = _current.get()
    return None if state is None else state.dataset
