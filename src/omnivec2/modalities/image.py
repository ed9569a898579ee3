"""Image: pictures of any size and channel count (photos, scans, renders), ViT patches.

Tokens: non-overlapping `patch` x `patch` squares over all channels -> N = (H/p)(W/p) tokens of
C*p*p values, divided by `scale`; MAE masking (random 0.75) with per-patch normalised targets.
"""

from omnivec2.modalities.grid import patch_image_parts
from omnivec2.modalities.spec import Modality

IMAGE = Modality(
    name="image",
    settings={"size": 64, "channels": 3, "patch": 8, "value_range": [0.0, 1.0], "scale": 1.0},
    help={"size": "side in pixels, or [height, width]", "channels": "1 (grey: payload [H, W]) or C (payload [C, H, W])",
          "patch": "patch side in pixels", "value_range": "inclusive [min, max] of a pixel",
          "scale": "pixels are divided by it in the tokens"},
    build=patch_image_parts,
    description="2-D pictures; ViT patches",
)
