"""Adding a modality of one's own (the README's worked example), end to end in-process.

A user's modality is one `Modality`: shape settings with defaults, and a build function that gives
a payload declaration (validation is generated from it), a deterministic tokenizer (numpy; cached),
a learnable embedding kind (torch; in the model) and masking. Its datasets and tasks are
configuration, like any other. Here: 1-D pulse signals of `length` samples, cut into windows of
`window`, and a dataset whose task is "in which quarter is the pulse". The modality is registered
for the test only and removed afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pytest
import torch
from torch import nn

from omnivec2.datasets import resolve_dataset
from omnivec2.modalities import MODALITIES, MaskSpec, Modality, ModalityParts, PayloadSpec, register
from tests.default_suite import DATASETS
from omnivec2.checkpoint import load_model, save_checkpoint
from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources import load_source
from omnivec2.evaluation.metrics import predict_task
from omnivec2.model import OmniVec2, modality_config_from_spec, preset
from omnivec2.model.config import ModalityConfig
from omnivec2.model.embeddings import EMBEDDINGS, register_embedding
from omnivec2.tokens.cache import build_token_cache, read_token_split
from omnivec2.training.config import TrainConfig
from omnivec2.training.data import ModalityData
from omnivec2.training.trainer import StageTrainer
from omnivec2.validation import validate_sample_table


# ----- 1. the deterministic tokenizer: numpy, fitted on train, cached ------------------------------
@dataclass(frozen=True)
class Windows:
    """Signals `[T]` -> tokens `[T / size, size]`, divided by the training split's largest |value|."""

    size: int = 4

    def config(self) -> dict:
        return {"kind": "windows", "size": self.size}  # hashed into the cache key

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        return {"scale": float(np.abs(np.stack(train_samples)).max()) or 1.0}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        signals = np.stack([np.asarray(s, dtype=np.float32) for s in samples]) / stats["scale"]  # [B, T]
        return signals.reshape(len(signals), -1, self.size).astype(np.float32)  # [B, N, P]


