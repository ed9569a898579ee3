"""Depth: single-channel depth maps (NYUv2-style sensors, z-buffers), ViT patches.

Tokens: `patch` x `patch` squares -> N = (H/p)(W/p) tokens of p*p depths divided by `scale`;
random masking 0.75, per-patch normalised targets. Dense tasks (segmentation) give one label
per pixel, p*p per token.
"""

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


DEPTH = Modality(
    name="depth",
    settings={"size": 64, "patch": 8, "value_range": [0.0, 1.0], "scale": 1.0},
    help={"size": "side in pixels, or [height, width]", "patch": "patch side in pixels",
          "value_range": "inclusive [min, max] of a depth value", "scale": "depths are divided by it in the tokens"},
    build=build,
    description="depth maps; ViT patches",
)
