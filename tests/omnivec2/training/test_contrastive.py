"""The contrastive term between paired datasets (InfoNCE with a learnable temperature)."""

import math
from dataclasses import replace

import pytest
import torch

from omnivec2.checkpoint import load_trainer_state, load_weights, save_checkpoint
from omnivec2.training.config import TrainConfig
from omnivec2.training.contrastive import PairedRows, info_nce, paired_rows, projection_head, stage3_paired_rows
from omnivec2.training.trainer import StageTrainer
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

# Row i of imu pairs with row i of tabular (16 rows each in fixed_data): a scene seen by two sensors.
PAIRS = [PairedRows("imu", "tabular", torch.arange(16), torch.arange(16))]


def trainer(steps: int, weight: float = 1.0, seed: int = 0, projection: int = 16, pooling: str = "mean") -> StageTrainer:
    config = TrainConfig(stage="train_multitask", steps=steps, batch_size=8, warmup_steps=1, contrastive_weight=weight,
                         contrastive_batch=8, contrastive_projection=projection, contrastive_pooling=pooling)
    return StageTrainer(tiny_model(seed), fixed_data(), config, pairs=PAIRS)


def test_info_nce_is_lowest_on_aligned_pairs():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(8, 16, generator=g)
    scale = torch.tensor(math.log(1 / 0.07))
    aligned = info_nce(a, a, scale)
    shuffled = info_nce(a, a[torch.roll(torch.arange(8), 1)], scale)
    unrelated = info_nce(a, torch.randn(8, 16, generator=g), scale)
    assert aligned < unrelated < shuffled or aligned < shuffled
    assert aligned < 0.1 and shuffled > math.log(8)


def test_a_common_component_keeps_raw_embeddings_at_chance_but_not_projected_ones():
    # Every pooled row = one large shared vector + a small row-specific part (what the shared embedding
    # looked like): the cosines are all about 1, so InfoNCE on the raw rows is ln B even for aligned
    # pairs; standardising over the batch before the projection recovers the pairing.
    g = torch.Generator().manual_seed(0)
    common, own = 100 * torch.randn(1, 32, generator=g), torch.randn(16, 32, generator=g)
    a, b = common + own, common + own + 0.05 * torch.randn(16, 32, generator=g)
    scale = torch.tensor(math.log(1 / 0.07))
    assert info_nce(a, b, scale) > 0.9 * math.log(16)
    torch.manual_seed(0)
    head = projection_head(32, 24).train()
    assert info_nce(head(a), head(b), scale) < 0.2 * math.log(16)
    assert head(a).shape == (16, 24)


@pytest.mark.parametrize("projection", [0, 16])
def test_one_projection_head_per_paired_stream_or_none(projection):
    loss = trainer(steps=1, projection=projection).objective.contrastive
    assert sorted(loss.projections) == (["imu", "tabular"] if projection else [])
    if projection:
        assert loss.projections["imu"][-1].out_features == projection
    with pytest.raises(ValueError, match="contrastive_projection must be >= 0"):
        TrainConfig(stage="train_multitask", contrastive_projection=-1)


def test_the_token_pooling_projects_every_token():
    t = trainer(steps=1, pooling="tokens")
    loss, model = t.objective.contrastive, t.model
    for stream in ("imu", "tabular"):
        n = model.config.modality(stream).num_tokens
        assert loss.projections[stream][-1].in_features == n * model.config.dim_g
        assert loss.embed(model, stream, fixed_data()[stream].tokens[:4]).shape == (4, 16)
    with pytest.raises(ValueError, match="contrastive_pooling"):
        TrainConfig(stage="train_multitask", contrastive_pooling="max")


@pytest.mark.parametrize("projection,pooling", [(0, "mean"), (16, "mean"), (16, "tokens")])
def test_the_term_is_added_to_stage_3_and_learns_the_pairing(projection, pooling):
    t = trainer(steps=40, projection=projection, pooling=pooling)
    first = t.train_step()
    assert "loss/contrastive" in first and math.isfinite(first["loss/contrastive"])
    for _ in range(38):
        t.train_step()
    assert t.train_step()["loss/contrastive"] < 0.5 * first["loss/contrastive"]
    assert not any(k.endswith("contrastive") for k in t.balancer.state_dict().get("history", {}))


