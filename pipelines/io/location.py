"""`LocationDataset`: a place that library code writes itself (a checkpoint folder that Ray workers
fill, the ablation grid's progress file), loaded as a `Location`; `TokenCacheDataset`: the token
cache, whose `TokenCache` also reads a dataset's manifest.

Writing is not Kedro's job here (the token cache and checkpoints are written atomically by
`omnivec2.tokens` and `omnivec2.checkpoint`, from several processes), so `save` refuses; a node
that writes the place takes it as an input and returns a summary (a manifest, a stage summary).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import AbstractDataset, DatasetError


@dataclass(frozen=True)
class Location:
    """`declared`: the path as the catalog writes it (relative to the project: what summaries that
    DVC versions record); `path`: the same place, absolute (what code and Ray workers open)."""

    declared: str
    path: Path


@dataclass(frozen=True)
class TokenCache(Location):
    """The token cache's root: one folder per dataset, each with its manifest.json and shards."""

    def manifest(self, dataset: str) -> dict:
        return json.loads((self.path / dataset / "manifest.json").read_text())


def locate(declared: str, kind: type[Location] = Location) -> Location:
    """The `Location` of a path as the catalog or a stage summary records it: relative paths are
    relative to the project root, the working directory of `kedro run`."""
    path = Path(declared)
    return kind(declared, path if path.is_absolute() else (Path.cwd() / path).resolve())


class LocationDataset(AbstractDataset[Location, Location]):
    """Loads the `Location` of `path` (relative paths are relative to the project root, the working
    directory of `kedro run`); whether anything is there yet does not matter."""

    location_type: type[Location] = Location

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._declared = str(PurePosixPath(path))
        self.metadata = metadata

    def load(self) -> Location:
        return locate(self._declared, self.location_type)

    def save(self, data: Location) -> None:
        raise DatasetError(f"{self._declared} is written by the library code its node calls, not through the catalog")

    def _exists(self) -> bool:
        return self.load().path.exists()

    def _describe(self) -> dict[str, Any]:
        return {"path": self._declared}


class TokenCacheDataset(LocationDataset):
    location_type = TokenCache
