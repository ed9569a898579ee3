"""A file that cannot be decoded is a row that validation names, not a stop of the whole reading.

Readers that decode one file per sample (`image_folder`, `audio_folder`, `video_class_folder`,
`point_folder`, `thermal_folder`, `esc50`, `depth_folder`, `video_folder`) read each file and hand its bytes to `decode_each`. A file whose bytes
do not decode (empty, truncated, not the format its suffix says, a decompression bomb, a face that
names a missing vertex...) becomes a problem `"<file>: <what is wrong>"` for `listing.skipped_rows`:
validation's `source_file_was_read` then fails the run by name in `fail` mode, or quarantines the row
and lists the file and its problem under `source_problems` in `quarantine` mode. Nothing of the file
reaches the sample table's payloads, so nothing of it reaches the token cache.

What still stops the reading at once: a file that cannot be read at all (missing, unreadable, outside
the dataset folder: those are errors of the listing, not of one sample), a file over one of the
source's documented limits (`limits.SourceLimitError`: the user must raise the limit or remove the
file), and a dataset none of whose files decodes (SourceError naming the count and the first problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Generic, Sequence, TypeVar

from omnivec2.data.sources.common import SourceError
from omnivec2.data.sources.limits import SourceLimitError
from omnivec2.datasets.spec import DatasetSpec

Item = TypeVar("Item")
Value = TypeVar("Value")


@dataclass
class Decoded(Generic[Value]):
    values: list[Value] = field(default_factory=list)  # one per kept item, in order
    kept: list[int] = field(default_factory=list)  # positions of the items that decoded
    problems: dict[int, str] = field(default_factory=dict)  # position -> "<file>: <what is wrong>"


def problem_text(spec: DatasetSpec, error: Exception) -> str:
    """An error's message without its leading `dataset '<name>': ` (the report is the dataset's already)."""
    text, prefix = str(error), f"dataset {spec.name!r}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def decode_each(spec: DatasetSpec, items: Sequence[Item], read: Callable[[Item], object],
                decode: Callable[[Item, object], Value], what: str) -> Decoded[Value]:
    """`decode(item, read(item))` for every item. A ValueError of `decode` (SourceError included, a
    `SourceLimitError` excepted) makes the item a problem; errors of `read` propagate. SourceError when
    there are items and none decodes, naming how many `what` (e.g. "image files") and the first problem."""
    out: Decoded[Value] = Decoded()
    for position, item in enumerate(items):
        data = read(item)  # missing, unreadable or outside the folder: the reading stops here
        try:
            value = decode(item, data)
        except SourceLimitError:
            raise
        except ValueError as error:
            out.problems[position] = problem_text(spec, error)
            continue
        out.values.append(value)
        out.kept.append(position)
    if items and not out.kept:
        first = out.problems[min(out.problems)]
        raise SourceError(f"dataset {spec.name!r}: none of the {len(items)} {what} could be decoded "
                          f"(first: {first})")
    return out
