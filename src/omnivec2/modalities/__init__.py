"""The modality registry: one `ModalitySpec` per modality, one module per modality in this package.

The modality modules are imported on the first read of `REGISTRY` (see `registry`).
"""

from omnivec2.modalities.registry import REGISTRY, discover, get_modality, register
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec

__all__ = ["REGISTRY", "discover", "get_modality", "register", "MaskSpec", "ModalitySpec", "PayloadSpec", "TaskSpec"]
