"""The network's switchable choices and the unseen-modality adaptation (paper section 4.4)."""

import pytest
import torch

from omnivec2.model import ModelConfig, OmniVec2, preset
from omnivec2.model.config import ModalityConfig, TaskConfig
from omnivec2.model.omnivec2 import Stream
from tests.omnivec2.model.helpers import model_config, tiny_model


@pytest.mark.parametrize("fuse", ["add", "concat", "gate", "none"])
@pytest.mark.parametrize("tokenizer", ["specific", "unified"])
@pytest.mark.parametrize("cross", [True, False])
def test_every_ablation_switch_builds_and_runs(fuse, tokenizer, cross):
    model = tiny_model(fuse=fuse, tokenizer=tokenizer, cross_attention=cross)
    a = Stream("image", torch.rand(2, 16, 4))
    b = Stream("tabular", torch.rand(2, 13, 2))
    o_a, o_b = model.forward_pair(a, b)
    assert o_a.shape == (2, 16, 48) and o_b.shape == (2, 13, 48)
    assert (model.cross is None) == (not cross)
    assert (len(model.embeddings) == 0) == (tokenizer == "unified")


def test_unified_tokenizer_shares_one_embedding():
    specific, unified = tiny_model(), tiny_model(tokenizer="unified")
    count = lambda m: sum(p.numel() for p in m.parameters())
    assert count(unified) < count(specific)


def test_config_round_trips_through_json_data():
    config = model_config("cpu", fuse="gate")
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_presets_have_the_documented_sizes():
    sizes = {name: sum(p.numel() for p in OmniVec2(model_config(name)).parameters()) for name in ("tiny", "cpu")}
    assert sizes["tiny"] < sizes["cpu"]
    base = preset("base")
    assert (base.dim_f, base.depth_f) == (768, 12)


def test_unknown_preset_or_option_names_the_key():
    with pytest.raises(ValueError, match="unknown model preset 'huge'"):
        preset("huge")
    with pytest.raises(ValueError, match="unknown model options"):
        preset("tiny", widht=3)


def test_adapting_to_an_unseen_modality_trains_only_its_own_parameters():
    model = tiny_model()
    shared_before = [p.detach().clone() for p in model.shared_parameters()]
    new = ModalityConfig("spectra", num_tokens=8, token_dim=5, tasks=(TaskConfig("origin", "classification", 3),))
    model.add_modality(new)
    for p in model.shared_parameters():
        p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-2)
    tokens, target = torch.randn(6, 8, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(
            model.predict("spectra", "origin", model.forward_stream(Stream("spectra", tokens))), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(shared_before, model.shared_parameters()))
    assert model.tokenizer("spectra").proj.weight.grad is not None
    assert "spectra" in [m.name for m in model.config.modalities]


def test_token_id_reconstruction_is_cross_entropy_over_the_vocabulary():
    from omnivec2.model.decoder import reconstruction_loss

    ids = torch.tensor([[[3.0], [1.0], [4.0]]])  # [B=1, N=3, 1]
    masked = torch.tensor([[True, False, True]])
    logits = torch.full((1, 3, 5), -10.0)
    logits[0, 0, 3] = logits[0, 2, 4] = 10.0  # right on both masked tokens
    assert float(reconstruction_loss(logits, ids, masked, False, "token_ce")) < 1e-6
    logits[0, 2, 4], logits[0, 2, 0] = -10.0, 10.0  # wrong on one masked token
    wrong_once = float(reconstruction_loss(logits, ids, masked, False, "token_ce"))
    assert wrong_once > 5.0
    logits[0, 1] = torch.randn(5) * 10  # the visible token does not count
    assert float(reconstruction_loss(logits, ids, masked, False, "token_ce")) == pytest.approx(wrong_once)
