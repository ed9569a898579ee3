"""Ingestion: each dataset's source -> raw sample table -> Great Expectations validation."""

from pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
