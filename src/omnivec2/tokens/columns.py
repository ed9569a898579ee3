"""Deterministic tabular tokenizer: one token per column (FT-Transformer style), numeric or categorical.

A row is float32 `[C]`: numeric cells hold values (NaN where missing), categorical cells hold the
reader's integer codes (`MISSING_CODE`, `UNKNOWN_CODE`, then the train split's categories; see
`omnivec2.data.sources.table_encoding`). Token c is `[value, missing flag]`:

* numeric: the value standardised with the train split's mean and std of the column (missing -> 0),
  and 1.0 where the cell was missing;
* categorical: the code (a code the train split never had, or a cell that is not a code at all,
  -> `UNKNOWN_CODE`; NaN -> `MISSING_CODE`), and 1.0 for `MISSING_CODE`.

The fit statistics say which columns are categorical and their vocabulary sizes (`column_vocab`:
0 for a numeric column), so that the learnable half can size its lookup tables and `transform`
needs nothing but them. `missing` says whether numeric cells may be missing (the learnable half
then has a missing embedding per column). `categories` holds the category names behind the codes
(recorded by the reader, `omnivec2.data.sources.category_names`); the fit statistics carry them, so
that inference can read a category by name (`fitted_categories`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MISSING_CODE, UNKNOWN_CODE = 0, 1
RESERVED_CODES = 2  # codes of the train split's categories start here


@dataclass(frozen=True)
class TableColumns:
    """Rows `[C]` -> tokens `[C, 2]`; `categorical` lists the positions of the categorical columns,
    `missing` whether numeric cells may be missing, `categories` (empty, or one entry per position of
    `categorical`, in its order) each categorical column's (name, category names in code order from
    `RESERVED_CODES`)."""

    categorical: tuple[int, ...] = ()
    missing: bool = False
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def config(self) -> dict:
        named = {"categories": [[column, list(names)] for column, names in self.categories]} if self.categories else {}
        return {"kind": "table_columns", "categorical": list(self.categorical), "missing": self.missing, **named}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        """-> {"mean", "std", "column_vocab"}, each `[C]`; categorical columns get mean 0 and std 1. With
        `categories`, also "categories": [{"position", "column", "names"}] (one per categorical column)."""
        rows = np.stack([np.asarray(s, dtype=np.float64) for s in train_samples])  # [B, C]
        known = ~np.isnan(rows)
        count = known.sum(axis=0)
        filled = np.where(known, rows, 0.0)
        mean = np.divide(filled.sum(axis=0), count, out=np.zeros(rows.shape[1]), where=count > 0)
        spread = np.where(known, rows - mean, 0.0)
        std = np.sqrt(np.divide((spread ** 2).sum(axis=0), count, out=np.zeros(rows.shape[1]), where=count > 0))
        std = np.where(count > 0, np.maximum(std, 1e-6), 1.0)  # a constant column: floored; an empty one: 1
        vocab = np.zeros(rows.shape[1], dtype=np.int64)
        for c in self.categorical:
            codes = rows[known[:, c], c]
            vocab[c] = max(RESERVED_CODES, int(codes.max()) + 1 if codes.size else 0)
            mean[c], std[c] = 0.0, 1.0
        stats = {"mean": mean.tolist(), "std": std.tolist(), "column_vocab": vocab.tolist()}
        if self.categories:
            if len(self.categories) != len(self.categorical):
                raise ValueError(f"{len(self.categories)} category lists for {len(self.categorical)} categorical columns")
            for c, (_, names) in zip(self.categorical, self.categories):
                vocab[c] = max(vocab[c], RESERVED_CODES + len(names))  # every name has its code's embedding row
            stats["column_vocab"] = vocab.tolist()
            stats["categories"] = [{"position": c, "column": column, "names": list(names)}
                                   for c, (column, names) in zip(self.categorical, self.categories)]
        return stats

    def stream_fields(self, stats: dict) -> dict:
        """What the learnable half needs beyond the token shape: the vocabulary sizes when a column is
        categorical, and whether numeric cells may be missing (only what differs from an all-numeric,
        complete table)."""
        return {**({"column_vocab": stats["column_vocab"]} if any(stats["column_vocab"]) else {}),
                **({"missing_values": True} if self.missing else {})}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        """Rows (each `[C]`) -> tokens `[B, C, 2]` float32: (value or code, missing flag)."""
        rows = np.stack([np.asarray(s, dtype=np.float32) for s in samples])  # [B, C]
        vocab = np.asarray(stats["column_vocab"], dtype=np.int64)
        missing = np.isnan(rows)
        values = (rows - np.asarray(stats["mean"], dtype=np.float32)) / np.asarray(stats["std"], dtype=np.float32)
        values = np.where(missing, np.float32(0.0), values)
        categorical = vocab > 0
        if categorical.any():
            codes = rows[:, categorical]
            known = (codes >= 0) & (codes < vocab[categorical]) & (codes == np.round(codes))
            codes = np.where(np.isnan(codes), MISSING_CODE, np.where(known, codes, UNKNOWN_CODE))
            values[:, categorical] = codes
            missing[:, categorical] = codes == MISSING_CODE
        return np.stack([values, missing.astype(np.float32)], axis=-1).astype(np.float32)


def fitted_categories(stats: dict, categorical: Sequence[int]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The fit statistics' category names as `TableColumns.categories`, aligned with `categorical`;
    () for statistics fitted before they carried names. ValueError when they name other positions."""
    entries = {int(e["position"]): (str(e["column"]), tuple(e["names"])) for e in stats.get("categories") or ()}
    if not entries:
        return ()
    if sorted(entries) != sorted(categorical):
        raise ValueError(f"the tokenizer statistics name categories at positions {sorted(entries)}, "
                         f"the model's categorical columns are at {sorted(categorical)}")
    return tuple(entries[c] for c in categorical)
