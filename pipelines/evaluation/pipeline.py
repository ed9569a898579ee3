from kedro.pipeline import Node, Pipeline

from pipelines.evaluation import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        Node(nodes.evaluate, ["train_multitask.checkpoint", "params:tokenization.cache_dir", "params:evaluation"],
             "metrics", name="evaluate", tags=["evaluation"]),
        Node(nodes.plot_training_curves,
             ["pretrain_unimodal.history", "pretrain_multimodal.history", "train_multitask.history"],
             "training_curves_plot", name="plot_training_curves", tags=["evaluation"]),
    ])
