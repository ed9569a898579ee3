"""Training stage `pretrain_multimodal` on Ray Train workers."""

from pipelines.pretrain_multimodal.pipeline import create_pipeline

__all__ = ["create_pipeline"]
