"""Depth: single-channel depth maps (NYUv2-style sensors, z-buffers), ViT patches.

Tokens: `patch` x `patch` squares -> N = (H/p)(W/p) tokens of p*p depths divided by `scale`;
random masking 0.75, per-patch normalised targets. Dense tasks (segmentation) give one label
per pixel, p*p per token.
"""

from omnivec2.modalities.grid import patch_image_parts
from omnivec2.modalities.spec import Modality

DEPTH = Modality(
    name="depth",
    settings={"size": 64, "patch": 8, "value_range": [0.0, 1.0], "scale": 1.0},
    help={"size": "side in pixels, or [height, width]", "patch": "patch side in pixels",
          "value_range": "inclusive [min, max] of a depth value", "scale": "depths are divided by it in the tokens"},
    build=patch_image_parts,
    description="depth maps; ViT patches",
)
