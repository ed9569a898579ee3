from kedro.pipeline import Node, Pipeline

from pipelines.evaluation import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        Node(nodes.evaluate, ["train_multitask_checkpoint", "params:tokenization.cache_dir", "params:evaluation"],
             "metrics", name="evaluate", tags=["evaluation"]),
        Node(nodes.plot_training_curves,
             ["pretrain_unimodal_history", "pretrain_multimodal_history", "train_multitask_history"],
             "training_curves_plot", name="plot_training_curves", tags=["evaluation"]),
    ])
