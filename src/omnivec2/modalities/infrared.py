"""Infrared: thermal camera frames (raw counts of any bit depth), standardised with train statistics, ViT patches."""

from omnivec2.modalities.grid import pixel_grid
from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts
from omnivec2.tokens.standardised_patches import StandardisedPatches


def build(s: dict) -> ModalityParts:
    _, payload = pixel_grid(s)
    return ModalityParts(
        payload=payload,
        tokenizer=StandardisedPatches(patch=int(s["patch"])),
        embedding="patch_linear",
        mask=MaskSpec(ratio=0.75, strategy="random"),
        norm_targets=True,
        dense_outputs_per_token=int(s["patch"]) ** 2,
    )


INFRARED = Modality(
    name="infrared",
    settings={"size": 64, "patch": 8, "value_range": [0.0, 16383.0]},
    help={"size": "side in pixels, or [height, width]", "patch": "patch side in pixels",
          "value_range": "inclusive [min, max] of a count (14-bit: [0, 16383])"},
    build=build,
    description="thermal frames; standardised ViT patches",
)
