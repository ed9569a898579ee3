"""Tokenization: validated samples -> the deterministic, cached half of each tokenizer (pyarrow)."""

from pipelines.tokenization.pipeline import create_pipeline

__all__ = ["create_pipeline"]
