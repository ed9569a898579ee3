
from omnivec2.evaluation.specialists import task_budgets
from omnivec2.training.config import TrainConfig


def stage3(**overrides) -> TrainConfig:
    return TrainConfig.from_dict({"stage": "train_multitask", "steps": 100, "batch_size": 64, **overrides})


def test_pairwise_size_sampling_gives_each_task_its_share_of_two_visits_per_step():
    budgets = task_budgets({"a/x": 300, "a/y": 300, "b/z": 400}, stage3(pair_sampling="size"))
    assert budgets == {"a/x": (60, 32), "a/y": (60, 32), "b/z": (80, 32)}  # 200 visits of half a batch
    assert sum(steps for steps, _ in budgets.values()) == 2 * 100


def test_uniform_joint_and_sequential_budgets():
    sizes = {"a/x": 10, "b/y": 990}
    assert task_budgets(sizes, stage3(pair_sampling="uniform")) == {"a/x": (100, 32), "b/y": (100, 32)}
    assert task_budgets(sizes, stage3(mode="joint")) == {"a/x": (100, 32), "b/y": (100, 32)}
    assert task_budgets(sizes, stage3(mode="sequential")) == {"a/x": (50, 64), "b/y": (50, 64)}


def test_a_tiny_share_still_gets_one_step():
    assert task_budgets({"a/x": 1, "b/y": 10_000}, stage3(steps=10, pair_sampling="size"))["a/x"] == (1, 32)
