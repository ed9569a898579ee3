"""Hyperspectral: linear-mixing cubes of real measured reflectances, per-pixel material segmentation.

Data card
---------
* Provenance: reflectances of the 24 ColorChecker patches (N. Ohta's measurements) and six CIE
  illuminants (D50, D65, D75, A, FL2, FL11), both shipped in `colour-science` 0.4.7 (BSD-3-Clause);
  nothing hyperspectral and labelled ships offline, so scenes are generated
  (`omnivec2.data.sources.hsi_mixing`: the linear mixing model, soft warped-Voronoi abundances,
  shading, gain, read and shot noise).
* Samples: 240 cubes 32x32 pixels x 31 bands (400-700 nm, 10 nm), splits stratified by
  illuminant: 168 train / 24 val / 48 test. 240 keeps ingestion + tokenization near a second
  while still giving 172k labelled training pixels; each cube is 127 kB.
* Task `material`: dense, 24 classes = the 24 chart patches (each a distinct measured material
  with a name: dark skin, foliage, ..., the six neutrals). 24 because that is every material the
  chart measured; the 190 rawtoaces patches are unnamed and many nearly coincide, which would
  make classes that no spectrum separates. The neutrals differ only in albedo, so cube gain is
  kept within +-10% to leave them separable. Per-pixel logistic regression on the 31-band
  spectrum reaches about 0.86 pixel accuracy (the unknown illuminant is what it misses);
  datasets.md measured 0.63 on its own variant of the generator.
* Tokens: 4x4-pixel patches with all 31 bands per token -> 64 tokens of 496, bands standardised
  with train statistics. One band group (G = 1) is the default because a pixel's material is
  decided by its whole spectrum: with G band-group tokens per patch the model must recombine
  the spectrum through attention, N grows G-fold (attention cost G^2) and every dense label is
  repeated G times. `SpectralPatches(band_group=g)` gives SpectralFormer-style group tokens.
* Masking: random 0.75 (MAE), per-token normalised reconstruction targets.
* User data: `{kind: hsi_scene, path: scene.mat | cube.npy, gt_path: ..., cube_key, gt_key,
  wavelengths, tile: 32}` (Indian Pines / Pavia: one scene cube cut into 32x32 tiles, bands
  resampled to 31; labels kept as they are, 0 = unlabelled, at most 24 classes).
* Picture: `omnivec2.data.sources.hsi_mixing.false_colour(cube)` (620/550/460 nm as RGB).
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.hsi_mixing import load_hsi_mixing
from omnivec2.data.sources.hsi_scene import load_hsi_scene
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.spectral import SpectralPatches

SIZE, BANDS, PATCH = 32, 31, 4


register_source("hsi_mixing", load_hsi_mixing)
register_source("hsi_scene", load_hsi_scene)

HYPERSPECTRAL = ModalitySpec(
    name="hyperspectral",
    payload=PayloadSpec(shape=(SIZE, SIZE, BANDS), dtype="float32", value_range=(-1.0, 8.0), max_bytes=SIZE * SIZE * BANDS * 4),
    tokenizer=SpectralPatches(patch=PATCH, band_group=BANDS, bands=BANDS),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.75, strategy="random"),
    tasks=(TaskSpec("material", "dense", num_classes=24, outputs_per_token=PATCH * PATCH),),
    norm_targets=True,
    default_source={"kind": "hsi_mixing", "count": 240},
    description=(
        "Linear-mixing cubes 32x32x31 (400-700 nm) of the 24 measured ColorChecker reflectances under 6 CIE "
        "illuminants (colour-science 0.4.7, BSD-3-Clause), soft warped-Voronoi abundances, shading and noise; "
        "240 cubes (168/24/48, stratified by illuminant); task: per-pixel dominant material (dense, 24); "
        "tokens: 4x4 patches x 31 bands -> 64 tokens of 496"
    ),
)
