import pytest
import torch

from omnivec2.ablations.runner import stage3_pairs, train_run, variant_stages
from omnivec2.ablations.variants import variant_by_name
from omnivec2.training.contrastive import PairedRows
from tests.omnivec2.model.helpers import model_config
from tests.omnivec2.training.helpers import fixed_data

SETTINGS = {stage: {"batch_size": 4, "lr": 1e-3, "warmup_steps": 1, "log_every": 1, "val_every": 0}
            for stage in ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")}
STEPS = {"pretrain_unimodal": 2, "pretrain_multimodal": 2, "train_multitask": 3}


def weights(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_a_run_reseeds_every_stage_so_it_can_resume_from_the_previous_stages_weights():
    """Each stage starts from a freshly seeded network holding the previous stage's weights, as the
    pipeline's stages do through checkpoints: stage 3 run on its own from stages 1-2's weights gives
    the whole run's network, and the same seed gives the same network."""
    config, data = model_config("tiny"), fixed_data(rows=8)
    stages = variant_stages(variant_by_name("full"), 0, SETTINGS, STEPS)
    whole = weights(train_run(config, stages, data, 0, log=lambda line: None))
    assert all(torch.equal(whole[k], v) for k, v in weights(train_run(config, stages, data, 0, log=lambda line: None)).items())
    first_two = train_run(config, {s: stages[s] for s in ("pretrain_unimodal", "pretrain_multimodal")}, data, 0,
                          log=lambda line: None)
    resumed = weights(train_run(config, {"train_multitask": stages["train_multitask"]}, data, 0, log=lambda line: None,
                                initial=first_two.state_dict()))
    assert all(torch.equal(whole[k], v) for k, v in resumed.items())
    other_seed = weights(train_run(config, variant_stages(variant_by_name("full"), 1, SETTINGS, STEPS), data, 1,
                                   log=lambda line: None))
    assert any(not torch.equal(whole[k], v) for k, v in other_seed.items())


def test_a_variants_stages_carry_equal_compute_and_its_stage_3_overrides():
    none = variant_stages(variant_by_name("no pretraining"), 2, SETTINGS, STEPS)
    assert list(none) == ["train_multitask"] and none["train_multitask"]["steps"] == 7 and none["train_multitask"]["seed"] == 2
    joint = variant_stages(variant_by_name("joint training"), 0, SETTINGS, STEPS)
    assert joint["train_multitask"]["mode"] == "joint" and "mode" not in joint["pretrain_unimodal"]
    assert [joint[s]["steps"] for s in joint] == [2, 2, 3]


def test_the_contrastive_term_trains_with_the_pairs_given_and_is_refused_without_them():
    """Until the runner passed them, a screen of `contrastive_weight` trained without the term (the
    trainer turns it off when no pairs reach it) and looked like a measurement of it."""
    config, data = model_config("tiny"), fixed_data(rows=16)
    stages = {"train_multitask": {**SETTINGS["train_multitask"], "steps": 3, "contrastive_weight": 1.0}}
    with pytest.raises(ValueError, match="contrastive_weight is 1.0, but no paired train rows reach stage 3"):
        train_run(config, stages, data, 0, log=lambda line: None)
    pairs = [PairedRows("imu", "tabular", torch.arange(16), torch.arange(16))]
    with_term = weights(train_run(config, stages, data, 0, log=lambda line: None, pairs=pairs))
    off = {"train_multitask": {**stages["train_multitask"], "contrastive_weight": 0.0}}
    without = weights(train_run(config, off, data, 0, log=lambda line: None))
    assert any(not torch.equal(with_term[k], without[k]) for k in without)


def test_stage3_pairs_reads_a_screens_settings_as_the_pipelines_workers_read_their_config(monkeypatch):
    seen = []
    monkeypatch.setattr("omnivec2.ablations.runner.stage3_paired_rows",
                        lambda train, root, modalities: seen.append((train, root, modalities)) or ["rows"])
    settings = {"contrastive_weight": 1.0, "steps": 5,
                "contrastive_pairs": [{"a": "rgb", "b": "ir", "marker_a": "-rgb", "marker_b": "-ir"}]}
    assert stage3_pairs(settings, "cache", ["ir", "rgb"]) == ["rows"]
    ((train, root, modalities),) = seen
    assert (train.stage, train.steps, train.contrastive_weight, root, modalities) == ("train_multitask", 5, 1.0, "cache", ["ir", "rgb"])
    assert train.contrastive_pairs == tuple(settings["contrastive_pairs"])
