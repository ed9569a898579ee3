"""X-ray: digitally reconstructed chest radiographs of random 3-D phantoms, nodule present/absent.

Data card
---------
* Provenance: no labelled radiographs ship offline (pydicom's CR files are 16x16 stubs), so
  images are generated (`omnivec2.data.sources.xray_drr`): Beer-Lambert `I = I0 exp(-∫µ dl)`
  with analytic ray sums through an ellipsoid phantom (body, lungs, heart, spine, 8 rib pairs,
  optional nodule), Poisson photon noise at I0 = 3000-8000, stored as `-ln(counts / I0)`.
  Code-generated, no third-party data, no licence restriction.
* Samples: 800 images 64x64, nodule present in exactly half; splits stratified by label:
  560 train / 80 val / 160 test (800 takes ~1-2 s to generate on this CPU).
* Task `nodule` (2 classes: 0 absent, 1 present). The nodule (2.2-3.8 px radius, 0.8-1.2 of soft
  tissue) peaks at 1.5-2x a rib's contrast and lies anywhere in either lung: logistic regression
  on the cached tokens scores chance (0.44-0.49), a 5-layer CNN on 640 images 0.85-0.87
  (datasets.md, its variant: 0.52-0.56 and 1.00).
* Tokens: ViT patches 8x8 -> 64 tokens of 64 (`ImagePatches`, values / 4).
* Masking: random 0.75 (MAE), per-patch normalised targets.
* User data: `{kind: png_folder, path: <dir or s3://...>}` ImageFolder of greyscale PNGs
  (`<class>/*.png`, or `train|val|test/<class>/*.png`), resized to 64x64, codes mapped to [0, 6];
  class folders (e.g. NORMAL / NODULE) in `classes` order, at most 2 classes for this task.
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.xray_drr import load_xray_drr
from omnivec2.data.sources.png_folder import load_png_folder
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.patches import ImagePatches

SIZE = 64

register_source("xray_drr", load_xray_drr)
register_source("png_folder", load_png_folder)

XRAY = ModalitySpec(
    name="xray",
    payload=PayloadSpec(shape=(SIZE, SIZE), dtype="float32", value_range=(-1.0, 12.0), max_bytes=SIZE * SIZE * 4),
    tokenizer=ImagePatches(patch=8, scale=4.0),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.75, strategy="random"),
    tasks=(TaskSpec("nodule", "classification", num_classes=2),),
    norm_targets=True,
    default_source={"kind": "xray_drr", "count": 800},
    description=(
        "Digitally reconstructed chest radiographs 64x64: Beer-Lambert analytic ray sums through random ellipsoid "
        "phantoms (body, lungs, heart, spine, ribs, optional lung nodule), Poisson noise, -ln(I/I0); 800 images "
        "(560/80/160, stratified); task: nodule present/absent; tokens: 8x8 patches -> 64 tokens of 64"
    ),
)
