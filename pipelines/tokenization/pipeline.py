from kedro.pipeline import Node, Pipeline

from pipelines.datasets import bind, dataset_names
from pipelines.tokenization import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(bind(nodes.tokenize, d), [f"params:datasets.{d}", f"{d}_validated_samples", f"{d}_classes",
                                           f"{d}_categories", "token_cache"],
                 f"{d}_token_manifest", name="tokenize", namespace=d, tags=["tokenization", d])
            for d in dataset_names()
        ]
    )
