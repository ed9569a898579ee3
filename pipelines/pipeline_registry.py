"""The project's pipelines, listed explicitly (find_pipelines would look for `pipelines.pipelines.*`)."""

from kedro.pipeline import Pipeline

from pipelines import ablations, evaluation, ingestion, pretrain_multimodal, pretrain_unimodal, tokenization, train_multitask

STAGES = {
    "ingestion": ingestion,
    "tokenization": tokenization,
    "pretrain_unimodal": pretrain_unimodal,
    "pretrain_multimodal": pretrain_multimodal,
    "train_multitask": train_multitask,
    "evaluation": evaluation,
}


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = {name: module.create_pipeline() for name, module in STAGES.items()}
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    pipelines["ablations"] = ablations.create_pipeline()  # by hand or in DVC's `ablations` stage, not in the main job
    return pipelines
