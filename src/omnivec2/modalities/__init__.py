"""The modality registry: one `ModalitySpec` per modality."""

from omnivec2.modalities.registry import REGISTRY, get_modality, register
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec

__all__ = ["REGISTRY", "get_modality", "register", "MaskSpec", "ModalitySpec", "PayloadSpec", "TaskSpec"]
