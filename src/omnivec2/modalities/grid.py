"""Shared by the pixel-grid modalities (image, depth, infrared, X-ray): size and patch settings -> payload."""

from __future__ import annotations

from omnivec2.modalities.spec import MaskSpec, ModalityParts, PayloadSpec
from omnivec2.tokens.patches import ImagePatches


def side_lengths(size) -> tuple[int, int]:
    """`size` (an int, or [height, width]) -> (H, W)."""
    if isinstance(size, (list, tuple)):
        if len(size) != 2:
            raise ValueError(f"size must be one side or [height, width], got {size!r}")
        return int(size[0]), int(size[1])
    return int(size), int(size)


def pixel_grid(s: dict, channels: int = 1) -> tuple[tuple[int, ...], PayloadSpec]:
    """(payload shape, PayloadSpec) of a float32 grid: [H, W] for one channel, else [C, H, W]."""
    h, w = side_lengths(s["size"])
    p = int(s["patch"])
    if p <= 0 or h % p or w % p:
        raise ValueError(f"size {h}x{w} is not divisible into patches of {p}")
    if channels < 1:
        raise ValueError(f"channels must be at least 1, got {channels}")
    shape = (h, w) if channels == 1 else (channels, h, w)
    low, high = s["value_range"]
    return shape, PayloadSpec(shape=shape, dtype="float32", value_range=(low, high), max_bytes=channels * h * w * 4)


def patch_image_parts(s: dict) -> ModalityParts:
    """ViT patches of a pixel grid of `channels` (default 1): `patch` x `patch` squares over all
    channels -> N = (H/p)(W/p) tokens of C*p*p values divided by `scale`; MAE masking (random
    0.75), per-patch normalised targets, and dense tasks with one label per pixel (p*p per token)."""
    _, payload = pixel_grid(s, channels=int(s.get("channels", 1)))
    return ModalityParts(
        payload=payload,
        tokenizer=ImagePatches(patch=int(s["patch"]), scale=float(s["scale"])),
        embedding="patch_linear",
        mask=MaskSpec(ratio=0.75, strategy="random"),
        norm_targets=True,
        dense_outputs_per_token=int(s["patch"]) ** 2,
    )
