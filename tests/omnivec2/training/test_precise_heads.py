"""Precise BatchNorm for the heads: the statistics after `recalibrate_head_norms` are the exact
moments of the evaluation-time features over the train rows, and stage 3 applies it only when asked."""

import torch

from omnivec2.model.heads import pool
from omnivec2.model.omnivec2 import Stream, head_key
from omnivec2.training.config import TrainConfig
from omnivec2.training.precise_heads import recalibrate_head_norms
from omnivec2.training.step_loop import train_stage
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

STREAMS = ("image", "text", "depth")  # pooled, padded (text) and dense (depth/object_mask) heads


def test_the_statistics_are_the_exact_moments_of_the_features_evaluation_sees():
    model = tiny_model(0, head_norm="batch")
    data = fixed_data(rows=37, modalities=STREAMS)
    tasks = [f"{s}/{t.name}" for s in STREAMS for t in model.config.modality(s).tasks]
    model.train()
    counted = recalibrate_head_norms(model, data, tasks, batch_size=8)  # 37 rows: batches of 8 and a rest of 5

    assert model.training  # left as it was
    assert counted == {key: 37 for key in tasks}
    model.eval()
    with torch.no_grad():
        for key in tasks:
            stream, task = key.split("/")
            batch = Stream(stream, data[stream].tokens)
            features = model.forward_stream(batch)
            kind = model.config.modality(stream).task(task).kind
            rows = features.flatten(0, 1) if kind == "dense" else pool(features, model.padding(batch))
            norm = model.heads[head_key(stream, task)].norm
            assert torch.allclose(norm.running_mean, rows.mean(0), atol=1e-5), key
            assert torch.allclose(norm.running_var, rows.var(0), rtol=1e-4, atol=1e-6), key


def test_layer_norm_heads_are_left_alone():
    model = tiny_model(0, head_norm="layer")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert recalibrate_head_norms(model, fixed_data(modalities=STREAMS), ["image/digit"]) == {}
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_stage3_recalibrates_at_its_last_step_only_when_switched_on():
    def run(precise: bool):
        model = tiny_model(0, head_norm="batch")
        config = TrainConfig(stage="train_multitask", steps=6, batch_size=8, seed=0, log_every=3,
                             precise_head_norm=precise)
        _, history = train_stage(model, fixed_data(rows=20, modalities=("image", "tabular")), config)
        return model, history

    plain, plain_history = run(False)
    precise, precise_history = run(True)
    assert not any(k.startswith("head_norm_rows/") for entry in plain_history for k in entry)
    assert precise_history[-1]["head_norm_rows/image/digit"] == 20
    assert not any(k.startswith("head_norm_rows/") for k in precise_history[0])
    # the same training (same weights), different statistics
    weights = lambda m: {k: v for k, v in m.state_dict().items() if "running" not in k and "num_batches" not in k}
    assert all(torch.equal(v, weights(precise)[k]) for k, v in weights(plain).items())
    norm = lambda m: m.heads[head_key("image", "digit")].norm.running_mean
    assert not torch.allclose(norm(plain), norm(precise))
