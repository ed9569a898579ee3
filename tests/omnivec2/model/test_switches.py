"""The network's switchable choices for learning (issue 13): each leaves the default network as it was
and does what it says when on."""

import pytest
import torch

from omnivec2.model.omnivec2 import Stream
from tests.default_suite import DATASETS
from tests.omnivec2.model.helpers import example_tokens, graph_with_noisy_padding, tiny_model


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


def test_padding_tokens_do_not_change_a_pooled_output_with_the_key_padding_mask():
    from omnivec2.evaluation.metrics import predict_task

    tokens, noisy = graph_with_noisy_padding()
    masked = tiny_model(0, key_padding_mask=True)
    task = DATASETS["graph"].tasks[0].name
    assert torch.allclose(predict_task(masked, "graph", task, tokens), predict_task(masked, "graph", task, noisy),
                          atol=1e-5)
    plain = tiny_model(0)  # without the mask, the padding's content leaks into the prediction
    assert not torch.allclose(predict_task(plain, "graph", task, tokens), predict_task(plain, "graph", task, noisy),
                              atol=1e-5)


def test_pooling_averages_only_the_tokens_that_are_not_padding():
    from omnivec2.model.heads import pool

    features = torch.arange(12.0).view(1, 4, 3)
    padding = torch.tensor([[False, False, True, True]])
    assert torch.equal(pool(features, padding), features[:, :2].mean(dim=1))
    assert torch.equal(pool(features, None), features.mean(dim=1))


def test_text_padding_is_detected_and_a_hidden_pad_is_not_scored():
    """[PAD] positions are padding; masked-token prediction scores only hidden tokens that are not [PAD]."""
    from omnivec2.model.masking import make_mask
    from omnivec2.training.objectives import MaskedItem, StageObjective

    tokens = _tokens("text", 4)
    model = tiny_model(0, key_padding_mask=True)
    pad = model.token_padding("text", tokens)
    assert pad.any() and not pad[:, 0].any()  # [CLS] first, [PAD] at the end
    mask = make_mask("token", 4, tokens.shape[1], 0.5, generator=torch.Generator().manual_seed(0))
    mask.masked |= pad  # hide every pad too: with the switch, they add nothing to the loss
    objective = StageObjective(model)
    _, with_pads = objective([MaskedItem("text", tokens, mask)], use_cross=False)
    mask.masked &= ~pad
    _, without = objective([MaskedItem("text", tokens, mask)], use_cross=False)
    assert torch.allclose(with_pads["text"], without["text"])


def test_a_batch_normalised_pooled_head_ignores_what_every_sample_shares():
    """head_norm="batch": an offset common to the whole batch leaves the training-mode logits as
    they were (a per-sample LayerNorm keeps it); eval mode uses the running statistics."""
    from omnivec2.model.heads import PooledHead, build_head
    from omnivec2.model.config import TaskConfig

    task = TaskConfig("object", "classification", 5)
    torch.manual_seed(0)
    batch, layer = build_head(task, 8, "batch"), build_head(task, 8, "layer")
    features = torch.randn(6, 3, 8)
    shared = torch.randn(8) * 10
    assert isinstance(batch, PooledHead) and isinstance(batch.norm, torch.nn.BatchNorm1d)
    assert torch.allclose(batch(features), batch(features + shared), atol=1e-4)
    assert not torch.allclose(layer(features), layer(features + shared), atol=1e-2)
    assert batch(features[:1]).shape == (1, 5)  # a training batch of one (joint mode, many tasks) still works
    batch.eval()
    assert torch.allclose(batch(features[:1]), batch(features)[:1], atol=1e-6)  # per sample at test time
    model = tiny_model(0, head_norm="batch")
    assert any(name.endswith("norm.running_mean") for name in model.state_dict() if name.startswith("heads."))


