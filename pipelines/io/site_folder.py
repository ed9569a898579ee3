"""`SiteFolderDataset`: a folder of static pages (the Great Expectations Data Docs) saved whole.

A save takes the site as files ({path relative to the folder: bytes}), writes them into a fresh
sibling folder and swaps it in, so the folder never mixes two builds (a dataset that left the run
leaves no stale page) and a crash leaves the previous site. A load gives the folder's `Location`
(what the report links), or None while no site is there (a run from before the Data Docs existed:
the report then leaves the link out).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from kedro.io.core import AbstractDataset, DatasetError

from pipelines.io.location import Location, locate


class SiteFolderDataset(AbstractDataset[dict, Location | None]):
    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = path
        self.metadata = metadata

    def load(self) -> Location | None:
        location = locate(self._path)
        return location if (location.path / "index.html").is_file() else None

    def save(self, data: dict[str, bytes]) -> None:
        if "index.html" not in data:
            raise DatasetError(f"a site for {self._path} needs an index.html; got {sorted(data)[:5]}")
        target = locate(self._path).path
        fresh, old = target.with_name(target.name + ".new"), target.with_name(target.name + ".old")
        for leftover in (fresh, old):
            shutil.rmtree(leftover, ignore_errors=True)
        for name, content in data.items():
            path = fresh / name
            if fresh.resolve() not in path.resolve().parents:
                raise DatasetError(f"site file {name!r} would land outside {self._path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        if target.exists():
            target.rename(old)
        fresh.rename(target)
        shutil.rmtree(old, ignore_errors=True)

    def _exists(self) -> bool:
        return (locate(self._path).path / "index.html").is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path}
