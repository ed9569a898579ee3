"""X-ray: radiographs (attenuation line integrals or detector intensities), one channel, ViT patches."""

from omnivec2.modalities.grid import patch_image_parts
from omnivec2.modalities.spec import Modality

XRAY = Modality(
    name="xray",
    settings={"size": 64, "patch": 8, "value_range": [-1.0, 12.0], "scale": 4.0},
    help={"size": "side in pixels, or [height, width]", "patch": "patch side in pixels",
          "value_range": "inclusive [min, max] of a pixel", "scale": "pixels are divided by it in the tokens"},
    build=patch_image_parts,
    description="radiographs; ViT patches",
)
