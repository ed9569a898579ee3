"""Prints the reader fault tests' count table (`fault_table`) after a session that ran them."""

from __future__ import annotations

import os


def pytest_terminal_summary(terminalreporter):
    from tests.omnivec2.data.fault_table import TRIED, table_text

    if not TRIED:
        return
    text = table_text()
    terminalreporter.write_line("\nreader faults tried (tests/omnivec2/data/fault_table.py):\n" + text)
    if os.environ.get("OMNIVEC2_FAULT_TABLE"):
        with open(os.environ["OMNIVEC2_FAULT_TABLE"], "w") as handle:
            handle.write(text + "\n")
