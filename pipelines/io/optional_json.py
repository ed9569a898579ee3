"""JSON files that may be absent when a node reads them.

`OptionalJSONDataset`: an ordinary JSON dataset whose load gives None while the file does not exist
(the ablation table, written by `kedro run --pipeline ablations`, which the report shows when it
was run; Kedro itself would raise on loading a missing file).

`EarlierJSONDataset`: a JSON file as an earlier run left it, for a node that must see its own
previous output (the class lists that ingestion infers once and then keeps). Kedro refuses a node
whose input is its own output, so the catalog names the file twice: as a `json.JSONDataset` the
node writes and as this, which the node reads; it is {} before the first run and cannot be written.
"""

from __future__ import annotations

from typing import Any

from kedro.io.core import DatasetError
from kedro_datasets.json import JSONDataset


class OptionalJSONDataset(JSONDataset):
    """JSON that loads as None while the file does not exist; saved like any JSON dataset."""

    def load(self) -> Any:
        return super().load() if self._exists() else None


class EarlierJSONDataset(JSONDataset):
    """Read-only JSON that loads as {} while the file does not exist."""

    def load(self) -> Any:
        return super().load() if self._exists() else {}

    def save(self, data: Any) -> None:
        raise DatasetError(f"{self._filepath} is read back from an earlier run; its node writes it under another "
                           "catalog name")
