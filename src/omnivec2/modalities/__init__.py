"""The modality registry: one `ModalitySpec` per modality, one module per modality in this package."""

from omnivec2.modalities.registry import REGISTRY, discover, get_modality, register
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec

discover()

__all__ = ["REGISTRY", "get_modality", "register", "MaskSpec", "ModalitySpec", "PayloadSpec", "TaskSpec"]
