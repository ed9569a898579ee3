"""Validation during stage 3: learning curves that read the model without changing its training."""

import torch

from omnivec2.training.config import TrainConfig
from omnivec2.training.step_loop import train_stage
from omnivec2.training.validation import Validation
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data

CONFIG = dict(stage="train_multitask", steps=6, batch_size=8, log_every=3, checkpoint_every=6, warmup_steps=1)


def test_validating_leaves_the_training_unchanged_and_records_every_task_at_its_steps():
    config = TrainConfig(**CONFIG, val_every=2)
    plain_trainer, plain = train_stage(tiny_model(0), fixed_data(), config)
    checked_trainer, checked = train_stage(tiny_model(0), fixed_data(), config,
                                           validation=Validation(fixed_data(rows=6, seed=1), every=2))
    for a, b in zip(plain_trainer.model.state_dict().values(), checked_trainer.model.state_dict().values()):
        assert torch.equal(a, b)
    assert [e["step"] for e in plain] == [3, 6] and [e["step"] for e in checked] == [2, 3, 4, 6]
    for entry in checked:
        validated = {k[4:] for k in entry if k.startswith("val/")}
        assert validated == (set(checked_trainer.tasks) if entry["step"] % 2 == 0 else set()), entry["step"]
    accuracy = checked[-1]["val/image/digit"]
    assert 0.0 <= accuracy <= 1.0 and checked_trainer.model.training


def test_a_stream_without_a_validation_split_is_not_validated():
    data = fixed_data()
    _, history = train_stage(tiny_model(0), data, TrainConfig(**CONFIG, val_every=3),
                             validation=Validation({"imu": data["imu"]}, every=3))
    assert {k for k in history[-1] if k.startswith("val/")} == {"val/imu/activity"}


def test_the_learning_curves_of_the_report():
    import pandas as pd

    from omnivec2.evaluation.plots import learning_curves, multitask_curves

    history = pd.DataFrame([{"step": 2, "visits/a/x": 1, "val/a/x": 0.5}, {"step": 3, "visits/a/x": 2},
                            {"step": 4, "visits/a/x": 3, "val/a/x": 0.75}])
    curves = {"multitask": multitask_curves(history), "single_task": {"a/x": [[1, 0.25], [3, 0.5]], "b/y": [[2, 1.0]]}}
    assert curves["multitask"] == {"a/x": [[1.0, 0.5], [3.0, 0.75]]}
    figure = learning_curves(curves)
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["a/x", "b/y"]
    assert [len(ax.get_lines()) for ax in panels] == [2, 1]


def test_the_history_times_validations_and_the_end_of_stage_work_apart_from_the_steps():
    """What benchmark (f) subtracts from a stage's node time before calling the rest orchestration."""
    _, plain = train_stage(tiny_model(0), fixed_data(), TrainConfig(**CONFIG, val_every=2))
    _, checked = train_stage(tiny_model(0), fixed_data(), TrainConfig(**CONFIG, val_every=2),
                             validation=Validation(fixed_data(rows=6, seed=1), every=2))
    assert [e["time/validation_seconds"] for e in plain] == [0.0, 0.0]
    seconds = [e["time/validation_seconds"] for e in checked]
    assert seconds[0] > 0 and seconds == sorted(seconds)  # accumulated, like time/train_seconds
    assert checked[-1]["time/finish_seconds"] > 0 and plain[-1]["time/finish_seconds"] > 0
    assert not any("time/finish_seconds" in e for e in checked[:-1])  # only the last step finishes
