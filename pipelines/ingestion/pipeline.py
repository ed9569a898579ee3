from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from pipelines.datasets import bind, dataset_names
from pipelines.ingestion import nodes


def create_pipeline(**kwargs) -> Pipeline:
    names = dataset_names()
    docs = update_wrapper(partial(nodes.build_data_docs, datasets=names), nodes.build_data_docs)
    return Pipeline(
        [
            node
            for d in names
            for node in (
                Node(bind(nodes.ingest, d), [f"params:datasets.{d}", "params:ingestion.seed", f"{d}_classes_before"],
                     [f"{d}_raw_samples", f"{d}_classes", f"{d}_categories"], name="ingest", namespace=d,
                     tags=["ingestion", d]),
                Node(bind(nodes.validate, d), [f"params:datasets.{d}", f"{d}_raw_samples", f"{d}_classes",
                                               "params:ingestion.validation_mode"],
                     [f"{d}_validated_samples", f"{d}_quarantined_samples", f"{d}_validation_report",
                      f"{d}_gx_result"],
                     name="validate", namespace=d, tags=["ingestion", "validation", d]),
            )
        ]
        + [Node(docs, [f"{d}_gx_result" for d in names], "data_docs", name="build_data_docs",
                tags=["ingestion", "validation"])]
    )
