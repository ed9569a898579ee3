"""A table row in a CSV file -> the tabular payload float32 `[columns]`, for `omnivec2 predict`.

The file holds one row of the dataset's payload columns, in payload order (the `table` reader's:
`feature_columns`, else the numeric columns then the categorical ones; see
`omnivec2.data.sources.table_encoding`), optionally under one header line. Cells are numbers,
category names as they are in the user's table, or empty (also `NaN`, `NA`, `null`, `?`) where a
value is missing: a missing numeric cell becomes NaN (the tokenizer's missing flag), a missing
categorical cell `MISSING_CODE`, as ingestion encodes them.

Category names become the codes ingestion gave them, from the vocabulary the model's tokenizer
statistics carry (`TableColumns.categories`). A name the train split did not have becomes
`UNKNOWN_CODE`, as ingestion codes such a category in the validation and test splits (with a
warning naming the column, the value and the known names). A cell that is not a name but a number
equal to one (`1` for a vocabulary name `1.0`, as pandas writes an integer column with missing
cells) is that name. A model whose statistics predate the names (tokenized before they carried
them) takes the codes themselves, as before. A model trained on a table without missing numeric
cells (its source's `allow_missing: false`) has no missing embedding, so such a row is refused
rather than imputed.
"""

from __future__ import annotations

import csv
import io
import warnings
from typing import Mapping, Sequence

import numpy as np

from omnivec2.tokens.columns import MISSING_CODE, RESERVED_CODES, UNKNOWN_CODE

MISSING_CELLS = frozenset({"", "nan", "na", "n/a", "null", "none", "?"})

Categories = Mapping[int, tuple[str, Sequence[str]]]  # payload position -> (column, category names in code order)


class UnknownCategory(UserWarning):
    """A category name the model's train split did not have; it is read as the unknown category."""


def read_table_row(data: bytes, name: str, columns: int, categorical: tuple[int, ...], missing: bool,
                   categories: Categories | None = None) -> np.ndarray:
    """CSV bytes -> float32 `[columns]`; ValueError naming `name`, the column and the problem.
    `categories`: the names of the categorical columns at their positions ({} or None: cells are codes)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{name}: not UTF-8 text (undecodable byte at offset {error.start})") from None
    lines = [line for line in csv.reader(io.StringIO(text)) if line]  # blank lines dropped; ",," is a row
    if len(lines) not in (1, 2):
        raise ValueError(f"{name}: {len(lines)} lines; predict takes one row of {columns} cells, "
                         "optionally under a header line")
    header, row = (lines[0], lines[1]) if len(lines) == 2 else (None, lines[0])
    categories = categories or {}
    for what, cells in (("header", header), ("row", row)):
        if cells is not None and len(cells) != columns:
            raise ValueError(f"{name}: {len(cells)} cells in the {what}, the dataset has {columns} columns: "
                             f"{payload_layout(columns, categorical, categories)}")
    values = np.empty(columns, np.float32)
    for column, cell in enumerate(row):
        where = f"column {column + 1}" + (f" ({header[column].strip()!r})" if header else "")
        if column in categories:
            code = category_code(cell, categories[column][1])
            if code is not None:
                values[column] = code
                continue
        if cell.strip().lower() in MISSING_CELLS:
            if column in categorical:
                values[column] = MISSING_CODE
            elif missing:
                values[column] = np.nan
            else:
                raise ValueError(f"{name}: {where} is empty, and the model was trained on a table without missing "
                                 "numeric cells (its source's allow_missing is false)")
            continue
        if column in categories:
            known = list(categories[column][1])
            warnings.warn(f"{name}: {where}: category {cell.strip()!r} of {categories[column][0]!r} is not among the "
                          f"{len(known)} the model was trained with {known[:20]}; it is read as the unknown category, "
                          "as ingestion reads a category its train split lacks", UnknownCategory, stacklevel=2)
            values[column] = UNKNOWN_CODE
            continue
        try:
            values[column] = float(cell)
        except ValueError:
            hint = (" (this model's tokenizer statistics carry no category names, being made before they did: give "
                    "the category code the table reader gave, or tokenize and train again)") if column in categorical else ""
            raise ValueError(f"{name}: {where}: {cell.strip()!r} is not a number{hint}") from None
    return values


def payload_layout(columns: int, categorical: tuple[int, ...], categories: Categories) -> str:
    """What a row must hold, in words: the payload's columns in order, the categorical ones by name
    where the model knows them (the numeric ones' names are not stored with a model)."""
    cells = [repr(categories[c][0]) if c in categories else "a category" if c in categorical else "a number"
             for c in range(columns)]
    return (f"[{', '.join(cells)}], in that order (the table reader's payload order: the numeric columns in file "
            "order without the id, split and target columns, then the categorical ones, unless feature_columns "
            "set it); leave out the other columns of your table")


def category_code(cell: str, names: Sequence[str]) -> int | None:
    """The code of category `cell` in the vocabulary `names` (RESERVED_CODES + its index), matched as
    written, then without surrounding spaces, then as a number equal to a numeric name; None if none."""
    index = {str(known): RESERVED_CODES + i for i, known in enumerate(names)}
    for candidate in (cell, cell.strip()):
        if candidate in index:
            return index[candidate]
    number = _number(cell)
    if number is None:
        return None
    matches = [code for known, code in index.items() if _number(known) == number]
    return matches[0] if len(matches) == 1 else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None
