"""Training stage `train_multitask` on Ray Train workers."""

from pipelines.train_multitask.pipeline import create_pipeline

__all__ = ["create_pipeline"]
