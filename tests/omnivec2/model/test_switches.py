"""The network's switchable choices for learning (issue 13): each leaves the default network as it was
and does what it says when on."""

import torch

from omnivec2.model.omnivec2 import Stream
from tests.default_suite import DATASETS
from tests.omnivec2.model.helpers import example_tokens, tiny_model


def _tokens(name: str, count: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(example_tokens(DATASETS[name], count, seed)).float()


def test_the_zero_initialised_gate_leaves_single_stream_output_unchanged_at_initialisation():
    """With the gate at 0, the pair path (training) equals the single-stream path (test) exactly;
    once the gate opens, the partner changes the output."""
    model = tiny_model(0, cross_gate=True).eval()
    a, b = Stream("image", _tokens("image")), Stream("tabular", _tokens("tabular"))
    with torch.no_grad():
        paired, _ = model.forward_pair(a, b)
        alone = model.forward_stream(a)
        assert torch.equal(paired, alone)
        model.cross.gate.fill_(0.5)
        opened, _ = model.forward_pair(a, b)
    assert not torch.allclose(opened, alone)
    assert "cross.gate" in model.state_dict()


def test_without_the_gate_a_changes_the_pair_path_from_the_first_step():
    model = tiny_model(0).eval()
    a, b = Stream("image", _tokens("image")), Stream("tabular", _tokens("tabular"))
    with torch.no_grad():
        assert not torch.allclose(model.forward_pair(a, b)[0], model.forward_stream(a))
    assert "cross.gate" not in model.state_dict()


def test_head_init_scale_shrinks_only_the_heads_output_layers():
    plain, small = tiny_model(0), tiny_model(0, head_init_scale=0.001)
    for name, weight in plain.state_dict().items():
        if name.startswith("heads.") and name.endswith(".out.weight"):
            assert torch.allclose(small.state_dict()[name], weight * 0.001), name
        else:
            assert torch.equal(small.state_dict()[name], weight), name
