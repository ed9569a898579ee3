"""Training stage `pretrain_unimodal` on Ray Train workers."""

from pipelines.pretrain_unimodal.pipeline import create_pipeline

__all__ = ["create_pipeline"]
