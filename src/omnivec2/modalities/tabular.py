"""Tabular: rows of `columns` cells, numeric or categorical, one token per column (FT-Transformer style),
masking 0.3.

Payload: float32 `[columns]`; numeric cells hold values (NaN where missing, if the dataset's source
allows it), categorical cells integer codes. Which columns are categorical is the dataset's source's
business (`categorical_columns` of the table readers): `with_layout` gives the parts for it.
Tokens `[columns, 2]`: (standardised value or code, missing flag), see `omnivec2.tokens.columns`.
"""

from dataclasses import replace

from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec
from omnivec2.tokens.columns import TableColumns


def build(s: dict) -> ModalityParts:
    c = int(s["columns"])
    if c < 1:
        raise ValueError(f"a table needs at least one feature column, got columns={c}")
    low, high = s["value_range"]
    return ModalityParts(
        payload=PayloadSpec(shape=(c,), dtype="float32", value_range=(low, high), max_bytes=c * 4),
        tokenizer=TableColumns(),
        embedding="per_column",
        mask=MaskSpec(ratio=0.3, strategy="random"),
    )


def with_layout(parts: ModalityParts, categorical: tuple[int, ...], missing: bool) -> ModalityParts:
    """The parts for a table whose columns at `categorical` hold category codes and whose numeric
    cells may be missing (NaN) when `missing`."""
    columns = parts.payload.shape[0]
    numeric = tuple(c for c in range(columns) if c not in set(categorical))
    return replace(parts, tokenizer=TableColumns(categorical=tuple(categorical), missing=missing),
                   payload=replace(parts.payload, nan_positions=numeric if missing else ()))


TABULAR = Modality(
    name="tabular",
    settings={"columns": 13, "value_range": [None, None]},
    help={"columns": "feature columns, numeric and categorical (one token each)",
          "value_range": "inclusive [min, max] of a numeric value or category code (null: open)"},
    build=build,
    description="rows of numeric and categorical cells; a token per column",
)
