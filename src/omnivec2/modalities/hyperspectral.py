"""Hyperspectral: cubes `[size, size, bands]`, patches of `patch` x `patch` pixels over band groups.

Tokens: per patch, `bands / band_group` tokens of patch*patch*band_group values standardised per
band with train statistics (SpectralFormer-style groups; band_group = bands gives one token per
patch). Dense tasks: one label per pixel, p*p per token.
"""

from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec
from omnivec2.tokens.spectral import SpectralPatches


def build(s: dict) -> ModalityParts:
    size, bands, p = int(s["size"]), int(s["bands"]), int(s["patch"])
    group = int(s["band_group"] or bands)
    if size % p or bands % group:
        raise ValueError(f"a {size}x{size}x{bands} cube is not divisible into {p}x{p} patches of {group} bands")
    low, high = s["value_range"]
    return ModalityParts(
        payload=PayloadSpec(shape=(size, size, bands), dtype="float32", value_range=(low, high),
                            max_bytes=size * size * bands * 4),
        tokenizer=SpectralPatches(patch=p, band_group=group, bands=bands),
        embedding="patch_linear",
        mask=MaskSpec(ratio=0.75, strategy="random"),
        norm_targets=True,
        dense_outputs_per_token=p * p,
    )


HYPERSPECTRAL = Modality(
    name="hyperspectral",
    settings={"size": 32, "bands": 31, "patch": 4, "band_group": None, "value_range": [-1.0, 8.0]},
    help={"size": "tile side in pixels", "bands": "spectral bands (scene sources resample to it)",
          "patch": "patch side in pixels", "band_group": "bands per token (null: all)",
          "value_range": "inclusive [min, max] of a reflectance value"},
    build=build,
    description="spectral cubes; patch x band-group tokens",
)
