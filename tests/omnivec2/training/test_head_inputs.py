"""What the heads read over a split: one forward pass per stream serves the precise statistics and
the refit alike, and gives what each head's own `reduce` gives."""

import torch

from omnivec2.model.omnivec2 import Stream, head_key
from omnivec2.training.config import TrainConfig
from omnivec2.training.head_inputs import head_inputs
from omnivec2.training.trainer import StageTrainer
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

STREAMS = ("image", "text", "depth")  # pooled (flattened here), padded and dense heads


def test_each_head_gets_its_own_reduction_of_the_eval_mode_features():
    model = tiny_model(0, head_norm="batch", head_pooling="flatten")
    data = fixed_data(rows=21, modalities=STREAMS)
    tasks = [f"{s}/{t.name}" for s in STREAMS for t in model.config.modality(s).tasks]
    model.train()
    inputs = head_inputs(model, data, tasks, batch_size=8)
    assert model.training
    model.eval()
    with torch.no_grad():
        for key in tasks:
            stream, task = key.split("/")
            batch = Stream(stream, data[stream].tokens)
            expected = model.heads[head_key(stream, task)].reduce(model.forward_stream(batch), model.padding(batch))
            assert torch.allclose(inputs[key], expected, atol=1e-5), key
    n, d = model.config.modality("depth").num_tokens, model.config.dim_g
    assert inputs["depth/object_mask"].shape == (21 * n, d)


def test_the_end_of_stage_3_runs_one_forward_pass_for_both_head_passes():
    data = fixed_data(rows=20, modalities=("image", "tabular"))
    config = TrainConfig(stage="train_multitask", steps=1, batch_size=8, warmup_steps=1, precise_head_norm=True,
                         refit_heads=True)
    trainer = StageTrainer(tiny_model(0, head_norm="batch"), data, config)
    calls = []
    original = trainer.model.forward_stream
    trainer.model.forward_stream = lambda stream: calls.append(stream.modality) or original(stream)
    done = trainer.finish()
    assert sorted(calls) == ["image", "tabular"]  # 20 rows: one batch of 256 per stream
    assert {k.split("/")[0] for k in done} == {"head_norm_rows", "head_refit_rows"}
