"""Point-MAE centre conditioning (`point_centres_to_decoder`, issue 13): off, the network is the
default one bit for bit; on, the decoder is told each masked group's centre and the centre leaves
the reconstruction target."""

import pytest
import torch

from omnivec2.model.decoder import value_weights
from omnivec2.model.masking import make_mask
from omnivec2.model.omnivec2 import Stream
from tests.default_suite import DATASETS
from tests.omnivec2.model.helpers import example_tokens, tiny_model

STREAM = "point_cloud"


def _batch(count: int = 3):
    tokens = torch.from_numpy(example_tokens(DATASETS[STREAM], count)).float()  # [B, G, k*3 + 3]
    generator = torch.Generator().manual_seed(0)
    mask = make_mask("random", count, tokens.shape[1], 0.6, generator=generator)
    return tokens, mask


def _prediction(model, tokens, mask) -> torch.Tensor:
    with torch.no_grad():
        features = model.forward_stream(Stream(STREAM, tokens, mask))
        return model.reconstruct(STREAM, features, mask, tokens)  # [B, G, k*3 + 3]


def test_off_the_network_and_its_decoder_output_are_the_default_bit_for_bit():
    default, off = tiny_model(0), tiny_model(0, point_centres_to_decoder=False)
    assert default.state_dict().keys() == off.state_dict().keys()
    for name, weight in default.state_dict().items():
        assert torch.equal(off.state_dict()[name], weight), name
    tokens, mask = _batch()
    assert torch.equal(_prediction(default.eval(), tokens, mask), _prediction(off.eval(), tokens, mask))


def test_on_only_point_cloud_decoders_gain_a_centre_embedding():
    default, on = tiny_model(0).state_dict(), tiny_model(0, point_centres_to_decoder=True).state_dict()
    added = set(on) - set(default)
    assert added and all(k.startswith(f"decoders.{STREAM}.centre_embed.") for k in added)
    assert set(default) <= set(on)


def test_on_a_masked_groups_centre_changes_the_prediction_for_that_group_only_through_the_decoder():
    model = tiny_model(0, point_centres_to_decoder=True).eval()
    tokens, mask = _batch()
    before = _prediction(model, tokens, mask)
    sample, group = 0, int(mask.masked[0].nonzero()[0])
    moved = tokens.clone()
    moved[sample, group, -3:] += 0.5  # the hidden group's centre moves; the encoder never sees it
    with torch.no_grad():
        assert torch.equal(model.forward_stream(Stream(STREAM, tokens, mask)),
                           model.forward_stream(Stream(STREAM, moved, mask)))
    after = _prediction(model, moved, mask)
    assert not torch.allclose(after[sample, group], before[sample, group])
    assert torch.equal(after[1:], before[1:])  # other samples are untouched


def test_off_a_masked_groups_centre_does_not_reach_the_decoder():
    model = tiny_model(0).eval()
    tokens, mask = _batch()
    sample, group = 0, int(mask.masked[0].nonzero()[0])
    moved = tokens.clone()
    moved[sample, group, -3:] += 0.5
    assert torch.equal(_prediction(model, tokens, mask), _prediction(model, moved, mask))


def test_on_the_centre_is_not_a_reconstruction_target():
    stream = tiny_model(0).config.modality(STREAM)
    weights = value_weights(stream, centres_given=True)  # [G, k*3 + 3]
    assert weights.shape == (stream.num_tokens, stream.token_dim)
    assert not weights[:, -3:].any() and weights[:, :-3].all()
    assert value_weights(stream) is None  # off: every value is a target, as before
    image = tiny_model(0).config.modality("image")
    assert value_weights(image, centres_given=True) is None  # other streams keep their targets


def test_on_the_masked_loss_trains_the_centre_embedding():
    from omnivec2.training.objectives import MaskedItem, StageObjective

    model = tiny_model(0, point_centres_to_decoder=True)
    tokens, mask = _batch()
    objective = StageObjective(model)
    _, losses = objective([MaskedItem(STREAM, tokens, mask)])
    losses[STREAM].backward()
    assert torch.isfinite(losses[STREAM])
    grad = model.decoders[STREAM].centre_embed[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_a_stream_without_centres_refuses_the_switch_on_its_own_decoder():
    from omnivec2.model.decoder import MaskedDecoder

    image = tiny_model(0).config.modality("image")
    with pytest.raises(ValueError, match="mini_pointnet"):
        MaskedDecoder(image, 8, 8, 1, 2, centres=True)


def test_on_an_error_in_the_centres_alone_costs_nothing():
    from omnivec2.model.decoder import reconstruction_loss

    stream = tiny_model(0).config.modality(STREAM)
    tokens, mask = _batch()
    pred = tokens.clone()
    pred[..., -3:] += 1.0  # wrong centres, right relative points
    weights = value_weights(stream, centres_given=True)
    assert float(reconstruction_loss(pred, tokens, mask.masked, False, "mse", weights)) == 0.0
    assert float(reconstruction_loss(pred, tokens, mask.masked, False, "mse", None)) > 0.0
