"""Video: real handwritten digits moving with wall bounces; digit and direction, two independent tasks.

Data card
---------
* Provenance: scikit-learn's 8x8 digit scans (UCI optdigits, 43 writers; BSD-3-Clause), upscaled
  to 16x16 and animated by `omnivec2.data.sources.moving_digits` (no labelled video ships offline;
  OpenCV's sample AVIs carry no labels).
* Samples: 1000 clips of 16 frames x 32x40 pixels (uint8), 700/100/200 train/val/test (seeded); the
  digit images are split before animating, so test clips show unseen digit scans. 1000 keeps
  generation under 0.1 s and the token cache near 80 MB.
* Tasks: `digit` (10 classes) and `direction` (8 headings, k * 45 degrees), drawn independently.
  Speed 1-2 px/frame, reflections at the walls; direction is the heading at the first frame.
* Tokens: tubelets of 4 frames x 8x8 pixels -> 4 x 20 = 80 tokens of 256 (values / 255). The
  frame is 32x40 rather than square so that tube masking hides exactly 90%: tube masking hides
  a whole number of the S spatial positions in every slice, and 0.9 * S is whole for S = 20
  (5x4 patches) but for no square grid below 10x10. Four-frame tubelets keep N at 80 (two-frame
  ones would give 160).
* Masking: tube, ratio 0.9, `tube_period` 20 (VideoMAE); per-token normalised targets.
* User data: `{kind: video_folder, path: <dir or s3://...>, labels: <csv>}`: video files decoded
  with opencv-python-headless plus a CSV with `path`, `digit`, `direction` (and optional `split`)
  columns; frames are resampled to 16 and resized to 32x40 grey.
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.moving_digits import load_moving_digits
from omnivec2.data.sources.video_folder import load_video_folder
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.tubelets import Tubelets

FRAMES, HEIGHT, WIDTH, TUBE, PATCH = 16, 32, 40, 4, 8

register_source("moving_digits", load_moving_digits)
register_source("video_folder", load_video_folder)

VIDEO = ModalitySpec(
    name="video",
    payload=PayloadSpec(shape=(FRAMES, HEIGHT, WIDTH), dtype="uint8", value_range=(0, 255), max_bytes=FRAMES * HEIGHT * WIDTH),
    tokenizer=Tubelets(frames=TUBE, patch=PATCH, scale=255.0),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.9, strategy="tube", tube_period=(HEIGHT // PATCH) * (WIDTH // PATCH)),
    tasks=(TaskSpec("digit", "classification", num_classes=10), TaskSpec("direction", "classification", num_classes=8)),
    norm_targets=True,
    default_source={"kind": "moving_digits", "count": 1000},
    description=(
        "Moving real digits (scikit-learn 8x8 scans upscaled to 16x16, BSD) bouncing in 16 frames of 32x40; "
        "1000 clips (700/100/200, test on unseen digit scans); tasks: digit (10) and direction (8), independent; "
        "tokens: 4x8x8 tubelets -> 80 tokens of 256; tube masking 0.9"
    ),
)
