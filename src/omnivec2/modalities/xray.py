"""X-ray: radiographs (attenuation line integrals or detector intensities), one channel, ViT patches."""

from omnivec2.modalities.grid import pixel_grid
from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts
from omnivec2.tokens.patches import ImagePatches


def build(s: dict) -> ModalityParts:
    _, payload = pixel_grid(s)
    return ModalityParts(
        payload=payload,
        tokenizer=ImagePatches(patch=int(s["patch"]), scale=float(s["scale"])),
        embedding="patch_linear",
        mask=MaskSpec(ratio=0.75, strategy="random"),
        norm_targets=True,
        dense_outputs_per_token=int(s["patch"]) ** 2,
    )


XRAY = Modality(
    name="xray",
    settings={"size": 64, "patch": 8, "value_range": [-1.0, 12.0], "scale": 4.0},
    help={"size": "side in pixels, or [height, width]", "patch": "patch side in pixels",
          "value_range": "inclusive [min, max] of a pixel", "scale": "pixels are divided by it in the tokens"},
    build=build,
    description="radiographs; ViT patches",
)
