"""The category names a table source numbered its categorical columns by, recorded per column while
the source is read (`read_source_vocabularies`), and given to the dataset's tokenizer
(`with_categories`) so that they travel with the token cache's fit statistics and the registered
model: `omnivec2 predict` then takes a row's category cells by name (`omnivec2.inference.table_row`).

A vocabulary is the list of a column's train-split categories in code order: name i has code
`RESERVED_CODES + i` (`omnivec2.data.sources.table_encoding.category_codes`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

from omnivec2.data.sources.name_recorder import NameRecorder

Vocabularies = Mapping[str, Sequence[str]]  # categorical column -> its category names in code order

_CATEGORIES = NameRecorder("category_names")
recording_categories = _CATEGORIES.recording  # -> {column: names in code order} while the block reads
record_categories = _CATEGORIES.record  # (column, names): `column`'s cells were coded by `names`


def with_categories(spec, vocabularies: Vocabularies):
    """`spec` (a DatasetSpec) whose table tokenizer carries the category names of its source's
    `categorical_columns` (in their declared order, the order of `tokenizer.categorical`); `spec`
    itself when it has no categorical column. ValueError naming the dataset when the vocabularies
    do not cover exactly those columns (an ingestion of another configuration)."""
    columns = list(spec.source.get("categorical_columns") or [])
    if not columns and not vocabularies:
        return spec
    if sorted(vocabularies) != sorted(columns) or not hasattr(spec.tokenizer, "categories"):
        raise ValueError(f"dataset {spec.name!r}: the ingestion recorded category names for columns "
                         f"{sorted(vocabularies)}, but its source declares categorical_columns {columns}; "
                         "run the ingestion pipeline for this configuration")
    categories = tuple((column, tuple(str(name) for name in vocabularies[column])) for column in columns)
    return replace(spec, tokenizer=replace(spec.tokenizer, categories=categories))
