"""The hooks (pipelines/hooks/) and DatasetsHook's training-parameter check driven the way a
KedroSession drives them: pipeline hooks called directly, node hooks through a real
``SequentialRunner`` with a hook manager, on a sqlite store in tmp_path."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner

import pipelines.hooks.ray_hook as ray_hook_module
from omnivec2.tracking import WorkerMetricLogger, stage_tracking_context
from omnivec2.validation import ValidationFailed
from pipelines.datasets import DatasetsHook, set_active_datasets
from pipelines.hooks import KeptOutputsHook, MlflowHook, ProjectLockHook, RayHook, kedro_command, stage_name

STAGE = "pretrain_unimodal"


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import mlflow

    root = tmp_path_factory.mktemp("mlflow")
    previous = mlflow.get_tracking_uri()
    yield f"sqlite:///{root}/mlflow.db"
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def params(store, monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "placeholder")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    return {
        "mlflow": {"tracking_uri": store, "experiment_name": f"hooks-{uuid.uuid4().hex[:8]}"},
        "ray": {"address": None, "num_cpus": 1},
        STAGE: {"steps": 5, "optimizer": {"lr": 0.001}, "s3": {"aws_secret_access_key": "TOPSECRET"}},
        "storage": {"password": "TOPSECRET", "hf_token": "TOPSECRET", "bucket": "b"},
        "tokenization": {"patch_size": 16},
    }


def _run_params(tmp_path, pipeline_names=(STAGE,)):
    return {
        "run_id": "2026-01-01T00.00.00.000Z",
        "project_path": tmp_path.as_posix(),
        "env": "local",
        "tags": None,
        "from_nodes": None,
        "to_nodes": None,
        "node_names": None,
        "from_inputs": None,
        "to_outputs": None,
        "load_versions": None,
        "runtime_params": {},
        "pipeline_names": list(pipeline_names) if pipeline_names else None,
        "namespaces": None,
        "runner": "None",
        "only_missing_outputs": False,
    }


def _session(hook, params, tmp_path):
    """What KedroSession does before a run: create the context (hooks read params there)."""
    hook.after_context_created(SimpleNamespace(params=params, project_path=tmp_path,
                                               config_loader={"parameters": params}))


def _catalog(params, tmp_path, extra=None):
    catalog = DataCatalog.from_config(
        {
            "{modality}_validation_report": {
                "type": "json.JSONDataset",
                "filepath": str(tmp_path / "reporting" / "validation" / "{modality}.json"),
            }
        }
    )
    catalog["parameters"] = params
    catalog[f"params:{STAGE}"] = params[STAGE]
    for name, value in (extra or {}).items():
        catalog[name] = value
    return catalog


def _run(hook, pipeline, catalog, run_params, *node_hooks):
    """KedroSession.run in miniature: pipeline hooks around a runner that calls the node hooks."""
    manager = _create_hook_manager()
    manager.register(hook)
    for other in node_hooks:
        manager.register(other)
    hook.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
    try:
        result = SequentialRunner().run(pipeline, catalog, manager)
    except Exception as error:
        hook.on_pipeline_error(error=error, run_params=run_params, pipeline=pipeline, catalog=catalog)
        raise
    hook.after_pipeline_run(run_params=run_params, run_result=result, pipeline=pipeline, catalog=catalog)
    return result


def _runs(store, experiment_name):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children


# -- node functions (module level, as in the project) ---------------------------------------------


def prepare(x):
    return x + 1


def train_stage(x, stage_params):
    context = stage_tracking_context()  # what a training node hands to its Ray loop
    assert context is not None
    with WorkerMetricLogger(context, flush_every=2) as logger:
        for step in range(stage_params["steps"]):
            logger.log({"loss": 1.0 / (step + 1)}, step=step)
    return x * 2


def failing_stage(x, stage_params):
    raise RuntimeError("diverged")


def _stage_node(func):
    return node(func, ["prepared", f"params:{STAGE}"], "trained", name=STAGE,
                tags=["ray", "mlflow_stage", f"stage.{STAGE}"])


# -- MlflowHook -----------------------------------------------------------------------------------


def test_parent_and_nested_stage_runs(params, tmp_path, store):
    hook = MlflowHook()
    _session(hook, params, tmp_path)
    pipeline = Pipeline([node(prepare, "raw", "prepared", name="prepare"), _stage_node(train_stage)])
    result = _run(hook, pipeline, _catalog(params, tmp_path, {"raw": 1}), _run_params(tmp_path))
    assert result["trained"].load() == 4

    client, parents, children = _runs(store, params["mlflow"]["experiment_name"])
    (parent,), (child,) = parents, children
    assert parent.info.run_name == STAGE and parent.info.status == "FINISHED"
    assert child.info.run_name == STAGE and child.info.status == "FINISHED"
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.tags["kedro.node"] == STAGE

    tags = parent.data.tags
    assert tags["kedro.command"] == f"kedro run --pipeline={STAGE} --env=local"
    assert tags["git.commit"] == "unknown" and tags["dvc.lock.sha256"] == "none"  # tmp_path: no git, no dvc.lock
    assert parent.data.params["pretrain_unimodal.optimizer.lr"] == "0.001"
    assert parent.data.params["tokenization.patch_size"] == "16"
    assert parent.data.params["storage.bucket"] == "b"
    assert child.data.params == {"pretrain_unimodal.steps": "5", "pretrain_unimodal.optimizer.lr": "0.001"}

    # secrets: never in params, tags or anywhere in the run data
    for run in (parent, child):
        blob = json.dumps([run.data.params, run.data.tags])
        assert "TOPSECRET" not in blob and "password" not in blob and "hf_token" not in blob

    history = client.get_metric_history(child.info.run_id, "loss")
    assert sorted(m.step for m in history) == [0, 1, 2, 3, 4]  # from the node's WorkerMetricLogger


def test_failed_stage_marks_runs_failed(params, tmp_path, store):
    import mlflow

    hook = MlflowHook()
    _session(hook, params, tmp_path)
    pipeline = Pipeline([node(prepare, "raw", "prepared", name="prepare"), _stage_node(failing_stage)])
    with pytest.raises(RuntimeError, match="diverged"):
        _run(hook, pipeline, _catalog(params, tmp_path, {"raw": 1}), _run_params(tmp_path))
    _, (parent,), (child,) = _runs(store, params["mlflow"]["experiment_name"])
    assert child.info.status == "FAILED" and parent.info.status == "FAILED"
    assert mlflow.active_run() is None  # nothing left open for the next session


def test_dvc_stages_are_tagged_and_grouped_under_one_run_in_the_original_project_s_store(params, tmp_path,
                                                                                        monkeypatch):
    """Two stages of one `dvc exp run`, run in a temporary copy: both kedro runs (and their stage runs)
    carry the experiment's name, stage and baseline, under one parent named after the experiment, in
    the store of DVC_ROOT's project (the relative sqlite URI is not resolved inside the copy)."""
    from mlflow.tracking import MlflowClient

    original, copy = tmp_path / "project", tmp_path / "project" / ".dvc" / "tmp" / "exps" / "tmpabc"
    copy.mkdir(parents=True)
    params = {**params, "mlflow": {**params["mlflow"], "tracking_uri": "sqlite:///mlflow.db"}}
    monkeypatch.setenv("DVC_ROOT", str(original))
    monkeypatch.setenv("DVC_EXP_NAME", "fuzzy-lamb")
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "a" * 40)
    for stage in ("prepare_stage", STAGE):
        monkeypatch.setenv("DVC_STAGE", stage)
        hook = MlflowHook()
        _session(hook, params, copy)
        pipeline = Pipeline([node(prepare, "raw", "prepared", name="prepare"), _stage_node(train_stage)])
        _run(hook, pipeline, _catalog(params, copy, {"raw": 1}), _run_params(copy, (stage,)))
    assert not (copy / "mlflow.db").exists()

    client = MlflowClient(f"sqlite:///{original}/mlflow.db")
    experiment = client.get_experiment_by_name(params["mlflow"]["experiment_name"])
    runs = {r.info.run_id: r for r in client.search_runs([experiment.experiment_id])}
    (parent,) = [r for r in runs.values() if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.run_name == "fuzzy-lamb" and parent.info.status == "FINISHED"
    kedro_runs = [r for r in runs.values() if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(r.data.tags["dvc.stage"] for r in kedro_runs) == ["prepare_stage", STAGE]
    stage_runs = [r for r in runs.values() if r.data.tags.get("mlflow.parentRunId") in {k.info.run_id for k in kedro_runs}]
    assert len(stage_runs) == 2
    for run in kedro_runs + stage_runs:
        assert run.data.tags["dvc.exp_name"] == "fuzzy-lamb" and run.data.tags["dvc.baseline_rev"] == "a" * 40
        assert run.info.status == "FINISHED"


# -- validation reports: logged by the node, kept by KeptOutputsHook when validation fails ------------


WINE = {"modality": "tabular", "shape": {"columns": 2}, "tasks": {"cultivar": {"kind": "classification"}}}


def _wine_pipeline(tmp_path, nan: bool):
    """ingest -> validate for a 30-row CSV table (a NaN in row 17 when `nan`), as in the project."""
    import numpy as np
    import pandas as pd

    from pipelines.ingestion import create_pipeline

    table = pd.DataFrame({"x": np.linspace(0, 1, 30), "y": np.linspace(1, 2, 30), "cultivar": ["a", "b", "c"] * 10})
    if nan:
        table.loc[17, "x"] = np.nan
    table.to_csv(tmp_path / "wine.csv", index=False)
    entry = {**WINE, "source": {"kind": "table", "path": str(tmp_path / "wine.csv"), "target_column": "cultivar"}}
    set_active_datasets({"wine": entry})
    try:
        pipeline = create_pipeline()
    finally:
        set_active_datasets(None)
    extra = {"params:datasets.wine": entry, "params:ingestion.seed": 0, "params:ingestion.validation_mode": "fail",
             "wine_classes_before": {}}
    return pipeline, extra


@pytest.mark.filterwarnings("ignore:One or more dataset names contain")
def test_a_failed_validation_s_report_is_saved_and_logged(params, tmp_path, store):
    hook = MlflowHook()
    _session(hook, params, tmp_path)
    pipeline, extra = _wine_pipeline(tmp_path, nan=True)
    with pytest.raises(ValidationFailed, match="validation failed for dataset 'wine'"):
        _run(hook, pipeline, _catalog(params, tmp_path, extra), _run_params(tmp_path, ["ingestion"]), KeptOutputsHook())

    on_disk = json.loads((tmp_path / "reporting" / "validation" / "wine.json").read_text())  # the catalog's pattern
    assert on_disk["success"] is False and on_disk["dataset"] == "wine"
    client, (parent,), children = _runs(store, params["mlflow"]["experiment_name"])
    assert children == [] and parent.info.run_name == "ingestion" and parent.info.status == "FAILED"
    local = client.download_artifacts(parent.info.run_id, "validation/wine.json", str(tmp_path / "dl"))
    assert json.loads(open(local).read()) == on_disk


@pytest.mark.filterwarnings("ignore:One or more dataset names contain")
def test_a_passing_validation_s_report_is_logged_as_an_artifact(params, tmp_path, store):
    hook = MlflowHook()
    _session(hook, params, tmp_path)
    pipeline, extra = _wine_pipeline(tmp_path, nan=False)
    _run(hook, pipeline, _catalog(params, tmp_path, extra), _run_params(tmp_path, ["ingestion"]), KeptOutputsHook())
    client, (parent,), _ = _runs(store, params["mlflow"]["experiment_name"])
    local = client.download_artifacts(parent.info.run_id, "validation/wine.json", str(tmp_path / "dl"))
    on_disk = json.loads((tmp_path / "reporting" / "validation" / "wine.json").read_text())  # saved by Kedro itself
    assert json.loads(open(local).read()) == on_disk and on_disk["success"] is True


def test_kept_outputs_hook_saves_only_what_the_error_names_and_never_hides_it(tmp_path):
    from pipelines.hooks import keep_outputs

    def fails(x):
        raise keep_outputs(RuntimeError("broken"), {1: {"kept": True}, 2: "not in the catalog"})

    catalog = DataCatalog.from_config({"kept": {"type": "json.JSONDataset", "filepath": str(tmp_path / "kept.json")},
                                       "dropped": {"type": "json.JSONDataset", "filepath": str(tmp_path / "d.json")}})
    catalog["raw"] = 1
    broken = Pipeline([node(fails, "raw", ["dropped", "kept", "elsewhere"], name="fails")])
    manager = _create_hook_manager()
    manager.register(KeptOutputsHook())
    with pytest.raises(RuntimeError, match="broken"):
        SequentialRunner().run(broken, catalog, manager)
    assert json.loads((tmp_path / "kept.json").read_text()) == {"kept": True}
    assert not (tmp_path / "d.json").exists()


def test_disabled_mlflow_logs_nothing(params, tmp_path, store):
    import mlflow

    params["mlflow"]["enabled"] = False
    hook = MlflowHook()
    # no after_context_created: the hook falls back to the catalog's "parameters"
    pipeline = Pipeline([node(prepare, "raw", "prepared", name="prepare"), _stage_node(train_stage)])
    with pytest.raises(AssertionError):  # train_stage requires an active run: there is none
        _run(hook, pipeline, _catalog(params, tmp_path, {"raw": 1}), _run_params(tmp_path))
    assert mlflow.active_run() is None
    from mlflow.tracking import MlflowClient

    assert MlflowClient(store).get_experiment_by_name(params["mlflow"]["experiment_name"]) is None


# -- RayHook --------------------------------------------------------------------------------------


@pytest.fixture
def fake_ray(monkeypatch):
    calls = {"start": [], "stop": 0}

    def start_ray(**kwargs):
        calls["start"].append(kwargs)
        return True

    def stop_ray():
        calls["stop"] += 1
        return True

    monkeypatch.setattr(ray_hook_module, "start_ray", start_ray)
    monkeypatch.setattr(ray_hook_module, "stop_ray", stop_ray)
    return calls


@pytest.fixture
def ray_params(params):
    """The MLflow tests' parameters with a real stage block (DatasetsHook checks every stage's keys)."""
    return {**params, STAGE: {"training": {"steps": 5, "lr": 1.0e-3}}}


ONE_DATASET = {"wine": {"modality": "tabular", "source": {"kind": "sklearn_wine"}}}


@pytest.fixture
def one_dataset():
    """A `datasets:` block DatasetsHook accepts (its entries are checked first)."""
    set_active_datasets(ONE_DATASET)
    yield
    set_active_datasets(None)


def _checked_run(hooks, pipeline, catalog=None):
    """before_pipeline_run of each hook as pluggy calls it: DatasetsHook's (tryfirst) first."""
    for hook in hooks:
        hook.before_pipeline_run(run_params={}, pipeline=pipeline, catalog=catalog)


def test_a_bad_stage_block_stops_the_run_before_ray_starts(fake_ray, params, tmp_path, one_dataset):
    checks, ray = DatasetsHook(), RayHook()
    for hook in (checks, ray):  # the MLflow tests' stage block has keys no stage knows
        _session(hook, {**params, "datasets": ONE_DATASET}, tmp_path)
    with pytest.raises(ValueError, match=r"pretrain_unimodal: unknown key\(s\) \['optimizer'"):
        _checked_run([checks, ray], Pipeline([_stage_node(train_stage)]))
    assert fake_ray["start"] == []


def test_training_parameters_are_checked_only_for_a_training_run_and_read_from_the_catalog(params, tmp_path,
                                                                                           one_dataset):
    checks = DatasetsHook()  # no context: parameters come from the catalog
    plain = Pipeline([node(prepare, "raw", "prepared", name="prepare")])
    checks.before_pipeline_run(run_params={}, pipeline=plain, catalog=_catalog(params, tmp_path))  # no training
    with pytest.raises(ValueError, match=r"pretrain_unimodal: unknown key\(s\) \['optimizer'"):
        checks.before_pipeline_run(run_params={}, pipeline=Pipeline([_stage_node(train_stage)]),
                                   catalog=_catalog(params, tmp_path))


def test_ray_hook_starts_only_for_ray_nodes(fake_ray, ray_params, tmp_path):
    params = ray_params
    hook = RayHook()
    _session(hook, params, tmp_path)
    plain = Pipeline([node(prepare, "raw", "prepared", name="prepare")])
    hook.before_pipeline_run(run_params={}, pipeline=plain, catalog=None)
    hook.after_pipeline_run(run_params={}, run_result={}, pipeline=plain, catalog=None)
    assert fake_ray == {"start": [], "stop": 0}

    stage = _stage_node(train_stage)
    with_ray = plain + Pipeline([stage])
    hook.before_pipeline_run(run_params={}, pipeline=with_ray, catalog=None)
    assert fake_ray["start"] == []  # not before the first node that needs it
    hook.before_node_run(node=plain.nodes[0])
    assert fake_ray["start"] == []
    hook.before_node_run(node=stage)
    hook.before_node_run(node=stage)  # starts once
    env_vars = fake_ray["start"][0].pop("env_vars")  # the S3 settings forwarded to the workers
    assert isinstance(env_vars, dict) and not any(k.startswith("RAY_") for k in env_vars)
    assert fake_ray["start"] == [{"address": None, "num_cpus": 1, "include_dashboard": None, "num_gpus": None}]
    hook.after_pipeline_run(run_params={}, run_result={}, pipeline=with_ray, catalog=None)
    assert fake_ray["stop"] == 1
    hook.after_pipeline_run(run_params={}, run_result={}, pipeline=with_ray, catalog=None)  # stops once
    assert fake_ray["stop"] == 1


def test_ray_hook_stops_on_error_and_reads_catalog_params(fake_ray, ray_params, tmp_path):
    params = ray_params
    params["ray"] = {"address": "ray://head:10001", "num_cpus": 8, "dashboard": False}
    hook = RayHook()  # no context: parameters come from the catalog
    pipeline = Pipeline([_stage_node(train_stage)])
    hook.before_pipeline_run(run_params={}, pipeline=pipeline, catalog=_catalog(params, tmp_path))
    hook.before_node_run(node=pipeline.nodes[0])
    assert fake_ray["start"][0]["address"] == "ray://head:10001"
    assert fake_ray["start"][0]["include_dashboard"] is False
    hook.on_pipeline_error(error=RuntimeError(), run_params={}, pipeline=pipeline, catalog=None)
    assert fake_ray["stop"] == 1


def test_ray_hook_leaves_foreign_runtime(monkeypatch, ray_params, tmp_path):
    params = ray_params
    stops = []
    monkeypatch.setattr(ray_hook_module, "start_ray", lambda **kwargs: False)  # Ray already up
    monkeypatch.setattr(ray_hook_module, "stop_ray", lambda: stops.append(1))
    hook = RayHook()
    _session(hook, params, tmp_path)
    pipeline = Pipeline([_stage_node(train_stage)])
    hook.before_pipeline_run(run_params={}, pipeline=pipeline, catalog=None)
    hook.before_node_run(node=pipeline.nodes[0])
    hook.after_pipeline_run(run_params={}, run_result={}, pipeline=pipeline, catalog=None)
    assert stops == []


def test_a_run_that_fails_before_its_first_ray_node_never_starts_ray(fake_ray, ray_params, tmp_path):
    """Bad data stops a run at validation, before any training node: Ray was never started."""
    hook = RayHook()
    _session(hook, ray_params, tmp_path)
    validate = node(prepare, "raw", "prepared", name="validate")
    pipeline = Pipeline([validate, _stage_node(train_stage)])
    hook.before_pipeline_run(run_params={}, pipeline=pipeline, catalog=None)
    hook.before_node_run(node=validate)
    hook.on_pipeline_error(error=ValueError("validation failed"), run_params={}, pipeline=pipeline, catalog=None)
    assert fake_ray == {"start": [], "stop": 0}


# -- helpers and settings -------------------------------------------------------------------------


def test_kedro_command_reconstruction(tmp_path):
    run_params = _run_params(tmp_path, ["a", "b"])
    run_params.update(
        tags=["t1"],
        from_nodes=["n1"],
        runtime_params={"model": {"preset": "tiny"}, "api_token": "TOPSECRET"},
        runner="<kedro.runner.thread_runner.ThreadRunner object at 0x7f>",
    )
    assert kedro_command(run_params) == (
        "kedro run --pipelines=a,b --env=local --tags=t1 --from-nodes=n1 --params=model.preset=tiny --runner=ThreadRunner"
    )
    assert kedro_command(_run_params(tmp_path, None) | {"env": None}) == "kedro run"


def test_stage_name():
    assert stage_name(node(prepare, "a", "b", name="n", tags=["mlflow_stage", "stage.train_multitask"])) == "train_multitask"
    assert stage_name(node(prepare, "a", "b", name="n", tags=["mlflow_stage", "evaluation"])) == "evaluation"
    assert stage_name(node(prepare, "a", "b", name="n", namespace="tokenization", tags=["mlflow_stage"])) == "tokenization"
    assert stage_name(node(prepare, "a", "b", name="plain")) == "plain"


def test_settings_register_the_hooks_with_timing_last():
    from pipelines import settings
    from pipelines.hooks import StorageHook, TimingHook

    # pluggy calls hooks last-registered first: TimingHook logs before MlflowHook closes the run.
    # DatasetsHook's hooks are tryfirst: they run before the others wherever it is registered.
    assert [type(h) for h in settings.HOOKS] == [DatasetsHook, KeptOutputsHook, StorageHook, RayHook, MlflowHook,
                                                 TimingHook, ProjectLockHook]
    # the project lock is taken before any other hook starts anything, and released after all have ended
    manager = _create_hook_manager()
    for hook in settings.HOOKS:
        manager.register(hook)
    called_first = lambda name: getattr(manager.hook, name).get_hookimpls()[-1].plugin  # pluggy calls from the end
    called_last = lambda name: getattr(manager.hook, name).get_hookimpls()[0].plugin
    assert isinstance(called_first("before_pipeline_run"), ProjectLockHook)
    assert isinstance(called_last("after_pipeline_run"), ProjectLockHook)
    assert isinstance(called_last("on_pipeline_error"), ProjectLockHook)
    assert settings.CONFIG_LOADER_ARGS["base_env"] == "base"
    assert settings.CONFIG_LOADER_ARGS["default_run_env"] == "local"


def test_a_second_run_in_the_project_is_refused_until_the_first_ends(tmp_path):
    from omnivec2.orchestration.project_lock import ProjectBusyError

    first, second = ProjectLockHook(), ProjectLockHook()
    for hook in (first, second):
        hook.after_context_created(SimpleNamespace(project_path=tmp_path))
    first.before_pipeline_run(run_params=_run_params(tmp_path), pipeline=None, catalog=None)
    with pytest.raises(ProjectBusyError, match=rf"pid \d+ on host .*, started .*running `kedro run "
                                               rf"--pipeline={STAGE} --env=local` since "):
        second.before_pipeline_run(run_params=_run_params(tmp_path, ("evaluation",)), pipeline=None, catalog=None)
    first.on_pipeline_error()  # a failed run releases it too
    second.before_pipeline_run(run_params=_run_params(tmp_path, ("evaluation",)), pipeline=None, catalog=None)
    assert json.loads((tmp_path / ".omnivec2.lock.json").read_text())["what"].startswith("kedro run --pipeline=evaluation")
    second.after_pipeline_run()
    assert not (tmp_path / ".omnivec2.lock.json").exists()


def test_timing_hook_reports_each_node_and_the_total(capsys):
    import time

    from kedro.pipeline import Node

    from pipelines.hooks import TimingHook

    hook = TimingHook()
    node = Node(lambda x: x, "a", "b", name="slow_node")
    hook.before_pipeline_run({}, None, None)
    hook.before_node_run(node)
    time.sleep(0.05)
    hook.after_node_run(node)
    hook.after_pipeline_run({}, None, None, None)
    assert hook._seconds["slow_node"] >= 0.05
    printed = capsys.readouterr().out
    assert "slow_node" in printed and "total" in printed
