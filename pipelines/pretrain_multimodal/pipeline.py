from kedro.pipeline import Node, Pipeline

from pipelines.datasets import dataset_names
from pipelines.pretrain_multimodal.nodes import pretrain_multimodal

STAGE, PREVIOUS = "pretrain_multimodal", "pretrain_unimodal"


def create_pipeline(**kwargs) -> Pipeline:
    inputs = [f"params:{STAGE}", "params:model", "params:ray", "token_cache", f"{STAGE}_model", f"{PREVIOUS}_checkpoint"]
    return Pipeline([
        Node(pretrain_multimodal, inputs + [f"{m}_token_manifest" for m in dataset_names()],
             [f"{STAGE}_checkpoint", f"{STAGE}_history", f"{STAGE}_timings"], name=STAGE,
             tags=["ray", "mlflow_stage", f"stage.{STAGE}"]),
    ])
