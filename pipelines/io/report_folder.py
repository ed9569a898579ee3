"""`ReportFolderDataset`: the report's folder (report.md, report.html and the figures they link).

The folder is shared with other outputs (metrics.json, curves/, validation/...), so a save replaces
the report's own files one by one, each atomically, pictures first and report.md / report.html last
(`Report.all_files`): a crash leaves every file whole, and never a report linking a missing picture.
A load reads report.md and report.html back with the pictures that report.md links.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io.core import AbstractDataset

from omnivec2.durable_files import replace_atomically
from omnivec2.reporting.pieces import Report, linked_files


class ReportFolderDataset(AbstractDataset[Report, Report]):
    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> Report:
        markdown = (self._path / "report.md").read_text()
        return Report(markdown, (self._path / "report.html").read_text(),
                      {name: (self._path / name).read_bytes() for name in linked_files(markdown)})

    def save(self, data: Report) -> None:
        for name, content in data.all_files().items():
            target = self._path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_atomically(target, content)

    def _exists(self) -> bool:
        return (self._path / "report.md").is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
