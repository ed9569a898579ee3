"""Video: clips of `frames` grey frames (uint8), VideoMAE tubelets with tube masking.

Tokens: `tubelet` frames x `patch` x `patch` tubes -> N = (T/t)(H/p)(W/p) tokens of t*p*p values
divided by 255; tube masking 0.9 (the same spatial patches hidden in every frame group).
"""

from omnivec2.modalities.grid import side_lengths
from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec
from omnivec2.tokens.tubelets import Tubelets


def build(s: dict) -> ModalityParts:
    t, (h, w), tube, p = int(s["frames"]), side_lengths(s["size"]), int(s["tubelet"]), int(s["patch"])
    if t % tube or h % p or w % p:
        raise ValueError(f"{t} frames of {h}x{w} are not divisible into {tube}x{p}x{p} tubelets")
    return ModalityParts(
        payload=PayloadSpec(shape=(t, h, w), dtype="uint8", value_range=(0, 255), max_bytes=t * h * w),
        tokenizer=Tubelets(frames=tube, patch=p, scale=255.0),
        embedding="patch_linear",
        mask=MaskSpec(ratio=0.9, strategy="tube", tube_period=(h // p) * (w // p)),
        norm_targets=True,
    )


VIDEO = Modality(
    name="video",
    settings={"frames": 16, "size": [32, 40], "tubelet": 4, "patch": 8},
    help={"frames": "frames per clip (decoded clips are sampled evenly to this count)",
          "size": "frame side in pixels, or [height, width]", "tubelet": "frames per tubelet",
          "patch": "tubelet side in pixels"},
    build=build,
    description="grey clips; tubelets, tube masking",
)
