"""`LocationDataset`: a place that library code writes itself (a checkpoint folder that Ray workers
fill, the ablation grid's progress file), loaded as a `Location`; `TokenCacheDataset`: the token
cache, whose `TokenCache` also reads a dataset's manifest.

Writing is not Kedro's job here (the token cache and checkpoints are written atomically by
`omnivec2.tokens` and `omnivec2.checkpoint`, from several processes), so `save` refuses; a node
that writes the place takes it as an input and returns a summary (a manifest, a stage summary).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.io.core import AbstractDataset, DatasetError


@dataclass(frozen=True)
class Location:
    path: Path  # absolute: what code and Ray workers open

    @property
    def recorded(self) -> str:
        """The path as summaries record it (a stage's checkpoint, a manifest's cache): relative to the
        working directory, the project root under `kedro run`, when inside it, so that the files DVC
        versions do not depend on where the project is checked out; `locate` reads it back."""
        relative = os.path.relpath(self.path, Path.cwd())
        return self.path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


@dataclass(frozen=True)
class TokenCache(Location):
    """The token cache's root: one folder per dataset, each with its manifest.json and shards."""

    def manifest(self, dataset: str) -> dict:
        return json.loads((self.path / dataset / "manifest.json").read_text())


def locate(path: str | Path, kind: type[Location] = Location) -> Location:
    """The `Location` of a path as the catalog or a summary (`Location.recorded`) gives it: relative
    paths are relative to the working directory, the project root under `kedro run`. (Kedro makes the
    catalog's `path` entries absolute itself, against the project root.)"""
    return kind((Path.cwd() / path).resolve())


class LocationDataset(AbstractDataset[Location, Location]):
    """Loads the `Location` of `path`; whether anything is there yet does not matter."""

    location_type: type[Location] = Location

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = path
        self.metadata = metadata

    def load(self) -> Location:
        return locate(self._path, self.location_type)

    def save(self, data: Location) -> None:
        raise DatasetError(f"{self._path} is written by the library code its node calls, not through the catalog")

    def _exists(self) -> bool:
        return self.load().path.exists()

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path}


class TokenCacheDataset(LocationDataset):
    location_type = TokenCache
