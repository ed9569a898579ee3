"""Stage 3: supervised multitask training on pairs of tasks with task balancing, from stage 2's checkpoint."""

from pipelines.io import Location, TokenCache
from pipelines.training_node import train


def train_multitask(stage_params: dict, model_params: dict, ray_params: dict, token_cache: TokenCache,
                    model_folder: Location, previous: dict, *manifests: dict):
    return train("train_multitask", stage_params, model_params, ray_params, token_cache, model_folder, previous,
                 manifests)
