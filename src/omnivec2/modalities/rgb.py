"""RGB: visible-light camera frames of the 92 real Open Inventor meshes, paired with the infrared frames.

Data card
---------
* Provenance: the meshes of Debian `inventor-data` 2.1.5 (LGPL-2+) via `ivfix`, rendered by the
  numpy z-buffer of `depth_render` (`omnivec2.data.sources.inventor_rgb`): one matte paint per
  mesh (HSV hue U(0, 1), saturation U(0.35, 0.8), value U(0.45, 0.9)), Lambertian shading with a
  light drawn per view (elevation 30-75 deg) and 0.25 ambient, grey floor 0.55, far wall 0.3,
  sensor noise sigma 0.01; 3x64x64 in [0, 1].
* Why it is here: it is the query side of the RGB-to-infrared retrieval task (Rank-1, mAP), the
  paper's cross-modal retrieval setting (RegDB-like paired cameras). Each frame is the same scene
  (mesh, pose, split) as the infrared frame with the same mesh and view number.
* Task: `object` (the mesh index, 92; the same identities as `infrared` and `point_cloud`).
  Retrieval (evaluation): RGB test frames query the infrared test frames; relevant = same mesh.
* Splits (736 frames, 8 poses per mesh): per mesh 6 train / 1 val / 1 test -> 552 / 92 / 92.
* Tokens: ViT patches 8x8 over 3 channels -> 64 tokens of 192; masking random 0.75, per-patch
  normalised targets.
* User data: `{kind: png_folder, path: <dir or s3://...>}`, an ImageFolder tree of RGB PNGs
  (`<class>/*.png` or `train|val|test/<class>/*.png`), resized to 64x64, values / 255.
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.inventor_rgb import load_inventor_rgb
from omnivec2.data.sources.inventor_catalog import EXPECTED_MESHES
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.patches import ImagePatches

SIZE = 64

register_source("inventor_rgb", load_inventor_rgb)

RGB = ModalitySpec(
    name="rgb",
    payload=PayloadSpec(shape=(3, SIZE, SIZE), dtype="float32", value_range=(0.0, 1.0), max_bytes=3 * SIZE * SIZE * 4),
    tokenizer=ImagePatches(patch=8),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.75, strategy="random"),
    tasks=(TaskSpec("object", "classification", num_classes=EXPECTED_MESHES),),
    norm_targets=True,
    default_source={"kind": "inventor_rgb", "views": 8},
    description=(
        "3x64x64 visible-light renders (one matte paint per mesh, Lambertian, light per view, noise 0.01) of the "
        "92 real Open Inventor meshes (Debian inventor-data, LGPL-2+), the same scenes as the infrared frames; "
        "task: object identity (92); retrieval query side for RGB-to-infrared (Rank-1, mAP); 552/92/92; 8x8x3 patches"
    ),
)
