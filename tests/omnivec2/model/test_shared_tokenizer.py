"""Datasets of one modality share its learnable tokenizer half where their token shapes allow it;
positions, decoders and heads stay per dataset."""

from __future__ import annotations

import torch

from omnivec2.model import OmniVec2, preset
from omnivec2.model.config import ModalityConfig, TaskConfig
from omnivec2.model.omnivec2 import Stream


def stream(name, modality, n, p, embedding="patch_linear", classes=2):
    return ModalityConfig(name=name, modality=modality, num_tokens=n, token_dim=p, embedding=embedding,
                          tasks=(TaskConfig("label", "classification", classes),))


def model_of(*streams) -> OmniVec2:
    torch.manual_seed(0)
    return OmniVec2(preset("tiny").with_modalities(streams))


def test_two_image_datasets_of_one_token_width_share_one_projection():
    model = model_of(stream("digits", "image", 16, 4, classes=10), stream("photos", "image", 64, 4, classes=3),
                     stream("renders", "image", 64, 192))
    assert model.tokenizer("digits") is model.tokenizer("photos")
    assert model.tokenizer("renders") is not model.tokenizer("digits")
    projections = [name for name, _ in model.named_parameters() if name.startswith("embeddings.")]
    assert projections == ["embeddings.image__patch_linear__4.proj.weight", "embeddings.image__patch_linear__4.proj.bias",
                           "embeddings.image__patch_linear__192.proj.weight", "embeddings.image__patch_linear__192.proj.bias"]
    assert model.positions["digits"].shape == (1, 16, 64) and model.positions["photos"].shape == (1, 64, 64)
    assert set(model.modality_type) == {"image"}  # one type embedding per modality
    assert model.predict("digits", "label", model.forward_stream(Stream("digits", torch.randn(2, 16, 4)))).shape == (2, 10)
    assert model.predict("photos", "label", model.forward_stream(Stream("photos", torch.randn(2, 64, 4)))).shape == (2, 3)


def test_training_either_dataset_moves_the_shared_projection():
    model = model_of(stream("digits", "image", 16, 4), stream("photos", "image", 64, 4))
    for name, n in (("digits", 16), ("photos", 64)):
        model.zero_grad()
        o = model.forward_stream(Stream(name, torch.randn(3, n, 4)))
        model.predict(name, "label", o).sum().backward()
        assert model.tokenizer("digits").proj.weight.grad.abs().sum() > 0
        other = "photos" if name == "digits" else "digits"
        assert model.positions[other].grad is None or model.positions[other].grad.abs().sum() == 0


def test_different_modalities_and_table_columns_never_share():
    model = model_of(stream("grey", "depth", 16, 4), stream("digits", "image", 16, 4),
                     stream("wine", "tabular", 13, 2, embedding="per_column"),
                     stream("other_table", "tabular", 13, 2, embedding="per_column"))
    assert model.tokenizer("grey") is not model.tokenizer("digits")
    assert model.tokenizer("wine") is not model.tokenizer("other_table")  # column c of one table is not of another
