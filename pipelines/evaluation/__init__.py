"""Evaluation: the final checkpoint on every task's test split, baselines and figures."""

from pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
