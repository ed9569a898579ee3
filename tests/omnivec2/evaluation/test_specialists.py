"""Specialist budgets: what stage 3 counted, per task."""

import numpy as np
import pytest

from omnivec2.evaluation.specialists import task_budgets
from omnivec2.training.config import TrainConfig
from omnivec2.training.launch import visits_from
from omnivec2.training.step_loop import train_stage
from tests.omnivec2.model.helpers import tiny_model
from tests.omnivec2.training.helpers import fixed_data


@pytest.mark.parametrize("mode", ["pairwise", "joint", "sequential"])
def test_the_specialists_budgets_equal_the_visits_counted_in_a_stage(mode):
    """A stage-3 run counts each task's visits and rows as it plans them; the budgets are those counts."""
    config = TrainConfig(stage="train_multitask", steps=14, batch_size=16, log_every=7, checkpoint_every=7,
                         warmup_steps=2, mode=mode, pair_sampling="size")
    trainer, history = train_stage(tiny_model(0), fixed_data(), config)
    counted = visits_from(history[-1])
    assert counted == {k: {"visits": v, "samples": n} for k, (v, n) in trainer.visits.items()}
    assert set(counted) == set(trainer.tasks)  # every task, visited or not
    per_step = {"pairwise": 2, "joint": len(trainer.tasks), "sequential": 1}[mode]
    assert sum(c["visits"] for c in counted.values()) == 14 * per_step
    budgets = task_budgets(counted, trainer.tasks)
    for task in trainer.tasks:
        visits = counted[task]["visits"]
        assert budgets[task][0] == visits
        if visits:
            assert budgets[task][1] * visits == counted[task]["samples"]  # whole batches of one size


def test_a_task_never_visited_gets_no_steps_and_a_missing_count_is_refused():
    assert task_budgets({"a/x": {"visits": 3, "samples": 24}, "b/y": {"visits": 0, "samples": 0}}, ["a/x", "b/y"]) == {
        "a/x": (3, 8), "b/y": (0, 0)}
    with pytest.raises(ValueError, match=r"lack the task\(s\) \['b/y'\]"):
        task_budgets({"a/x": {"visits": 3, "samples": 24}}, ["a/x", "b/y"])
    assert task_budgets({}, ["a/x"]) == {"a/x": (0, 0)}  # stage 3 skipped


def test_a_short_stage_counts_the_tasks_it_never_visited():
    """Fewer pair slots than tasks: some tasks get no visit, and say so with a count of 0."""
    config = TrainConfig(stage="train_multitask", steps=1, batch_size=16, log_every=1, checkpoint_every=1,
                         warmup_steps=1)
    _, history = train_stage(tiny_model(0), fixed_data(), config)
    counted = visits_from(history[-1])
    assert sum(c["visits"] for c in counted.values()) == 2 and sum(c["visits"] == 0 for c in counted.values()) >= 1


def test_rows_are_counted_over_all_workers():
    """Each of two data-parallel workers draws its own half batch: a visit covers both halves."""
    from omnivec2.training.trainer import StageTrainer

    config = TrainConfig(stage="train_multitask", steps=4, batch_size=16, warmup_steps=1)
    trainer = StageTrainer(tiny_model(0), fixed_data(), config, rank=1, world_size=2)
    trainer.plan()
    assert sorted(n for _, n in trainer.visits.values() if n) == [16, 16]  # 8 rows on each of 2 workers, per task


def test_a_specialist_s_learning_curve_is_measured_at_stage_3_s_fraction_of_its_steps(tmp_path):
    """Stage 3 validated every 5 of 20 steps: a specialist of 10 steps validates every 2 (and at its
    last step); without validation in stage 3 it records no curve."""
    from omnivec2.checkpoint import read_config
    from omnivec2.evaluation.specialists import single_task_baselines
    from tests.omnivec2.evaluation.helpers import named_class_run

    _, cache, checkpoint = named_class_run(tmp_path)
    config, _ = read_config(checkpoint)
    visits = {"wine/cultivar": {"visits": 10, "samples": 80}}
    stage3 = dict(stage="train_multitask", steps=20, log_every=5, checkpoint_every=20, warmup_steps=1)
    curve = single_task_baselines(config, cache, TrainConfig(**stage3, val_every=5), visits)["wine/cultivar"]["curve"]
    assert [step for step, _ in curve] == [2, 4, 6, 8, 10] and all(0 <= value <= 1 for _, value in curve)
    assert "curve" not in single_task_baselines(config, cache, TrainConfig(**stage3), visits)["wine/cultivar"]


def test_specialists_side_by_side_give_the_bits_of_one_thread_runs_in_turn(tmp_path):
    """Two spawned one-thread workers: each specialist's metrics, seconds aside, equal those of the
    same specialists trained one after another in this process at one thread, in the tasks' order."""
    import torch

    from omnivec2.data.sample_table import build_sample_table
    from omnivec2.datasets import resolve_dataset, with_class_lists
    from omnivec2.evaluation.specialists import single_task_baselines
    from omnivec2.model import preset
    from omnivec2.tokens.cache import build_token_cache
    from omnivec2.training.stage_runner import stream_config
    from tests.omnivec2.evaluation.helpers import CLASSES, ENTRY

    rng = np.random.default_rng(1)
    streams = []
    for name in ("wine", "grapes"):
        spec = with_class_lists(resolve_dataset(name, ENTRY), {"cultivar": CLASSES})
        labels = np.arange(48) % 3
        rows = [rng.normal(label, 0.5, 3).astype(np.float32) for label in labels]
        table = build_sample_table([f"{name}{i:02d}" for i in range(48)], ["train"] * 30 + ["val"] * 6 + ["test"] * 12,
                                   rows, {"cultivar": labels})
        streams.append(stream_config(build_token_cache(table, spec, tmp_path / "tokens")))
    config = preset("tiny").with_modalities(streams)
    visits = {"wine/cultivar": {"visits": 6, "samples": 48}, "grapes/cultivar": {"visits": 4, "samples": 40}}
    train = TrainConfig(stage="train_multitask", steps=10, log_every=5, checkpoint_every=10, warmup_steps=1, val_every=5)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        in_turn = single_task_baselines(config, tmp_path / "tokens", train, visits, workers=1)
    finally:
        torch.set_num_threads(threads)
    side_by_side = single_task_baselines(config, tmp_path / "tokens", train, visits, workers=2)
    assert list(side_by_side) == list(in_turn) == ["wine/cultivar", "grapes/cultivar"]
    drop = lambda r: {k: v for k, v in r.items() if k not in ("train_seconds", "seconds")}  # timings
    assert {k: drop(r) for k, r in side_by_side.items()} == {k: drop(r) for k, r in in_turn.items()}
    assert side_by_side["wine/cultivar"]["steps"] == 6 and side_by_side["grapes/cultivar"]["batch_size"] == 10
