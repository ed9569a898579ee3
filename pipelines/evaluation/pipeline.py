from kedro.pipeline import Node, Pipeline

from omnivec2.evaluation.headline import headline
from pipelines.datasets import bind, dataset_names
from pipelines.evaluation import nodes

STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


def create_pipeline(**kwargs) -> Pipeline:
    names = dataset_names()
    manifests = [f"{m}_token_manifest" for m in names]
    cards = [
        Node(bind(nodes.draw_data_card, d), [f"params:datasets.{d}", f"{d}_validation_report", f"{d}_token_manifest",
                                             f"{d}_validated_samples", "token_cache"],
             f"{d}_report_card", name="draw_data_card", namespace=d,
             tags=["evaluation", d])
        for d in names
    ]
    return Pipeline([
        Node(nodes.train_single_task_baselines, ["params:model", "params:train_multitask", "params:evaluation",
                                                  "token_cache", "train_multitask_checkpoint", "train_multitask_history",
                                                  *manifests],
             ["single_task_metrics", "learning_curves"], name="train_single_task_baselines", tags=["evaluation"]),
        Node(nodes.evaluate, ["train_multitask_checkpoint", "token_cache", "params:evaluation", "single_task_metrics",
                              "params:datasets"],
             "metrics", name="evaluate", tags=["evaluation"]),
        Node(headline, "metrics", "headline_metrics", name="headline_metrics", tags=["evaluation"]),
        Node(nodes.write_predictions, ["train_multitask_checkpoint", "token_cache", "params:evaluation"], "predictions",
             name="write_predictions", tags=["evaluation"]),
        Node(nodes.probe_stages, [*[f"{s}_checkpoint" for s in STAGES], "token_cache", "params:evaluation"],
             "linear_probe", name="probe_stages", tags=["evaluation"]),
        Node(nodes.plot_training_curves, [f"{s}_history" for s in STAGES],
             "training_curves_plot", name="plot_training_curves", tags=["evaluation"]),
        *cards,
        Node(nodes.render_report,
             ["metrics", *[f"{s}_checkpoint" for s in STAGES], *[f"{s}_timings" for s in STAGES],
              *[f"{s}_history" for s in STAGES], "token_cache", "params:evaluation", "ablation_results",
              "linear_probe", "learning_curves", "data_docs", *[f"{d}_report_card" for d in names]],
             ["report", "report_index"], name="render_report", tags=["evaluation"]),
        Node(nodes.register_final_model, ["train_multitask_checkpoint", "metrics", "token_cache", "params:evaluation",
                                          f"{names[0]}_validated_samples"],
             "registered_model", name="register_final_model", tags=["evaluation"]),
    ])
