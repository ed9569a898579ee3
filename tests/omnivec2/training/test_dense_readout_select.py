"""`dense_readout: select`: a dense head's read-out of each token's features beside its input values
is fitted at the end of stage 3 and kept only where the validation split scores it a higher mIoU."""

import pytest
import torch

from omnivec2.evaluation.metrics import predict_task
from omnivec2.model.fitted_readout import FittedDenseReadout
from omnivec2.model.omnivec2 import Stream, head_key
from omnivec2.training.readout_select import select_dense_readouts, select_tasks
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

MASK = head_key("depth", "object_mask")


def _labelled_by_their_input(rows: int, seed: int):
    """Depth rows whose pixel labels are 1 exactly where that pixel's input value is above its mean."""
    data = fixed_data(rows=rows, seed=seed, modalities=("depth",))["depth"]
    tokens = data.tokens  # [S, N, P], one value per pixel of the token
    data.targets["object_mask"] = (tokens > tokens.mean()).long().reshape(*tokens.shape[:2], -1)
    return {"depth": data}


def _answering_background(model) -> None:
    out = model.heads[MASK].out
    with torch.no_grad():
        out.weight.zero_()
        out.bias.copy_(torch.tensor([10.0, -10.0]).repeat(out.bias.numel() // 2))


def test_only_dense_heads_hold_it_and_it_adds_no_parameters():
    model = tiny_model(0, head_norm="batch", head_pooling="select", dense_readout="select")
    tasks = ["image/digit", "depth/object_mask", "depth/category", "hyperspectral/material"]
    assert select_tasks(model, tasks, FittedDenseReadout) == ["depth/object_mask", "hyperspectral/material"]
    assert "depth/object_mask" not in select_tasks(model, tasks)  # the classification heads' selection skips it
    plain = tiny_model(0, head_norm="batch", head_pooling="select")
    assert dict(model.named_parameters()).keys() == dict(plain.named_parameters()).keys()
    assert getattr(plain.heads[MASK], "readout") is None
    with pytest.raises(ValueError, match="dense_readout must be"):
        tiny_model(0, dense_readout="skip")


def test_it_is_kept_where_validation_scores_it_higher_and_then_answers_from_the_input_tokens():
    model = tiny_model(0, head_norm="batch", dense_readout="select")
    train, validation = _labelled_by_their_input(48, 0), _labelled_by_their_input(16, 1)
    _answering_background(model)
    chosen = select_dense_readouts(model, train, validation, ["depth/object_mask"])

    assert chosen["head_readout/depth/object_mask"] == 1.0
    assert chosen["head_readout_val/depth/object_mask/with_tokens"] > 0.9  # the labels are in the input values
    assert chosen["head_readout_val/depth/object_mask/trained"] < 0.5  # background everywhere
    model.eval()
    tokens = validation["depth"].tokens
    predicted = predict_task(model, "depth", "object_mask", tokens).argmax(-1)  # [S, N, K]
    truth = validation["depth"].targets["object_mask"]
    assert (predicted == truth).double().mean() > 0.9
    stream = Stream("depth", tokens)
    with pytest.raises(ValueError, match="reads the stream's input tokens"):
        model.predict("depth", "object_mask", model.forward_stream(stream), model.padding(stream))
    model.train()  # training reads the trained layer, whatever was chosen
    out = model.heads[MASK](torch.randn(2, tokens.shape[1], model.config.dim_g))
    assert (out.argmax(-1) == 0).all()


def test_the_trained_layer_is_kept_on_a_tie_or_a_loss_and_the_choice_travels_in_the_state_dict():
    model = tiny_model(0, head_norm="batch", dense_readout="select")
    train = _labelled_by_their_input(48, 0)
    _answering_background(model)
    validation = _labelled_by_their_input(16, 1)
    validation["depth"].targets["object_mask"].zero_()  # the trained layer is right everywhere
    chosen = select_dense_readouts(model, train, validation, ["depth/object_mask", "image/digit"])
    assert chosen == {"head_readout/depth/object_mask": 0.0, "head_readout_val/depth/object_mask/trained": 1.0,
                      "head_readout_val/depth/object_mask/with_tokens": chosen["head_readout_val/depth/object_mask/with_tokens"]}
    assert chosen["head_readout_val/depth/object_mask/with_tokens"] < 1.0
    assert not model.heads[MASK].readout.is_active
    assert select_dense_readouts(model, train, {}, ["depth/object_mask"]) == {"head_readout/depth/object_mask": 0.0}

    model.heads[MASK].readout.active.fill_(1)
    copy = tiny_model(1, head_norm="batch", dense_readout="select")
    copy.load_state_dict(model.state_dict())
    assert copy.heads[MASK].readout.is_active
    tokens = train["depth"].tokens[:4]
    assert torch.equal(predict_task(copy, "depth", "object_mask", tokens), predict_task(model, "depth", "object_mask", tokens))


def test_stage3_trains_as_before_and_chooses_the_dense_readouts_at_its_end():
    from omnivec2.training.config import TrainConfig
    from omnivec2.training.step_loop import train_stage
    from omnivec2.training.validation import Validation

    def run(readout: str):
        model = tiny_model(0, head_norm="batch", dense_readout=readout)
        config = TrainConfig(stage="train_multitask", steps=4, batch_size=8, seed=0, log_every=2,
                             precise_head_norm=True, refit_heads=True, refit_dense=True)
        data = {**fixed_data(rows=24, modalities=("image",)), **_labelled_by_their_input(24, 0)}
        _, history = train_stage(model, data, config, validation=Validation(data, 0))
        return model, history

    trained, _ = run("trained")
    selected, history = run("select")
    for name, value in trained.named_parameters():
        assert torch.equal(value, dict(selected.named_parameters())[name]), name
    assert history[-1]["head_readout/depth/object_mask"] == 1.0
