"""The ablation grid (not part of the default pipeline): `kedro run --pipeline ablations`."""

from pipelines.ablations.pipeline import create_pipeline

__all__ = ["create_pipeline"]