def test_off_by_default_and_refused_when_on_without_pairs():
    plain = StageTrainer(tiny_model(0), fixed_data(), TrainConfig(stage="train_multitask", steps=2, batch_size=8))
    assert plain.contrastive is None and "loss/contrastive" not in plain.train_step()
    assert trainer(steps=2, weight=0.0).contrastive is None
    # Until the trainer refused it, a stage 3 with the weight on and no paired rows trained without the
    # term and passed for a run with it.
    config = TrainConfig(stage="train_multitask", steps=2, batch_size=8, contrastive_weight=1.0)
    with pytest.raises(ValueError, match=r"contrastive_weight is 1.0, but no paired train rows reach stage 3 "
                                         r"\(contrastive_pairs: \[\]; datasets: \['image', 'imu', 'tabular'\]\)"):
        StageTrainer(tiny_model(0), fixed_data(), config)
    stage_1 = TrainConfig(stage="pretrain_unimodal", steps=2, batch_size=8, contrastive_weight=1.0)
    assert StageTrainer(tiny_model(0), fixed_data(), stage_1).contrastive is None  # a stage-3 term only


def test_resuming_with_the_term_is_exact(tmp_path):
    straight = trainer(steps=6)
    for _ in range(6):
        straight.train_step()
    first = trainer(steps=6)
    for _ in range(3):
        first.train_step()
    save_checkpoint(tmp_path / "ckpt", first.model, {"step": 3}, first.state_dict())
    resumed = trainer(steps=6)
    load_weights(resumed.model, tmp_path / "ckpt")
    resumed.load_state_dict(load_trainer_state(tmp_path / "ckpt"))
    for _ in range(3):
        resumed.train_step()
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    for (name, a), b in zip(straight.objective.contrastive.state_dict().items(),
                            resumed.objective.contrastive.state_dict().values()):
        assert torch.equal(a, b), name  # the temperature, the projections and their batch statistics


def test_rows_pair_by_sample_id_with_markers_and_bad_pair_entries_are_refused():
    pairs = paired_rows([{"a": "rgb", "b": "ir", "marker_a": "-rgb", "marker_b": "-ir"},
                         {"a": "rgb", "b": "absent", "marker_a": "-rgb", "marker_b": "-x"}],
                        {"rgb": ["k-rgb0", "q-rgb1", "z-rgb9"], "ir": ["q-ir1", "k-ir0"]})
    assert len(pairs) == 1 and pairs[0].rows_a.tolist() == [0, 1] and pairs[0].rows_b.tolist() == [1, 0]
    with pytest.raises(ValueError, match="contrastive_pairs: each entry needs exactly the keys"):
        TrainConfig.from_dict({"stage": "train_multitask", "contrastive_pairs": [{"a": "rgb", "b": "ir"}]})


def test_stage_3_reads_the_pairings_rows_from_the_token_cache_and_none_when_off(monkeypatch):
    ids = {"rgb": ["s1-rgb", "s2-rgb", "s3-rgb"], "ir": ["s3-ir", "s1-ir"]}
    read = []

    class Split:
        def __init__(self, stream):
            self.sample_ids = ids[stream]

    monkeypatch.setattr("omnivec2.tokens.cache.read_token_split",
                        lambda root, stream, split: read.append((stream, split)) or Split(stream))
    pairings = [{"a": "rgb", "b": "ir", "marker_a": "-rgb", "marker_b": "-ir"}]
    config = TrainConfig(stage="train_multitask", contrastive_weight=1.0, contrastive_pairs=pairings)
    (pair,) = stage3_paired_rows(config, "cache", ["ir", "rgb", "text"])
    assert sorted(zip(pair.rows_a.tolist(), pair.rows_b.tolist())) == [(0, 1), (2, 0)]
    assert sorted(read) == [("ir", "train"), ("rgb", "train")]
    assert stage3_paired_rows(config, "cache", ["rgb", "text"]) == []  # its partner is not trained
    assert stage3_paired_rows(replace(config, contrastive_weight=0.0), "cache", ["ir", "rgb"]) == []
    assert stage3_paired_rows(replace(config, stage="pretrain_multimodal"), "cache", ["ir", "rgb"]) == []
