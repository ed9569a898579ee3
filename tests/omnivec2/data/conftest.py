"""Prints the reader fault tests' count table (`fault_table`) after a session that ran them, gathered from
every pytest-xdist worker under `-n` (and writes it to `$OMNIVEC2_FAULT_TABLE` when that is set)."""

from __future__ import annotations

import json
import os

import pytest


def pytest_sessionfinish(session):
    from tests.omnivec2.data.fault_table import TRIED

    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand the counts to the controller
        session.config.workeroutput["fault_table"] = json.dumps([[*key, value] for key, value in TRIED.items()])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from tests.omnivec2.data.fault_table import TRIED

    for bad, kind, counts in json.loads(getattr(node, "workeroutput", {}).get("fault_table", "[]")):
        entry = TRIED.setdefault((bad, kind), dict.fromkeys(counts, 0))
        for key, value in counts.items():
            entry[key] += value


def pytest_terminal_summary(terminalreporter):
    from tests.omnivec2.data.fault_table import TRIED, table_text

    if not TRIED or hasattr(terminalreporter.config, "workeroutput"):
        return
    text = table_text()
    terminalreporter.write_line("\nreader faults tried (tests/omnivec2/data/fault_table.py):\n" + text)
    if os.environ.get("OMNIVEC2_FAULT_TABLE"):
        with open(os.environ["OMNIVEC2_FAULT_TABLE"], "w") as handle:
            handle.write(text + "\n")
