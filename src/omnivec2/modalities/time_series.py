"""Time series: UCR GunPoint (univariate, 150 steps, 2 classes), bundled with sktime 1.2.0.

Data card
---------
* Provenance: the UCR Time Series Classification Archive (Ratanamahatana & Keogh; free for
  research, cite the archive), GunPoint as shipped in the sktime 1.2.0 wheel (BSD-3) under
  `sktime/datasets/data/GunPoint/`. The x-coordinate of an actor's right hand, 150 frames of
  video at 30 fps, z-normalised per series: drawing a replica gun from a hip holster ("1", Gun)
  or pointing a finger ("2", Point).
* Official split: 50 train / 150 test; a stratified 15% of TRAIN is val (42 train / 8 val / 150
  test), classes balanced (24 / 26 in TRAIN, 76 / 74 in TEST).
* Tokens: patches of 10 steps (standardised with train statistics) -> 15 tokens of 10, masked
  randomly at 0.4 (the design's ratio for time series).
* Alternatives in the same source kind: `{kind: ts_file, dataset: ArrowHead}` (3 shapes of
  arrowhead outlines, 36 / 175 x 251 steps) needs a spec with `shape=(1, 251)`, 3 classes and a
  patch that divides 250; users' UCR/UEA `.ts` files load with `train_path` / `test_path`.
"""

from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.patches import TimePatches

TIME_SERIES = ModalitySpec(
    name="time_series",
    payload=PayloadSpec(shape=(1, 150), dtype="float32", value_range=(-1.0e3, 1.0e3), max_bytes=150 * 4),
    tokenizer=TimePatches(patch=10),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.4, strategy="random"),
    tasks=(TaskSpec("gesture", "classification", num_classes=2),),
    norm_targets=False,
    default_source={"kind": "ts_file", "dataset": "GunPoint", "classes": ["1", "2"]},
    description=(
        "UCR GunPoint (sktime 1.2.0 bundle): hand x-coordinate, 150 steps, gun-draw vs point; official 50/150 split "
        "(15% of TRAIN as val); 10-step patches -> 15 tokens of 10. ArrowHead via {kind: ts_file, dataset: ArrowHead}."
    ),
)
