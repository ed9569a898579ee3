import torch

from omnivec2.ablations.runner import train_run, variant_stages
from omnivec2.ablations.variants import variant_by_name
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
