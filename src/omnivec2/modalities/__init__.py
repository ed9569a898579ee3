"""The modality table: one `Modality` family per module of this package, listed in `registry`."""

from omnivec2.modalities.registry import MODALITIES, get_modality, register
from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec

__all__ = ["MODALITIES", "get_modality", "register", "MaskSpec", "Modality", "ModalityParts", "PayloadSpec"]
