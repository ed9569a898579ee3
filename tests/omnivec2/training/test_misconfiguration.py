"""Every misconfiguration a user can write in conf/ stops the stage before Ray starts, with a message
that names the key (or the file)."""

from __future__ import annotations

import re

import pytest

from omnivec2.data.sources.common import SourceError
from tests.default_suite import manifest_for
from omnivec2.tokens.shards import CorruptCacheError
from omnivec2.training.launch import check_ray_params, run_stage_on_ray
from omnivec2.training.stage_runner import stage_launch

MANIFESTS = [manifest_for("tabular", [13, 2], cache_key="a"), manifest_for("imu", [5, 120], cache_key="b")]
GOOD_TRAINING = {"steps": 4, "batch_size": 8}


RAY = {"num_workers": 0, "storage_path": "/tmp/unused"}


def configure(stage_params=None, model_params=None, stage="pretrain_multimodal", cache="/nonexistent/tokens",
              previous=None, ray_params=RAY):
    stage_params = {"training": GOOD_TRAINING} if stage_params is None else stage_params
    return stage_launch(stage, stage_params, {"preset": "tiny"} if model_params is None else model_params,
                        cache, MANIFESTS, previous, None, ray_params)


CASES = {
    "unknown training key": (
        lambda: configure({"training": {**GOOD_TRAINING, "stpes": 3}}),
        "pretrain_multimodal: unknown training parameters ['stpes'] (did you mean 'stpes' -> 'steps'?); valid: "),
    "bad choice": (
        lambda: configure({"training": {"balancing": "magic"}}, stage="train_multitask"),
        "train_multitask: training.balancing = 'magic' is not one of ['dwa', 'equal', 'uncertainty']"),
    "YAML 1e-3 read as text": (
        lambda: configure({"training": {"lr": "1e-3"}}),
        "pretrain_multimodal: training.lr = '1e-3' is str, expected a number (YAML reads 1e-3 as text: write 1.0e-3)"),
    "float step count": (
        lambda: configure({"training": {"steps": 12.5}}),
        "pretrain_multimodal: training.steps = 12.5 is float, expected an integer"),
    "non-positive value": (
        lambda: configure({"training": {"checkpoint_every": 0}}),
        "pretrain_multimodal: training.checkpoint_every must be >= 1, got 0"),
    "typo in a stage key": (
        lambda: configure({"trainng": GOOD_TRAINING}),
        "pretrain_multimodal: unknown key(s) ['trainng'] (did you mean 'trainng' -> 'training'?)"),
    "unknown modality for a stage": (
        lambda: configure({"training": GOOD_TRAINING, "modalities": ["tabular", "imagez"]}),
        "pretrain_multimodal.modalities names ['imagez'], which have no token cache"),
    "modalities as a string": (
        lambda: configure({"training": GOOD_TRAINING, "modalities": "tabular"}),
        "pretrain_multimodal.modalities must be a list of modality names, got 'tabular'"),
    "bad preset": (
        lambda: configure(model_params={"preset": "huge"}),
        "model.preset: unknown model preset 'huge'; choose one of ['base', 'cpu', 'tiny']"),
    "unknown model option": (
        lambda: configure(model_params={"preset": "tiny", "overrides": {"dimf": 32}}),
        "model.overrides: unknown model options ['dimf']"),
    "unknown modality override": (
        lambda: configure(model_params={"preset": "tiny", "modalities": {"imagez": {"mask_ratio": 0.5}}}),
        "model.modalities names ['imagez'], which are not among the cached datasets ['imu', 'tabular']"),
    "typo in a model key": (
        lambda: configure(model_params={"preset": "tiny", "overide": {}}),
        "model: unknown key(s) ['overide'] (did you mean 'overide' -> 'overrides'?)"),
    "negative worker count": (
        lambda: check_ray_params({"num_workers": -1, "storage_path": "/tmp/x"}),
        "ray.num_workers = -1: expected an integer >= 0 (0 = local mode, no worker actors)"),
    "worker count as text, given to the stage": (
        lambda: configure(ray_params={**RAY, "num_workers": "2"}),
        "ray.num_workers = '2': expected an integer >= 0"),
    "a fault drill without a step": (
        lambda: configure(ray_params={**RAY, "fault_injection": {"action": "sigkill"}}),
        "fault_injection needs at_step and an action in ['sigkill', 'exit', 'raise', 'pause']"),
    "max_failures as text": (
        lambda: check_ray_params({"max_failures": "3", "storage_path": "/tmp/x"}),
        "ray.max_failures = '3': expected an integer >= -1 (-1 = retry forever)"),
    "missing token cache": (
        lambda: run_stage_on_ray(configure(), "/tmp/unused-out", RAY),
        "/nonexistent/tokens/tabular/manifest.json: no token-cache manifest (the cache was never built, or a build was interrupted)"),
    "missing previous checkpoint": (
        lambda: run_stage_on_ray(configure(previous={"checkpoint": "/nonexistent/ckpt"}), "/tmp/unused-out", RAY),
        "pretrain_multimodal: the previous stage's checkpoint /nonexistent/ckpt/model.safetensors does not exist; "
        "run the previous stage first"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_misconfiguration_is_refused_naming_the_key(case):
    make, message = CASES[case]
    with pytest.raises((ValueError, SourceError, CorruptCacheError, FileNotFoundError), match=re.escape(message)):
        make()


def test_a_good_configuration_passes():
    launch = configure()
    assert launch.modalities == ("tabular", "imu") and launch.train.steps == 4 and launch.local_mode


def test_all_training_parameters_can_be_checked_up_front():
    """What a run-start hook can call: the conf/base parameters pass, a typo in stage 3 is caught."""
    import yaml

    from omnivec2.training.stage_runner import check_training_parameters
    from tests.pipelines.conftest import PROJECT

    params = {}
    for path in sorted((PROJECT / "conf" / "base").glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    check_training_parameters(params)
    params["train_multitask"] = {**params["train_multitask"], "training": {"balancing": "dwa", "dwa_windw": 4}}
    with pytest.raises(ValueError, match=re.escape("train_multitask: unknown training parameters ['dwa_windw'] "
                                                   "(did you mean 'dwa_windw' -> 'dwa_window'?)")):
        check_training_parameters(params)


def test_augment_may_only_name_configured_datasets_and_augmentation_kinds():
    import yaml

    from omnivec2.training.stage_runner import check_training_parameters
    from tests.pipelines.conftest import PROJECT

    params = {}
    for path in sorted((PROJECT / "conf" / "base").glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    stage3 = params["train_multitask"]
    params["train_multitask"] = {**stage3, "training": {**stage3["training"], "augment": ["audio", "rotation"]}}
    check_training_parameters(params)
    params["train_multitask"] = {**stage3, "training": {**stage3["training"], "augment": ["audoi"]}}
    with pytest.raises(ValueError, match=re.escape("train_multitask: training.augment names ['audoi'], which are "
                                                   "neither configured datasets nor augmentation kinds (did you mean "
                                                   "'audoi' -> 'audio'?)")):
        check_training_parameters(params)


def test_the_contrastive_term_with_nothing_paired_stops_the_run_before_stage_1():
    import yaml

    from omnivec2.training.stage_runner import check_training_parameters
    from tests.pipelines.conftest import PROJECT

    params = {}
    for path in sorted((PROJECT / "conf" / "base").glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    stage3 = params["train_multitask"]
    params["train_multitask"] = {**stage3, "training": {**stage3["training"], "contrastive_weight": 1.0}}
    check_training_parameters(params)  # the default suite pairs rgb with infrared
    params["datasets"] = {name: {k: v for k, v in entry.items() if k != "paired_with"}
                          for name, entry in params["datasets"].items()}
    with pytest.raises(ValueError, match=re.escape("train_multitask: training.contrastive_weight is 1.0, but no "
                                                   "dataset is paired with another (datasets: ['audio', ")):
        check_training_parameters(params)
