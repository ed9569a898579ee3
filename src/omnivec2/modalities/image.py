"""Image: scikit-learn's 8x8 handwritten digits (real scans, 10 classes), ViT patches."""

from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.patches import ImagePatches

IMAGE = ModalitySpec(
    name="image",
    payload=PayloadSpec(shape=(8, 8), dtype="float32", value_range=(0.0, 16.0), max_bytes=8 * 8 * 4),
    tokenizer=ImagePatches(patch=2, scale=16.0),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.75, strategy="random"),
    tasks=(TaskSpec("digit", "classification", num_classes=10),),
    norm_targets=True,
    default_source={"kind": "sklearn_digits"},
    description="8x8 grey-level digit scans (UCI optdigits via scikit-learn), 2x2 patches -> 16 tokens of 4",
)
