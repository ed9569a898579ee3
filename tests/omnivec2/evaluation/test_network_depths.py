"""The token grid at every depth of the single-stream pass, which the depth diagnostics read."""

from __future__ import annotations

import numpy as np
import torch

from omnivec2.evaluation.network_depths import depth_tokens
from omnivec2.evaluation.retrieval import token_embedding
from tests.default_suite import DATASETS
from tests.omnivec2.model.helpers import example_tokens, tiny_model


def test_depth_tokens_run_from_the_input_tokens_to_the_pipelines_token_embedding():
    model = tiny_model(0)
    tokens = torch.from_numpy(example_tokens(DATASETS["image"], 5)).float()
    depths = depth_tokens(model, "image", tokens, batch_size=2)
    blocks = [f"f{i}" for i in range(1, len(model.f.blocks) + 1)]
    assert list(depths) == ["tokens", "embedding", *blocks, "f", "g"]
    assert np.array_equal(depths["tokens"], tokens.flatten(2).numpy())
    assert np.allclose(depths["g"].reshape(5, -1), token_embedding(model, "image", tokens), atol=1e-6)
    assert all(d.shape[:2] == tokens.shape[:2] for d in depths.values())
