"""The errors of the source readers (`omnivec2.data.sources.common` re-exports `SourceError`)."""

from __future__ import annotations


class SourceError(ValueError):
    """A source cannot be read or does not make sense; the message names the modality and the path."""


class OutsideDatasetError(SourceError):
    """A path that leaves the dataset folder (a symbolic link out, a `..`, a key below another prefix):
    refused at listing and again at reading, never taken for a missing file."""