def test_flattened_heads_read_every_token_of_ordered_streams_only():
    """head_pooling="flatten": a classification head of a grid or table reads [B, N * D] (token i at
    its own weights, so moving content between tokens changes the output, which a mean cannot see);
    point clouds, graphs, regression and dense heads keep what they had; padding reads as zeros."""
    import pytest

    from omnivec2.model.omnivec2 import head_key

    flat, mean = tiny_model(0, head_pooling="flatten"), tiny_model(0)
    d = flat.config.dim_g
    for stream, task, tokens in (("image", "digit", flat.config.modality("image").num_tokens), ("point_cloud", "object", 0),
                                 ("graph", "solubility", 0), ("tabular_regression", "progression", 0)):
        head = flat.heads[head_key(stream, task)]
        assert head.tokens == tokens and head.out.in_features == d * max(tokens, 1), stream
    assert flat.heads[head_key("depth", "object_mask")].out.in_features == d  # dense: per token as before
    head = flat.heads[head_key("image", "digit")].eval()
    features = torch.randn(2, head.tokens, d)
    swapped = features[:, torch.roll(torch.arange(head.tokens), 1)]
    assert not torch.allclose(head(features), head(swapped))
    pooled = mean.heads[head_key("image", "digit")].eval()
    assert torch.allclose(pooled(features), pooled(swapped), atol=1e-5)
    padding = torch.zeros(2, head.tokens, dtype=torch.bool)
    padding[:, -3:] = True
    cleared = features.clone()
    cleared[:, -3:] = 0
    assert torch.equal(head(features, padding), head(cleared))
    with pytest.raises(ValueError, match="head_pooling must be 'mean', 'flatten', 'flatten_scaled' or 'select'"):
        tiny_model(0, head_pooling="max")


def test_a_scaled_flattened_head_outputs_the_same_and_sends_back_one_nth_of_the_gradient():
    from omnivec2.model.omnivec2 import head_key

    flat, scaled = tiny_model(0, head_pooling="flatten"), tiny_model(0, head_pooling="flatten_scaled")
    assert torch.equal(flat.heads[head_key("image", "digit")].out.weight, scaled.heads[head_key("image", "digit")].out.weight)
    n = flat.config.modality("image").num_tokens
    features = torch.randn(4, n, flat.config.dim_g)
    grads = []
    for model in (flat, scaled):
        x = features.clone().requires_grad_(True)
        out = model.heads[head_key("image", "digit")].train()(x)
        out.square().sum().backward()
        grads.append((out.detach(), x.grad))
    assert torch.equal(grads[0][0], grads[1][0])
    assert torch.allclose(grads[1][1] * n, grads[0][1], rtol=1e-4, atol=1e-6)
    # the head's own weights learn as a flattened head's do
    assert torch.allclose(flat.heads[head_key("image", "digit")].out.weight.grad,
                          scaled.heads[head_key("image", "digit")].out.weight.grad)
    assert scaled.heads[head_key("tabular_regression", "progression")].scaled_gradient is False


def test_an_unknown_head_norm_is_refused_with_the_task():
    import pytest

    from omnivec2.model.config import TaskConfig
    from omnivec2.model.heads import build_head

    with pytest.raises(ValueError, match="task 'object': head_norm must be 'layer' or 'batch', got 'group'"):
        build_head(TaskConfig("object", "classification", 5), 8, "group")


def test_a_batch_normalised_dense_head_normalises_over_every_token_of_the_batch():
    from omnivec2.model.config import TaskConfig
    from omnivec2.model.heads import DenseHead, build_head

    torch.manual_seed(0)
    head = build_head(TaskConfig("mask", "dense", 3, outputs_per_token=4), 8, "batch")
    features = torch.randn(2, 5, 8)
    assert isinstance(head, DenseHead) and head(features).shape == (2, 5, 4, 3)
    assert torch.allclose(head(features), head(features + torch.randn(8) * 10), atol=1e-4)


def test_a_dropped_a_is_the_single_stream_path_and_only_in_training():
    """cross_drop = 1: every sample of a training pair skips A, so the pair path equals the test-time
    single-stream path; in eval mode A always applies; 0.5 drops some samples and keeps others."""
    a, b = Stream("image", _tokens("image")), Stream("tabular", _tokens("tabular"))
    always = tiny_model(0, cross_drop=1.0).train()
    with torch.no_grad():
        paired, _ = always.forward_pair(a, b)
        assert torch.allclose(paired, always.forward_stream(a), atol=1e-6)
        always.eval()
        assert not torch.allclose(always.forward_pair(a, b)[0], always.forward_stream(a))
        half = tiny_model(0, cross_drop=0.5).train()
        many_a, many_b = Stream("image", _tokens("image", 16)), Stream("tabular", _tokens("tabular", 16))
        torch.manual_seed(0)
        paired = half.forward_pair(many_a, many_b)[0]
        alone = half.forward_stream(many_a)
    same = torch.isclose(paired, alone, atol=1e-6).flatten(1).all(1)
    assert same.any() and not same.all()
    with pytest.raises(ValueError, match="cross_drop: a probability in"):
        tiny_model(0, cross_drop=1.5)
