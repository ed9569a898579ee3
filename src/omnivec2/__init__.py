"""omnivec2: the OmniVec2 multimodal, multitask network and the library behind its pipelines.

The library imports no Kedro; Ray, MLflow and Great Expectations are imported lazily by the
modules that need them, so the model and the algorithms can be used and tested in plain PyTorch.
"""

from omnivec2.env import apply_quiet_environment

apply_quiet_environment()

__version__ = "0.1.0"
