"""The six pipelines of the main job and the ablation grid exist, are named as documented, and chain
through the catalog."""

from kedro.framework.project import configure_project

from pipelines.pipeline_registry import register_pipelines

EXPECTED = {"ingestion", "tokenization", "pretrain_unimodal", "pretrain_multimodal", "train_multitask", "evaluation"}


def test_registry_lists_the_six_pipelines_a_default_and_the_ablations():
    configure_project("pipelines")
    pipelines = register_pipelines()
    assert set(pipelines) == EXPECTED | {"__default__", "ablations"}
    assert len(pipelines["__default__"].nodes) == sum(len(pipelines[name].nodes) for name in EXPECTED)
    assert not set(pipelines["ablations"].nodes) & set(pipelines["__default__"].nodes)  # by hand, not in the main job


def test_every_node_is_named_and_training_nodes_are_tagged_for_ray_and_mlflow():
    pipelines = register_pipelines()
    for node in pipelines["__default__"].nodes:
        assert node.name and not node.name.startswith("<")
    for stage in ("pretrain_unimodal", "pretrain_multimodal", "train_multitask"):
        (node,) = pipelines[stage].nodes
        assert {"ray", "mlflow_stage", f"stage.{stage}"} <= node.tags


def test_each_stage_starts_from_the_previous_stage_s_checkpoint():
    pipelines = register_pipelines()
    assert "pretrain_unimodal_checkpoint" in pipelines["pretrain_multimodal"].inputs()
    assert "pretrain_multimodal_checkpoint" in pipelines["train_multitask"].inputs()
    assert "train_multitask_checkpoint" in pipelines["evaluation"].inputs()
