"""Stage 3: supervised multitask training on pairs of tasks with task balancing, from stage 2's checkpoint."""

from pipelines.training_node import train


def train_multitask(stage_params: dict, model_params: dict, ray_params: dict, cache_dir: str,
                    previous: dict, *manifests: dict):
    return train("train_multitask", stage_params, model_params, ray_params, cache_dir, previous, manifests)
