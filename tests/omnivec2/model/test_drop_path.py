"""Drop path (stochastic depth, `model.overrides.drop_path`, issue 13): eval mode is the network
without it; training drops whole residual branches per sample."""

import pytest
import torch

from omnivec2.model.blocks import Block, DropPath, Transformer
from omnivec2.model.omnivec2 import Stream
from tests.default_suite import DATASETS
from tests.omnivec2.model.helpers import example_tokens, tiny_model


def test_eval_mode_is_unchanged():
    plain, dropping = tiny_model(0).eval(), tiny_model(0, drop_path=0.5).eval()
    for name, weight in plain.state_dict().items():
        assert torch.equal(dropping.state_dict()[name], weight), name
    tokens = torch.from_numpy(example_tokens(DATASETS["image"], 4)).float()
    with torch.no_grad():
        assert torch.equal(plain.forward_stream(Stream("image", tokens)), dropping.forward_stream(Stream("image", tokens)))


def test_at_rate_zero_training_draws_no_random_number_and_changes_nothing():
    torch.manual_seed(0)
    block = Block(8, 2).train()
    x = torch.randn(4, 5, 8)
    state = torch.get_rng_state()
    out = block(x)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(out, block.eval()(x))


def test_train_mode_drops_residual_branches_per_sample():
    """Each sample's branch output is either zero or the branch scaled by 1 / (1 - rate)."""
    torch.manual_seed(0)
    drop = DropPath(0.5).train()
    branch = torch.randn(64, 5, 8) + 3.0  # no exact zeros
    out = drop(branch)
    dropped = (out == 0).all(dim=(1, 2))
    kept = torch.isclose(out, branch * 2.0).all(dim=(1, 2))
    assert (dropped | kept).all()
    assert 10 < int(dropped.sum()) < 54  # some of each, per sample
    assert torch.equal(drop.eval()(branch), branch)


def test_a_dropped_sample_passes_through_its_block_unchanged():
    """At a rate near 1 every branch is dropped: the block is the identity for every sample."""
    torch.manual_seed(0)
    block = Block(8, 2, drop_path=0.999999).train()
    x = torch.randn(6, 5, 8)
    out = block(x)
    assert torch.equal(out, x)
    assert not torch.equal(block.eval()(x), x)  # the branches themselves are not zero


def test_the_rate_rises_linearly_to_the_last_block():
    stack = Transformer(8, 4, 2, drop_path=0.2)
    assert [b.drop_path.rate for b in stack.blocks] == pytest.approx([0.05, 0.1, 0.15, 0.2])
    assert [b.drop_path.rate for b in tiny_model(0, drop_path=0.2).f.blocks] == pytest.approx([0.2])


def test_a_rate_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="drop_path"):
        DropPath(1.0)
