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


def test_the_report_is_assembled_from_one_card_per_dataset_and_the_optional_ablation_table():
    from pipelines.datasets import dataset_names

    evaluation = {node.name: node for node in register_pipelines()["evaluation"].nodes}
    render = evaluation["render_report"]
    assert [name for name in render.inputs if name.endswith("_report_card")] == [f"{d}_report_card" for d in dataset_names()]
    for dataset in dataset_names():
        card = evaluation[f"{dataset}.draw_data_card"]
        assert card.outputs == [f"{dataset}_report_card"]
        assert {f"{dataset}_validation_report", f"{dataset}_token_manifest", f"{dataset}_validated_samples"} <= set(card.inputs)
    assert "ablation_results" in render.inputs and render.outputs == ["report", "report_index"]
    ingestion = {node.name: node for node in register_pipelines()["ingestion"].nodes}
    docs = ingestion["build_data_docs"]
    assert docs.inputs == [f"{d}_gx_result" for d in dataset_names()] and docs.outputs == ["data_docs"]
    assert "data_docs" in render.inputs  # the report links the Data Docs: lineage from validation to the report


def test_each_dataset_s_nodes_share_its_namespace_and_the_stages_keep_their_names():
    """One Kedro namespace per dataset (`kedro run --namespaces image`, a group in kedro viz); the
    stage nodes that commands name (`--from-nodes pretrain_unimodal`, `--nodes render_report`) keep
    their names."""
    from pipelines.datasets import dataset_names

    nodes = register_pipelines()["__default__"].nodes
    for dataset in dataset_names():
        assert sorted(n.name for n in nodes if n.namespace == dataset) == [
            f"{dataset}.{name}" for name in ("draw_data_card", "ingest", "tokenize", "validate")]
    assert {"pretrain_unimodal", "pretrain_multimodal", "train_multitask", "render_report", "build_data_docs"} <= {
        n.name for n in nodes if n.namespace is None}


def test_no_node_gets_a_path_from_the_parameters():
    """Paths are the catalog's (conf/base/catalog.yml); the one path among the parameters that nodes
    see is Ray Train's storage (`ray.storage_path`, also a URI such as s3://...), Ray's own setting."""
    from kedro.config import OmegaConfigLoader

    from pipelines.settings import CONFIG_LOADER_ARGS
    from tests.pipelines.conftest import PROJECT

    params = OmegaConfigLoader(str(PROJECT / "conf"), env="tiny", **CONFIG_LOADER_ARGS)["parameters"]

    def paths(value, where):
        if isinstance(value, dict):
            return [p for key, item in value.items() for p in paths(item, f"{where}.{key}")]
        return [where] if isinstance(value, str) and value.startswith("data/") else []

    inputs = {name for pipeline in register_pipelines().values() for node in pipeline.nodes for name in node.inputs}
    found = [p for name in inputs if name.startswith("params:")
             for p in paths(_get(params, name[len("params:"):]), name[len("params:"):])]
    assert found == ["ray.storage_path"]


def _get(params: dict, dotted: str):
    for key in dotted.split("."):
        params = params[key]
    return params


def test_the_lineage_runs_from_every_dataset_s_source_to_the_report_and_the_data_docs():
    """What kedro viz draws: each dataset's raw samples reach the report (through validation, the
    token cache's manifests, the three stages' checkpoints) and the Data Docs; the token cache, the
    checkpoint folders, the Data Docs and the report are catalog datasets on that path."""
    import yaml

    from pipelines.datasets import dataset_names
    from tests.pipelines.conftest import PROJECT

    downstream: dict[str, set[str]] = {}
    for node in register_pipelines()["__default__"].nodes:
        for name in node.inputs:
            downstream.setdefault(name, set()).add(node.name)
        downstream.setdefault(node.name, set()).update(node.outputs)

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for after in downstream.get(todo.pop(), ()):
                if after not in seen:
                    seen.add(after)
                    todo.append(after)
        return seen

    for dataset in dataset_names():
        assert {"report", "data_docs", "metrics", "registered_model"} <= reaches(f"{dataset}_raw_samples"), dataset
    for place in ("token_cache", "pretrain_unimodal_model", "pretrain_multimodal_model", "train_multitask_model"):
        assert "report" in reaches(place), place
    catalog = yaml.safe_load((PROJECT / "conf/base/catalog.yml").read_text())
    assert {catalog[name]["type"] for name in ("token_cache", "{stage}_model", "report", "data_docs")} == {
        "pipelines.io.TokenCacheDataset", "pipelines.io.LocationDataset", "pipelines.io.ReportFolderDataset",
        "pipelines.io.SiteFolderDataset"}
