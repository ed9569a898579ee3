"""The OmniVec2 network: modality tokenizers -> f (+FC) -> cross-attention A -> g -> Fuse -> heads."""

from omnivec2.model.config import ModalityConfig, ModelConfig, modality_config_from_spec, preset
from omnivec2.model.omnivec2 import OmniVec2

__all__ = ["ModalityConfig", "ModelConfig", "OmniVec2", "modality_config_from_spec", "preset"]
