from kedro.pipeline import Node, Pipeline

from pipelines.ablations import nodes
from pipelines.datasets import dataset_names


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        Node(nodes.run_ablations,
             ["params:ablations", "params:model", "params:pretrain_unimodal", "params:pretrain_multimodal",
              "params:train_multitask", "token_cache", "ablation_progress",
              *[f"{m}_token_manifest" for m in dataset_names()]],
             "ablation_results", name="run_ablations", tags=["ablations"]),
    ])