# ----- 2. the learnable embedding kind: tokens [B, N, P] -> [B, N, D], with its own positions ------
class WindowEmbedding(nn.Module):
    def __init__(self, modality: ModalityConfig, dim: int):
        super().__init__()
        self.proj = nn.Linear(modality.token_dim, dim)
        self.pos = nn.Parameter(torch.zeros(1, modality.num_tokens, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.proj(tokens) + self.pos


# ----- 3. the modality: one row of the modality table, parametrised by its shape settings ----------
def build_pulses(settings: dict) -> ModalityParts:
    length, window = int(settings["length"]), int(settings["window"])
    if length % window:
        raise ValueError(f"{length} samples are not divisible into windows of {window}")
    return ModalityParts(
        payload=PayloadSpec(shape=(length,), dtype="float32", value_range=(-10.0, 10.0), max_bytes=length * 4),
        tokenizer=Windows(size=window),
        embedding="windows",
        mask=MaskSpec(ratio=0.5, strategy="random"),
    )


PULSES = Modality(name="pulses", settings={"length": 32, "window": 4},
                  help={"length": "samples per signal", "window": "samples per token"}, build=build_pulses,
                  description="1-D signals; fixed windows")

# ----- 4. a dataset of it: configuration (what a user writes in parameters_datasets.yml) ----------
ENTRY = {"modality": "pulses", "source": {"kind": "npy", "path": "unused.npz"},
         "tasks": {"quarter": {"kind": "classification", "classes": ["q1", "q2", "q3", "q4"]}},
         "card": {"description": "generated: a Gaussian pulse in one of four quarters of 32 samples, plus noise"}}


def pulse_table(count: int = 120, seed: int = 0):
    """A generated sample table: signals `[32]` float32, label = the quarter holding the pulse."""
    rng = np.random.default_rng(seed)
    quarter = rng.integers(0, 4, count)
    centre = quarter * 8 + rng.uniform(2, 6, count)
    t = np.arange(32)
    signals = np.exp(-0.5 * ((t[None] - centre[:, None]) / 1.5) ** 2) + rng.normal(0, 0.1, (count, 32))
    splits = np.array(["train", "val", "test"])[np.arange(count) % 10 // 7 + (np.arange(count) % 10 == 9)]
    ids = [f"pulse-{i:04d}" for i in range(count)]
    return build_sample_table(ids, splits, list(signals.astype(np.float32)), {"quarter": quarter})


@pytest.fixture
def pulses():
    register(PULSES)
    register_embedding("windows", WindowEmbedding)
    yield resolve_dataset("pulses", ENTRY)
    MODALITIES.pop(PULSES.name)
    EMBEDDINGS.pop("windows")


@pytest.fixture
def caches(pulses, tmp_path):
    """Validated, tokenized and cached: the user's modality plus the built-in tabular one."""
    root = tmp_path / "tokens"
    outcome = validate_sample_table(pulse_table(), pulses)  # the GX suite generated from PayloadSpec
    assert outcome.report["success"]
    manifests = {"pulses": build_token_cache(outcome.valid, pulses, root)}
    tabular = DATASETS["tabular"]
    manifests["tabular"] = build_token_cache(load_source(tabular, tabular.source, seed=0), tabular, root)
    return root, manifests


def test_a_registered_modality_trains_through_every_stage(pulses, caches, tmp_path):
    root, manifests = caches
    assert manifests["pulses"]["token_shape"] == [8, 4]
    specs = {"pulses": pulses, "tabular": DATASETS["tabular"]}
    modalities = [modality_config_from_spec(specs[name], *manifests[name]["token_shape"]) for name in sorted(manifests)]
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities(modalities))
    data = {}
    for name in manifests:
        split = read_token_split(root, name, "train")
        data[name] = ModalityData.from_token_split(split)

    before = model.tokenizer("pulses").proj.weight.detach().clone()
    seen = set()
    for stage in ("pretrain_unimodal", "pretrain_multimodal", "train_multitask"):
        config = TrainConfig(stage=stage, steps=4, batch_size=8, lr=3e-3, warmup_steps=1, seed=0)
        trainer = StageTrainer(model, data, config)
        for _ in range(4):
            metrics = trainer.train_step()
            assert np.isfinite(metrics["loss"])
            seen.update(k for k in metrics if k.startswith("loss/"))
    assert {"loss/pulses", "loss/tabular", "loss/pulses/quarter", "loss/tabular/cultivar"} <= seen
    assert not torch.equal(before, model.tokenizer("pulses").proj.weight)

    # Inference and the checkpoint round trip go through the registered embedding kind too.
    test = read_token_split(root, "pulses", "test")
    logits = predict_task(model, "pulses", "quarter", torch.from_numpy(test.tokens.copy()))
    assert logits.shape == (len(test.sample_ids), 4) and torch.isfinite(logits).all()
    save_checkpoint(tmp_path / "ckpt", model, {"note": "custom modality"})
    restored = load_model(tmp_path / "ckpt")
    assert torch.equal(predict_task(restored, "pulses", "quarter", torch.from_numpy(test.tokens.copy())), logits)


def test_the_generated_table_is_validated_like_any_other(pulses):
    table = pulse_table()
    table.at[5, "quarter"] = 4  # an unknown label
    with pytest.raises(Exception, match=r"dataset 'pulses': expect_column_values_to_be_in_set on column 'quarter'.*pulse-0005"):
        validate_sample_table(table, pulses)


def test_a_shape_setting_the_modality_cannot_build_is_refused_naming_the_dataset(pulses):
    with pytest.raises(ValueError, match=r"dataset 'odd', shape: 30 samples are not divisible into windows of 4"):
        resolve_dataset("odd", {**ENTRY, "shape": {"length": 30}})


def test_the_example_leaves_the_registries_as_it_found_them():
    assert "pulses" not in MODALITIES and "windows" not in EMBEDDINGS
