"""Infrared: physically based LWIR (8-14 um) camera frames of 92 real Open Inventor meshes.

Data card
---------
* Provenance: the meshes of Debian `inventor-data` 2.1.5 (LGPL-2+) via `ivfix`; no thermal images
  ship offline, so the frames are generated (`omnivec2.data.sources.inventor_thermal`): Planck
  radiance over 8-14 um at per-pixel temperature, emissivity 0.85-0.98 with reflected ambient,
  steady-state heat diffusion from an internal point source when the heater is on, floor and
  far wall at ambient, optics blur, fixed-pattern noise, NETD 50 mK, 14-bit counts; 64x64.
* Tasks: `heater` (off/on, balanced per mesh; shape and pose carry no information about it) and
  `object` (the mesh index: the same 92 identities as `point_cloud`).
* Splits (736 frames, 8 poses per mesh): per mesh 6 train / 1 val / 1 test -> 552 / 92 / 92.
* Tokens: frames standardised with the train split's mean/std, 8x8 ViT patches -> 64 tokens of 64;
  masking random 0.75, per-patch normalised targets.
* User data: `{kind: thermal_folder, path: ..., task: heater|object}`, ImageFolder trees of 16-bit
  PNG or `.npy` frames (`omnivec2.data.sources.thermal_files`).
* Retrieval: the gallery side of RGB-to-infrared retrieval (`rgb` modality; Rank-1, mAP in evaluation).
"""

from omnivec2.data.sources.inventor_catalog import EXPECTED_MESHES
from omnivec2.data.sources import register_source
from omnivec2.data.sources.inventor_thermal import load_inventor_thermal
from omnivec2.data.sources.thermal_files import load_thermal_folder
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.standardised_patches import StandardisedPatches

SIZE = 64
MAX_COUNT = (1 << 14) - 1  # 14-bit counts, as inventor_thermal.MAX_COUNT

register_source("inventor_thermal", load_inventor_thermal)
register_source("thermal_folder", load_thermal_folder)

INFRARED = ModalitySpec(
    name="infrared",
    payload=PayloadSpec(shape=(SIZE, SIZE), dtype="float32", value_range=(0.0, float(MAX_COUNT)), max_bytes=SIZE * SIZE * 4),
    tokenizer=StandardisedPatches(patch=8),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.75, strategy="random"),
    tasks=(
        TaskSpec("heater", "classification", num_classes=2),
        TaskSpec("object", "classification", num_classes=EXPECTED_MESHES),
    ),
    norm_targets=True,
    default_source={"kind": "inventor_thermal", "views": 8},
    description=(
        "64x64 14-bit LWIR frames (Planck 8-14 um, emissivity 0.85-0.98, internal heat source, blur, FPN, "
        "NETD 50 mK) of 92 real Open Inventor meshes (Debian inventor-data, LGPL-2+) on a floor; tasks: heater "
        "on/off, object identity (92, shared with point_cloud); split per mesh 6/1/1 -> 552/92/92; 8x8 patches"
    ),
)
