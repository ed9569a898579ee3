"""`head_pooling: select`: the flattened read-out is fitted at the end of stage 3 and kept only where
the validation split scores it higher; training itself is a mean head's."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from omnivec2.evaluation.metrics import predict_task
from omnivec2.model.omnivec2 import head_key
from omnivec2.training.config import TrainConfig
from omnivec2.training.head_inputs import head_inputs
from omnivec2.training.readout_select import select_readouts, select_tasks
from omnivec2.training.step_loop import train_stage
from omnivec2.training.validation import Validation
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

IMAGE = head_key("image", "digit")


def _with_mean_head_always(model, label: int) -> None:
    """The image head's mean read-out answers `label` for every sample."""
    out = model.heads[IMAGE].out
    with torch.no_grad():
        out.weight.zero_()
        out.bias.fill_(-10.0)
        out.bias[label] = 10.0


def test_only_ordered_streams_classification_heads_hold_a_fitted_readout():
    model = tiny_model(0, head_norm="batch", head_pooling="select")
    tasks = ["image/digit", "point_cloud/object", "tabular_regression/progression", "depth/object_mask", "text/sentiment"]
    assert select_tasks(model, tasks) == ["image/digit", "text/sentiment"]
    plain = tiny_model(0, head_norm="batch")
    assert dict(model.named_parameters()).keys() == dict(plain.named_parameters()).keys()  # buffers only


def test_the_flattened_readout_is_kept_where_validation_scores_it_higher_and_then_answers():
    model = tiny_model(0, head_norm="batch", head_pooling="select")
    data = fixed_data(rows=40, modalities=("image",))
    _with_mean_head_always(model, 0)
    labels = data["image"].targets["digit"]
    assert (labels != 0).any()
    chosen = select_readouts(model, data, data, ["image/digit"])  # validated on the rows it was fitted on

    assert chosen["head_readout/image/digit"] == 1.0
    assert chosen["head_readout_val/image/digit/flattened"] > chosen["head_readout_val/image/digit/mean"]
    assert chosen["head_readout_val/image/digit/mean"] == (labels == 0).double().mean().item()
    model.eval()
    x = head_inputs(model, data, ["image/digit"], fitted_readout=True)["image/digit"].double()
    standardised = ((x - x.mean(0)) / torch.sqrt(x.var(0) + 1e-5)).numpy()
    reference = LogisticRegression(max_iter=2000).fit(standardised, labels.numpy())
    head_says = predict_task(model, "image", "digit", data["image"].tokens).argmax(-1).numpy()
    assert np.array_equal(head_says, reference.predict(standardised))
    model.train()  # training reads the mean, whatever was chosen
    assert (model.heads[IMAGE](torch.randn(3, model.config.modality("image").num_tokens, model.config.dim_g))
            .argmax(-1) == 0).all()


def test_the_mean_is_kept_on_a_tie_or_a_loss_and_without_a_validation_split():
    model = tiny_model(0, head_norm="batch", head_pooling="select")
    data = fixed_data(rows=40, modalities=("image", "text"))
    _with_mean_head_always(model, 3)
    validation = {"image": fixed_data(rows=10, seed=1, modalities=("image",))["image"]}
    validation["image"].targets["digit"][:] = 3  # the mean read-out is right on every validation row
    chosen = select_readouts(model, data, validation, ["image/digit", "text/sentiment"])

    assert chosen["head_readout/image/digit"] == 0.0 and chosen["head_readout_val/image/digit/mean"] == 1.0
    assert chosen["head_readout/text/sentiment"] == 0.0 and "head_readout_val/text/sentiment/mean" not in chosen
    assert not model.heads[IMAGE].readout.is_active
    model.eval()
    assert (predict_task(model, "image", "digit", data["image"].tokens).argmax(-1) == 3).all()


def test_select_trains_as_a_mean_head_and_the_choice_travels_in_the_state_dict():
    def run(pooling: str):
        model = tiny_model(0, head_norm="batch", head_pooling=pooling)
        config = TrainConfig(stage="train_multitask", steps=4, batch_size=8, seed=0, log_every=2,
                             precise_head_norm=True, refit_heads=True)
        data = fixed_data(rows=24, modalities=("image", "tabular"))
        _, history = train_stage(model, data, config, validation=Validation(data, 0))
        return model, history

    mean, _ = run("mean")
    select, history = run("select")
    for name, value in mean.named_parameters():
        assert torch.equal(value, dict(select.named_parameters())[name]), name
    assert "head_readout/image/digit" in history[-1] and "head_readout/tabular/cultivar" in history[-1]

    select.heads[IMAGE].readout.active.fill_(1)
    copy = tiny_model(1, head_norm="batch", head_pooling="select")
    copy.load_state_dict(select.state_dict())
    assert copy.heads[IMAGE].readout.is_active
    tokens = fixed_data(rows=5, seed=2, modalities=("image",))["image"].tokens
    assert torch.equal(predict_task(copy, "image", "digit", tokens), predict_task(select, "image", "digit", tokens))
