"""Depth: depth-sensor frames of 92 real Open Inventor meshes standing on a floor, from random poses.

Data card
---------
* Provenance: Debian `inventor-data` 2.1.5 (SGI Open Inventor sample models, LGPL-2+), flattened
  with `ivfix` (`inventor-clients`); 92 distinct meshes in 15 folder categories.
* Generator (`inventor_depth`): per mesh 10 poses (Haar-random rotation, camera elevation
  0.15-0.9 rad, pinhole camera 3 units from the centre, the mesh standing on a floor), a numpy
  z-buffer at 64x64 (~2 ms per frame), quadratic depth noise 0.002*d^2, 1% dropout holes, no
  return beyond 6 units; depth / 6 in [0, 1].
* Tasks: `category` (the mesh's folder, 15 classes) and `object_mask` (dense, 2 classes:
  floor/empty vs object; 64 pixel labels per 8x8 patch token).
* Splits (920 frames): per mesh 7 train / 1 val / 2 test poses -> 644 / 92 / 184 (`holdout:
  model` holds whole meshes out per category instead).
* Tokens: ViT patches 8x8 -> 64 tokens of 64; masking random 0.75, per-patch normalised targets.
* User data: `{kind: depth_folder, path: ...}`, NYUv2-style `depth/`, `labels/`, `index.csv`
  (`omnivec2.data.sources.depth_files`).
"""

from omnivec2.data.sources.inventor_catalog import CATEGORIES
from omnivec2.data.sources import register_source
from omnivec2.data.sources.inventor_depth import load_inventor_depth
from omnivec2.data.sources.depth_files import load_depth_folder
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.patches import ImagePatches

SIZE, PATCH = 64, 8

register_source("inventor_depth", load_inventor_depth)
register_source("depth_folder", load_depth_folder)

DEPTH = ModalitySpec(
    name="depth",
    payload=PayloadSpec(shape=(SIZE, SIZE), dtype="float32", value_range=(0.0, 1.0), max_bytes=SIZE * SIZE * 4),
    tokenizer=ImagePatches(patch=PATCH, scale=1.0),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.75, strategy="random"),
    tasks=(
        TaskSpec("category", "classification", num_classes=len(CATEGORIES)),
        TaskSpec("object_mask", "dense", num_classes=2, outputs_per_token=PATCH * PATCH),
    ),
    norm_targets=True,
    default_source={"kind": "inventor_depth", "views": 10, "holdout": "view"},
    description=(
        "64x64 depth frames (z-buffer, quadratic noise, dropout holes) of 92 real Open Inventor meshes "
        "(Debian inventor-data, LGPL-2+) on a floor, 10 random poses each; tasks: category (15 folders) and "
        "object_mask (dense, 2 classes); split per mesh 7/1/2 poses -> 644/92/184; 8x8 ViT patches -> 64 tokens of 64"
    ),
)
