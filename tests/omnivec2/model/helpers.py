"""Shared fixtures' building blocks: valid example payloads and a model over every registered modality."""

from __future__ import annotations

import numpy as np

from omnivec2.datasets import DatasetSpec
from tests.default_suite import DATASETS
from omnivec2.model import ModelConfig, OmniVec2, modality_config_from_spec, preset

FREE_DIM = 16  # size used for a payload dimension the spec leaves free


def example_payloads(spec: DatasetSpec, count: int, seed: int = 0) -> list[np.ndarray]:
    """`count` random payloads that satisfy the modality's PayloadSpec (shape, dtype, range)."""
    rng = np.random.default_rng(seed)
    shape = tuple(FREE_DIM if d is None else d for d in spec.payload.shape)
    low, high = spec.payload.value_range
    low = 0.0 if low is None else low
    high = low + 10.0 if high is None else high
    return [rng.uniform(low, high, size=shape).astype(spec.payload.dtype) for _ in range(count)]


def example_tokens(spec: DatasetSpec, count: int, seed: int = 0) -> np.ndarray:
    """Payloads through the modality's deterministic tokenizer: [count, N, P]."""
    samples = example_payloads(spec, count, seed)
    return spec.tokenizer.transform(samples, spec.tokenizer.fit(samples))


def model_config(preset_name: str = "tiny", **overrides) -> ModelConfig:
    modalities = []
    for spec in DATASETS.values():
        n, p = example_tokens(spec, 2).shape[1:]
        modalities.append(modality_config_from_spec(spec, n, p))
    return preset(preset_name, **overrides).with_modalities(modalities)


def tiny_model(seed: int = 0, **overrides) -> OmniVec2:
    import torch

    torch.manual_seed(seed)
    return OmniVec2(model_config("tiny", **overrides))


def graph_with_noisy_padding(count: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Graph tokens whose second half is padding (type one-hot = padding), and the same tokens with
    random features in those padding tokens."""
    import torch

    from omnivec2.model.embeddings_graph import NUM_TYPES, TYPE_PAD

    tokens = torch.from_numpy(example_tokens(DATASETS["graph"], count)).float()
    half = tokens.shape[1] // 2
    tokens[:, half:, :NUM_TYPES] = 0.0
    tokens[:, half:, TYPE_PAD] = 1.0
    tokens[:, half:, NUM_TYPES:] = 0.0
    noisy = tokens.clone()
    noisy[:, half:, NUM_TYPES:] = torch.randn_like(noisy[:, half:, NUM_TYPES:])
    return tokens, noisy
