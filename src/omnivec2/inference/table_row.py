"""A table row in a CSV file -> the tabular payload float32 `[columns]`, for `omnivec2 predict`.

The file holds one row of the dataset's payload columns, in payload order (the `table` reader's:
`feature_columns`, else the numeric columns then the categorical ones; see
`omnivec2.data.sources.table_encoding`), optionally under one header line. Cells are numbers,
category codes as the reader gave them (the checkpoint carries each column's vocabulary size, not
the category names), or empty (also `NaN`, `NA`, `null`, `?`) where a value is missing: a missing
numeric cell becomes NaN (the tokenizer's missing flag), a missing categorical cell `MISSING_CODE`,
as ingestion encodes them. A model trained on a table without missing numeric cells (its source's
`allow_missing: false`) has no missing embedding, so such a row is refused rather than imputed.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from omnivec2.tokens.columns import MISSING_CODE

MISSING_CELLS = frozenset({"", "nan", "na", "n/a", "null", "none", "?"})


def read_table_row(data: bytes, name: str, columns: int, categorical: tuple[int, ...], missing: bool) -> np.ndarray:
    """CSV bytes -> float32 `[columns]`; ValueError naming `name`, the column and the problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{name}: not UTF-8 text (undecodable byte at offset {error.start})") from None
    lines = [line for line in csv.reader(io.StringIO(text)) if line]  # blank lines dropped; ",," is a row
    if len(lines) not in (1, 2):
        raise ValueError(f"{name}: {len(lines)} lines; predict takes one row of {columns} cells, "
                         "optionally under a header line")
    header, row = (lines[0], lines[1]) if len(lines) == 2 else (None, lines[0])
    for what, cells in (("header", header), ("row", row)):
        if cells is not None and len(cells) != columns:
            raise ValueError(f"{name}: {len(cells)} cells in the {what}, the dataset has {columns} columns "
                             "(in payload order: numeric columns, then categorical ones, unless feature_columns)")
    values = np.empty(columns, np.float32)
    for column, cell in enumerate(row):
        where = f"column {column + 1}" + (f" ({header[column].strip()!r})" if header else "")
        if cell.strip().lower() in MISSING_CELLS:
            if column in categorical:
                values[column] = MISSING_CODE
            elif missing:
                values[column] = np.nan
            else:
                raise ValueError(f"{name}: {where} is empty, and the model was trained on a table without missing "
                                 "numeric cells (its source's allow_missing is false)")
            continue
        try:
            values[column] = float(cell)
        except ValueError:
            hint = " (a categorical column takes the category code the table reader gave)" if column in categorical else ""
            raise ValueError(f"{name}: {where}: {cell.strip()!r} is not a number{hint}") from None
    return values
