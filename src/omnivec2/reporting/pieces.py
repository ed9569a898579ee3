"""A report as data: `ReportPiece` (one section and the files it links, e.g. a dataset's data card
and its sample picture) and `Report` (report.md, report.html and every file they link). Drawing code
returns them; the Kedro catalog writes them (pipelines/io), so no drawing code knows a folder."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import matplotlib.pyplot as plt

FIGURES = "figures"
_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class ReportPiece:
    """`name`: what the piece is about (a dataset); `markdown`: its section; `files`: what the section
    links, by path relative to the report (`figures/cards/<name>.png`) -> the file's bytes."""

    name: str
    markdown: str
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    markdown: str
    html: str
    files: dict[str, bytes]  # every file the markdown links, by path relative to the report

    def all_files(self) -> dict[str, bytes]:
        """Linked files first, report.md and report.html last: a writer that stops half-way never
        leaves a report whose pictures are missing."""
        return {**self.files, "report.md": self.markdown.encode(), "report.html": self.html.encode()}


def figure_png(figure) -> bytes:
    """A matplotlib figure as the report's PNG (90 dpi, tight box); the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def figure_file(figure, name: str) -> tuple[str, bytes]:
    """-> (`figures/<name>.png`, its bytes)."""
    return f"{FIGURES}/{name}.png", figure_png(figure)


def linked_files(markdown: str) -> list[str]:
    """The pictures a markdown text links (`![title](path)`), in order."""
    return _LINK.findall(markdown)
