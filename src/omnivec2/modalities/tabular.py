"""Tabular: rows of `columns` numeric features, one token (value, missing flag) per column (FT-Transformer
style), masking 0.3."""

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


TABULAR = Modality(
    name="tabular",
    settings={"columns": 13, "value_range": [None, None]},
    help={"columns": "feature columns (one token each)", "value_range": "inclusive [min, max] of a value (null: open)"},
    build=build,
    description="numeric rows; a token per column",
)
