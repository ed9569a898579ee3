"""The modality table: every registered modality, by name."""

from __future__ import annotations

from omnivec2.modalities.image import IMAGE
from omnivec2.modalities.imu import IMU
from omnivec2.modalities.spec import ModalitySpec
from omnivec2.modalities.tabular import TABULAR

REGISTRY: dict[str, ModalitySpec] = {}


def register(spec: ModalitySpec, *, replace: bool = False) -> ModalitySpec:
    """Add a modality to the table (a user's own modality goes through here too)."""
    if spec.name in REGISTRY and not replace:
        raise ValueError(f"modality {spec.name!r} is already registered")
    REGISTRY[spec.name] = spec
    return spec


def get_modality(name: str) -> ModalitySpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown modality {name!r}; registered: {sorted(REGISTRY)}") from None


for _spec in (IMAGE, TABULAR, IMU):
    register(_spec)
