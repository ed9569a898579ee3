"""Unified heads (`head_sharing: unified`): one classification head over the union of every
classification task's classes; each task reads its own, trains against the union, and the end of
stage 3 treats the shared head as one (statistics and refit over all its tasks' rows)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression

from omnivec2.evaluation.metrics import predict_task
from omnivec2.model.heads import pool
from omnivec2.model.omnivec2 import OmniVec2, Stream, head_key
from omnivec2.model.unified_head import UNIFIED_KEY, ClassSlice
from omnivec2.training.head_inputs import head_inputs
from omnivec2.training.head_refit import normalised, refit_heads
from omnivec2.training.precise_heads import recalibrate_head_norms
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

STREAMS = ("image", "imu", "tabular")  # three classification tasks


def classification_keys(model: OmniVec2) -> list[tuple[str, str]]:
    return [(m.name, t.name) for m in model.config.modalities for t in m.tasks if t.kind == "classification"]


def test_every_classification_task_reads_one_shared_head_over_the_union_of_their_classes():
    model = tiny_model(0, head_sharing="unified", head_norm="batch", head_pooling="select")
    keys = classification_keys(model)
    classes = [model.config.modality(m).task(t).num_classes for m, t in keys]
    names = list(model.state_dict())
    assert f"heads.{UNIFIED_KEY}.out.weight" in names
    assert model.state_dict()[f"heads.{UNIFIED_KEY}.out.weight"].shape == (sum(classes), model.config.dim_g)
    assert not any(n.startswith(f"heads.{head_key(m, t)}.") for m, t in keys for n in names)  # views own nothing
    assert f"heads.{head_key('depth', 'object_mask')}.out.weight" in names  # dense heads stay per task
    offsets = [model.heads[head_key(m, t)].offset for m, t in keys]
    assert offsets == list(np.cumsum([0, *classes[:-1]]))
    # a network rebuilt from the same config takes the weights back, strictly
    OmniVec2(model.config).load_state_dict(model.state_dict())


def test_evaluation_reads_the_tasks_own_classes_and_training_scores_the_whole_union():
    model = tiny_model(0, head_sharing="unified")
    view = model.heads[head_key("imu", "activity")]
    assert isinstance(view, ClassSlice)
    features = torch.randn(5, 7, model.config.dim_g)
    union = view.shared(features)  # [5, C]
    own = slice(view.offset, view.offset + view.classes)
    model.eval()
    assert torch.equal(model.predict("imu", "activity", features), union[:, own])
    model.train()
    target = torch.randint(0, view.classes, (5,))
    trained = model.predict("imu", "activity", features)
    assert trained.shape == union.shape and torch.equal(trained[:, : view.classes], union[:, own])
    # the loss a task's own labels get is the union's cross-entropy at the label's place in the union
    assert torch.allclose(F.cross_entropy(trained, target), F.cross_entropy(union, target + view.offset))


def test_the_shared_head_gets_one_set_of_statistics_and_one_refit_over_all_its_tasks_rows():
    model = tiny_model(0, head_sharing="unified", head_norm="batch")
    data = fixed_data(rows=30, modalities=STREAMS)
    tasks = [f"{m}/{t}" for m, t in classification_keys(model) if m in STREAMS]
    assert recalibrate_head_norms(model, data, tasks, batch_size=8) == {key: 30 for key in tasks}
    model.eval()
    with torch.no_grad():
        rows = torch.cat([pool(model.forward_stream(Stream(m, data[m].tokens)), None) for m in STREAMS])
    norm = model.heads[UNIFIED_KEY].norm
    assert torch.allclose(norm.running_mean, rows.mean(0), atol=1e-5)
    assert torch.allclose(norm.running_var, rows.var(0), rtol=1e-4, atol=1e-6)

    assert refit_heads(model, data, tasks) == {key: 30 for key in tasks}
    inputs = head_inputs(model, data, tasks)
    x = np.concatenate([normalised(model, key, inputs[key]) for key in tasks])
    y = np.concatenate([data[key.split("/")[0]].targets[key.split("/")[1]].numpy()
                        + model.heads[head_key(*key.split("/"))].offset for key in tasks])
    fit = LogisticRegression(max_iter=2000).fit(x, y)
    union_says = np.full((len(x), model.heads[UNIFIED_KEY].out.out_features), -np.inf)
    union_says[:, fit.classes_] = fit.predict_log_proba(x)  # a class no train row has is never predicted
    start = 0
    for key in tasks:
        stream, name = key.split("/")
        view = model.heads[head_key(stream, name)]
        head_says = predict_task(model, stream, name, data[stream].tokens).argmax(-1).numpy()
        # the task's prediction is the arg-max of the union's fit over its own classes
        expected = union_says[start : start + 30, view.offset : view.offset + view.classes].argmax(1)
        assert np.array_equal(head_says, expected), key
        start += 30


def test_a_unified_network_cannot_take_a_new_modality_and_a_wrong_setting_is_named():
    model = tiny_model(0, head_sharing="unified")
    with pytest.raises(ValueError, match="unified heads is not supported"):
        model.add_modality(model.config.modality("imu").__class__(**{**model.config.modality("imu").__dict__,
                                                                       "name": "imu_2"}))
    with pytest.raises(ValueError, match="head_sharing must be 'per_task' or 'unified'"):
        tiny_model(0, head_sharing="shared")


def test_stage_3_trains_and_ends_a_unified_network_as_the_main_job_does():
    """The main job's stage-3 recipe (batch-normalised heads, precise statistics, refit, selected
    read-outs on the validation split) on a unified network: it trains, and each task answers its
    own classes."""
    from omnivec2.training.config import TrainConfig
    from omnivec2.training.step_loop import train_stage
    from omnivec2.training.validation import Validation

    model = tiny_model(0, head_sharing="unified", head_norm="batch", head_pooling="select", dense_readout="select")
    data = fixed_data(rows=24, modalities=(*STREAMS, "depth"))
    config = TrainConfig.from_dict({"stage": "train_multitask", "steps": 6, "batch_size": 8, "warmup_steps": 1,
                                    "precise_head_norm": True, "refit_heads": True, "refit_dense": True,
                                    "val_every": 0, "head_lr_scale": 10.0})
    before = model.heads[UNIFIED_KEY].out.weight.clone()
    train_stage(model, data, config, validation=Validation(data, 0))
    assert not torch.equal(before, model.heads[UNIFIED_KEY].out.weight)
    for stream, name in classification_keys(model):
        if stream in STREAMS:
            output = predict_task(model, stream, name, data[stream].tokens)
            assert output.shape == (24, model.config.modality(stream).task(name).num_classes)
