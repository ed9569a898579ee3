from kedro.pipeline import Node, Pipeline

from pipelines.ingestion import nodes
from pipelines.modalities import bind, modality_names


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node
            for m in modality_names()
            for node in (
                Node(bind(nodes.ingest, m), ["params:ingestion.sources", "params:ingestion.seed"],
                     f"{m}_raw_samples", name=f"ingest_{m}", tags=["ingestion", m]),
                Node(bind(nodes.validate, m), [f"{m}_raw_samples", "params:ingestion.validation_mode"],
                     [f"{m}_validated_samples", f"{m}_quarantined_samples", f"{m}_validation_report"],
                     name=f"validate_{m}", tags=["ingestion", "validation", m]),
            )
        ]
    )
