from kedro.pipeline import Node, Pipeline

from pipelines.datasets import bind, dataset_names
from pipelines.ingestion import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node
            for d in dataset_names()
            for node in (
                Node(bind(nodes.ingest, d), [f"params:datasets.{d}", "params:ingestion.seed", f"{d}_classes_before"],
                     [f"{d}_raw_samples", f"{d}_classes", f"{d}_categories"], name=f"ingest_{d}", tags=["ingestion", d]),
                Node(bind(nodes.validate, d), [f"params:datasets.{d}", f"{d}_raw_samples", f"{d}_classes",
                                               "params:ingestion.validation_mode"],
                     [f"{d}_validated_samples", f"{d}_quarantined_samples", f"{d}_validation_report"],
                     name=f"validate_{d}", tags=["ingestion", "validation", d]),
            )
        ]
    )
