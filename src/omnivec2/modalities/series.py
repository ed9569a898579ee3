"""Shared by the sequence modalities (time series, IMU): channels, length and patch -> the parts."""

from __future__ import annotations

from omnivec2.modalities.spec import MaskSpec, ModalityParts, PayloadSpec
from omnivec2.tokens.patches import TimePatches


def series_parts(s: dict) -> ModalityParts:
    """Series `[channels, length]` float32 -> `length/patch` tokens of `channels*patch` (PatchTST-style)."""
    c, t, p = int(s["channels"]), int(s["length"]), int(s["patch"])
    if c < 1 or p < 1 or t < p:
        raise ValueError(f"{c} channels x {t} steps cannot be cut into patches of {p} steps")
    low, high = s["value_range"]
    return ModalityParts(
        payload=PayloadSpec(shape=(c, t), dtype="float32", value_range=(low, high), max_bytes=c * t * 4),
        tokenizer=TimePatches(patch=p),
        embedding="patch_linear",
        mask=MaskSpec(ratio=0.4, strategy="random"),
    )


SERIES_SETTINGS = {"channels": 1, "length": 150, "patch": 10, "value_range": [-1000.0, 1000.0]}
SERIES_HELP = {"channels": "variables per step", "length": "steps per series (sources pad or resample to it)",
               "patch": "steps per token", "value_range": "inclusive [min, max] of a value"}
