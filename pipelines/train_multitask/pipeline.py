from kedro.pipeline import Node, Pipeline

from pipelines.datasets import dataset_names
from pipelines.train_multitask.nodes import train_multitask

STAGE, PREVIOUS = "train_multitask", "pretrain_multimodal"


def create_pipeline(**kwargs) -> Pipeline:
    inputs = [f"params:{STAGE}", "params:model", "params:ray", "token_cache", f"{STAGE}_model", f"{PREVIOUS}_checkpoint",
              "params:datasets"]
    return Pipeline([
        Node(train_multitask, inputs + [f"{m}_token_manifest" for m in dataset_names()],
             [f"{STAGE}_checkpoint", f"{STAGE}_history", f"{STAGE}_timings"], name=STAGE,
             tags=["ray", "mlflow_stage", f"stage.{STAGE}"]),
    ])
