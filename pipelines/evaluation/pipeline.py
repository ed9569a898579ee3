from kedro.pipeline import Node, Pipeline

from pipelines.evaluation import nodes
from pipelines.datasets import dataset_names

STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


def create_pipeline(**kwargs) -> Pipeline:
    names = dataset_names()
    manifests = [f"{m}_token_manifest" for m in names]
    return Pipeline([
        Node(nodes.train_single_task_baselines,
             ["params:model", "params:train_multitask", "params:tokenization.cache_dir", *manifests],
             "single_task_metrics", name="train_single_task_baselines", tags=["evaluation"]),
        Node(nodes.evaluate, ["train_multitask_checkpoint", "params:tokenization.cache_dir", "params:evaluation",
                              "single_task_metrics"],
             "metrics", name="evaluate", tags=["evaluation"]),
        Node(nodes.plot_training_curves, [f"{s}_history" for s in STAGES],
             "training_curves_plot", name="plot_training_curves", tags=["evaluation"]),
        Node(nodes.render_report,
             ["metrics", *[f"{s}_checkpoint" for s in STAGES], *[f"{s}_history" for s in STAGES],
              "params:tokenization.cache_dir", "params:datasets", "params:evaluation",
              *[f"{m}_validation_report" for m in names], *manifests, *[f"{m}_validated_samples" for m in names]],
             "report_index", name="render_report", tags=["evaluation"]),
        Node(nodes.register_final_model, ["train_multitask_checkpoint", "metrics", "params:tokenization.cache_dir",
                                            "params:evaluation"],
             "registered_model", name="register_final_model", tags=["evaluation"]),
    ])
