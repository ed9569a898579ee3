from kedro.pipeline import Node, Pipeline

from pipelines.modalities import bind, modality_names
from pipelines.tokenization import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(bind(nodes.tokenize, m), [f"{m}_validated_samples", "params:tokenization.cache_dir"],
                 f"{m}_token_manifest", name=f"tokenize_{m}", tags=["tokenization", m])
            for m in modality_names()
        ]
    )
