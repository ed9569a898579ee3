"""`ReportPieceDataset`: one `ReportPiece` (a section of the report and the files it links) as one
JSON file, written atomically, so that the report can be assembled again later without redrawing
its pieces (`kedro run --pipeline evaluation --nodes render_report` after the ablation grid)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from kedro.io.core import AbstractDataset

from omnivec2.durable_files import replace_atomically
from omnivec2.reporting.pieces import ReportPiece


class ReportPieceDataset(AbstractDataset[ReportPiece, ReportPiece]):
    """{"name", "markdown", "files": {path relative to the report: base64 of the file}} at `filepath`."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> ReportPiece:
        data = json.loads(self._filepath.read_text())
        return ReportPiece(data["name"], data["markdown"],
                           {name: base64.b64decode(text) for name, text in data["files"].items()})

    def save(self, data: ReportPiece) -> None:
        record = {"name": data.name, "markdown": data.markdown,
                  "files": {name: base64.b64encode(content).decode("ascii") for name, content in data.files.items()}}
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(self._filepath, json.dumps(record, indent=1).encode())

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
