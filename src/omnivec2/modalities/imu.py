"""IMU: UEA BasicMotions (smartwatch 3-axis accelerometer + gyroscope, 4 activities)."""

from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.patches import TimePatches

IMU = ModalitySpec(
    name="imu",
    payload=PayloadSpec(shape=(6, 100), dtype="float32", value_range=(-1.0e3, 1.0e3), max_bytes=6 * 100 * 4),
    tokenizer=TimePatches(patch=10),
    embedding="patch_linear",
    mask=MaskSpec(ratio=0.4, strategy="random"),
    tasks=(TaskSpec("activity", "classification", num_classes=4),),
    norm_targets=False,
    default_source={"kind": "ts_file", "dataset": "BasicMotions"},
    description="BasicMotions: 6 channels x 100 steps at 10 Hz, 10-step patches -> 10 tokens of 60",
)
