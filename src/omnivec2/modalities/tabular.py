"""Tabular: scikit-learn's wine recognition table (13 chemical measurements, 3 cultivars)."""

from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.columns import NumericColumns

TABULAR = ModalitySpec(
    name="tabular",
    payload=PayloadSpec(shape=(13,), dtype="float32", value_range=(0.0, None), max_bytes=13 * 4),
    tokenizer=NumericColumns(),
    embedding="per_column",
    mask=MaskSpec(ratio=0.3, strategy="random"),
    tasks=(TaskSpec("cultivar", "classification", num_classes=3),),
    norm_targets=False,
    default_source={"kind": "sklearn_wine"},
    description="UCI wine: 13 standardised numeric columns -> 13 tokens of 1",
)
