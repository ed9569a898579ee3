"""The three stages in-process: batch composition, loss falling on a fixed batch, exact resumption."""

import pytest
import torch

from omnivec2.checkpoint import load_trainer_state, load_weights, save_checkpoint
from omnivec2.training.config import TrainConfig
from omnivec2.training.objectives import MaskedItem, SupervisedItem
from omnivec2.training.trainer import StageTrainer
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import CORE, fixed_data

STAGES = ["pretrain_unimodal", "pretrain_multimodal", "train_multitask"]


def trainer_for(stage, steps=40, seed=0, **options):
    config = TrainConfig(stage=stage, steps=steps, batch_size=16, lr=3e-3, warmup_steps=2, seed=seed, **options)
    return StageTrainer(tiny_model(seed), fixed_data(), config)


def test_stage1_switches_modality_every_step():
    trainer = trainer_for("pretrain_unimodal")
    seen = []
    for _ in range(6):
        items, use_cross = trainer.plan()
        assert len(items) == 1 and isinstance(items[0], MaskedItem) and not use_cross
        assert items[0].tokens.shape[0] == 16
        seen.append(items[0].modality)
    assert seen == sorted(CORE) * 2


def test_stage2_pairs_two_modalities_half_the_batch_each():
    trainer = trainer_for("pretrain_multimodal")
    for _ in range(10):
        items, use_cross = trainer.plan()
        assert use_cross and len(items) == 2 and items[0].modality != items[1].modality
        assert [i.tokens.shape[0] for i in items] == [8, 8]


def test_stage3_pairs_tasks_of_different_modalities():
    trainer = trainer_for("train_multitask")
    for _ in range(10):
        items, use_cross = trainer.plan()
        assert all(isinstance(i, SupervisedItem) for i in items)
        assert items[0].modality != items[1].modality and [len(i.target) for i in items] == [8, 8]


@pytest.mark.parametrize("mode", ["joint", "sequential"])
def test_stage3_joint_and_sequential_modes(mode):
    trainer = trainer_for("train_multitask", steps=6, mode=mode)
    items, _ = trainer.plan()
    assert len(items) == (len(trainer.tasks) if mode == "joint" else 1)


@pytest.mark.parametrize("stage", STAGES)
def test_loss_falls_when_overfitting_a_small_fixed_batch(stage):
    trainer = trainer_for(stage, steps=60)
    losses = [trainer.train_step()["loss"] for _ in range(60)]
    first, last = sum(losses[:6]) / 6, sum(losses[-6:]) / 6
    assert last < 0.7 * first, (first, last)


@pytest.mark.parametrize("stage", STAGES)
def test_resuming_from_a_checkpoint_is_exact(stage, tmp_path):
    straight = trainer_for(stage, steps=8)
    for _ in range(8):
        straight.train_step()

    first = trainer_for(stage, steps=8)
    for _ in range(4):
        first.train_step()
    save_checkpoint(tmp_path / "ckpt", first.model, {"step": 4}, first.state_dict())

    resumed = trainer_for(stage, steps=8, seed=0)
    load_weights(resumed.model, tmp_path / "ckpt")
    resumed.load_state_dict(load_trainer_state(tmp_path / "ckpt"))
    assert resumed.step == 4
    for _ in range(4):
        resumed.train_step()
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_freeze_shared_leaves_f_and_g_unchanged():
    trainer = trainer_for("train_multitask", steps=3, freeze_shared=True)
    before = [p.detach().clone() for p in trainer.model.shared_parameters()]
    for _ in range(3):
        trainer.train_step()
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.shared_parameters()))


def test_bad_training_options_name_the_key():
    with pytest.raises(ValueError, match="training.balancing = 'magic'"):
        TrainConfig(stage="train_multitask", balancing="magic")
    with pytest.raises(ValueError, match="unknown training parameters"):
        TrainConfig.from_dict({"stage": "train_multitask", "stpes": 3})


def test_bf16_autocast_trains_with_finite_losses():
    trainer = trainer_for("train_multitask", steps=4, precision="bf16")
    losses = [trainer.train_step()["loss"] for _ in range(4)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())  # master weights stay fp32


@pytest.mark.parametrize("stage", STAGES)
def test_every_modality_trains_in_every_stage(stage):
    """Every registered modality and task (dense, regression, token ids included) in one joint step."""
    config = TrainConfig(stage=stage, steps=2, batch_size=28, mode="joint" if stage != "pretrain_unimodal" else "pairwise")
    trainer = StageTrainer(tiny_model(), fixed_data(rows=4, modalities=None), config)
    for _ in range(2):
        assert torch.isfinite(torch.tensor(trainer.train_step()["loss"]))


def test_point_centres_and_drop_path_train_in_masked_pretraining():
    """Issue 13's point_centres_to_decoder and drop_path switches through the trainer: the masked loss
    of a point-cloud stream falls on a fixed batch and reaches the decoder's centre embedding."""
    config = TrainConfig(stage="pretrain_unimodal", steps=30, batch_size=8, lr=3e-3, warmup_steps=2, seed=0)
    model = tiny_model(0, point_centres_to_decoder=True, drop_path=0.1)
    trainer = StageTrainer(model, fixed_data(rows=8, modalities=("point_cloud",)), config)
    before = model.decoders["point_cloud"].centre_embed[0].weight.detach().clone()
    losses = [trainer.train_step()["loss"] for _ in range(30)]
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5, losses
    assert not torch.equal(trainer.model.decoders["point_cloud"].centre_embed[0].weight, before)


def test_a_non_finite_step_stops_training_naming_the_stage_step_and_item_before_the_weights_change():
    from omnivec2.training.trainer import NonFiniteStep

    trainer = trainer_for("train_multitask", steps=10)
    trainer.train_step()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    forward = trainer.module.forward

    def poisoned(items, **kwargs):  # the second item's loss becomes NaN, as an overflowing head's would
        total, losses = forward(items, **kwargs)
        key = items[1].key
        losses[key] = losses[key] * float("nan")
        return total + losses[key], losses

    trainer.module.forward = poisoned
    with pytest.raises(NonFiniteStep, match=r"train_multitask: step 2 of 10 has a non-finite loss") as raised:
        trainer.train_step()
    assert "nan" in str(raised.value).lower() and "training.lr" in str(raised.value)
    assert trainer.step == 1
    assert all(torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())
