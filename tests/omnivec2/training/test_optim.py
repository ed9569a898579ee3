"""The optimiser's switches: parameter groups without weight decay, and a learning-rate scale for the
pretrained shared parts."""

import pytest
import torch
import torch.nn.functional as F

from omnivec2.model.heads import task_loss
from omnivec2.training.config import TrainConfig
from omnivec2.training.optim import build_optimizer
from tests.omnivec2.model.helpers import tiny_model


def stage3(**options) -> TrainConfig:
    return TrainConfig(stage="train_multitask", lr=1.0e-3, weight_decay=0.05, **options)


def groups_of(model, config):
    optimizer = build_optimizer(model, model.shared_parameters(), config, list(model.heads.parameters()))
    names = {id(p): n for n, p in model.named_parameters()}
    return [({names[id(p)] for p in g["params"]}, g["weight_decay"], g["lr"]) for g in optimizer.param_groups]


def test_by_default_one_group_decays_everything_at_one_rate():
    model = tiny_model(0)
    [(names, decay, lr)] = groups_of(model, stage3())
    assert names == {n for n, _ in model.named_parameters()} and decay == 0.05 and lr == 1.0e-3


def test_norms_biases_and_embeddings_are_not_decayed_with_groups():
    model = tiny_model(0)
    undecayed = set().union(*[names for names, decay, _ in groups_of(model, stage3(weight_decay_groups=True))
                              if decay == 0.0])
    assert "f.norm.weight" in undecayed and "f.blocks.0.attn.q.bias" in undecayed
    assert "mask_embedding" in undecayed and any(n.startswith("modality_type.") for n in undecayed)
    assert any(n.startswith("positions.") for n in undecayed)
    assert "decoders.image.pos" in undecayed and "decoders.image.mask_token" in undecayed
    assert any(n.endswith(".type_embedding") for n in undecayed)
    assert not any(n.endswith(".ids.weight") for n in undecayed)  # the text vocabulary is decayed, as in BERT
    assert "f.blocks.0.attn.q.weight" not in undecayed and "f.blocks.0.mlp.fc1.weight" not in undecayed


def test_shared_lr_scale_applies_to_f_fc_a_g_and_fuse_only():
    model = tiny_model(0)
    shared = {n for n, p in model.named_parameters() if any(p is q for q in model.shared_parameters())}
    for names, _, lr in groups_of(model, stage3(shared_lr_scale=0.1)):
        assert lr == pytest.approx(1.0e-4 if names <= shared else 1.0e-3)
        assert names <= shared or not names & shared


def test_head_lr_scale_applies_to_the_task_heads_only():
    model = tiny_model(0)
    heads = {f"heads.{n}" for n, _ in model.heads.named_parameters()}
    groups = groups_of(model, stage3(head_lr_scale=10.0, shared_lr_scale=0.5))
    assert all(lr == pytest.approx(1.0e-2) for names, _, lr in groups if names <= heads)
    assert set().union(*[names for names, _, lr in groups if lr == pytest.approx(1.0e-2)]) == heads
    with pytest.raises(ValueError, match="training.head_lr_scale must be > 0, got 0"):
        stage3(head_lr_scale=0)


def test_label_smoothing_is_torch_s_on_classification_only():
    logits, target = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    assert torch.equal(task_loss("classification", logits, target, label_smoothing=0.1),
                       F.cross_entropy(logits, target, label_smoothing=0.1))
    assert task_loss("classification", logits, target) == F.cross_entropy(logits, target)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\)"):
        stage3(label_smoothing=1.0)
