"""One contract, every registered modality (as timm tests every registered model)."""

from __future__ import annotations

import pytest
import torch

from omnivec2.checkpoint import load_model, save_checkpoint
from tests.default_suite import DATASETS
from omnivec2.model.masking import make_mask, num_masked
from omnivec2.model.omnivec2 import Stream
from omnivec2.training.objectives import MaskedItem, StageObjective
from tests.omnivec2.model.helpers import example_tokens, tiny_model

MODALITIES = sorted(DATASETS)
BATCH = 4


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def tokens_for(name: str, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(example_tokens(DATASETS[name], BATCH, seed))


@pytest.mark.parametrize("name", MODALITIES)
def test_token_and_embedding_shapes(model, name):
    tokens = tokens_for(name)
    cfg = model.config.modality(name)
    assert tokens.dtype == torch.float32
    assert tokens.shape == (BATCH, cfg.num_tokens, cfg.token_dim)
    x = model.embed(name, tokens)
    assert x.shape == (BATCH, cfg.num_tokens, model.config.dim_f)
    o = model.forward_stream(Stream(name, tokens))
    assert o.shape == (BATCH, cfg.num_tokens, model.config.dim_g)


@pytest.mark.parametrize("name", MODALITIES)
def test_masked_token_count_matches_ratio(model, name):
    cfg = model.config.modality(name)
    mask = make_mask(cfg.mask_strategy, BATCH, cfg.num_tokens, cfg.mask_ratio, period=cfg.tube_period,
                     generator=torch.Generator().manual_seed(1))
    expected = num_masked(cfg.num_tokens, cfg.mask_ratio)
    assert mask.masked.sum(dim=1).tolist() == [expected] * BATCH
    assert expected == round(cfg.num_tokens * cfg.mask_ratio)
    visible = model.embed(name, tokens_for(name), mask)
    if cfg.mask_strategy != "token":
        assert visible.shape[1] == cfg.num_tokens - expected


@pytest.mark.parametrize("name", MODALITIES)
def test_masked_loss_is_finite_and_reaches_the_tokenizer(name):
    model = tiny_model()
    tokens = tokens_for(name)
    cfg = model.config.modality(name)
    mask = make_mask(cfg.mask_strategy, BATCH, cfg.num_tokens, cfg.mask_ratio, period=cfg.tube_period,
                     generator=torch.Generator().manual_seed(0))
    loss, _ = StageObjective(model)([MaskedItem(name, tokens, mask)], use_cross=False)
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.tokenizer(name).parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)
    assert model.modality_type[cfg.family].grad.abs().sum() > 0


@pytest.mark.parametrize("name", MODALITIES)
def test_task_heads_give_outputs_of_the_declared_size(model, name):
    o = model.forward_stream(Stream(name, tokens_for(name)))
    for task in model.config.modality(name).tasks:
        out = model.predict(name, task.name, o)
        if task.kind == "classification":
            assert out.shape == (BATCH, task.num_classes)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", MODALITIES)
def test_state_dict_round_trip(model, name, tmp_path):
    save_checkpoint(tmp_path / "ckpt", model, {"note": "contract"})
    restored = load_model(tmp_path / "ckpt")
    model.eval(), restored.eval()
    tokens = tokens_for(name)
    assert torch.equal(model.forward_stream(Stream(name, tokens)), restored.forward_stream(Stream(name, tokens)))
    assert not list((tmp_path / "ckpt").glob("*.pt")) and not list((tmp_path / "ckpt").glob("*.pkl"))


@pytest.mark.parametrize("name", MODALITIES)
def test_single_stream_equals_two_streams_without_cross_attention(model, name):
    """Inference drops A; because A is residual this must equal the paired path with A switched off."""
    model.eval()
    partner = next(m for m in MODALITIES if m != name)
    a, b = Stream(name, tokens_for(name)), Stream(partner, tokens_for(partner, seed=1))
    single = model.forward_stream(a)
    paired, _ = model.forward_pair(a, b, use_cross=False)
    assert torch.allclose(single, paired, atol=1e-6)
    with_cross, _ = model.forward_pair(a, b, use_cross=True)
    assert not torch.allclose(single, with_cross, atol=1e-4)  # A really does something in training
