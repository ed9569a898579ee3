"""Stage 3: supervised multitask training on pairs of tasks with task balancing, from stage 2's checkpoint."""

from omnivec2.datasets import resolve_datasets
from omnivec2.datasets.pairing import with_contrastive_pairs
from pipelines.io import Location, TokenCache
from pipelines.training_node import train


def train_multitask(stage_params: dict, model_params: dict, ray_params: dict, token_cache: TokenCache,
                    model_folder: Location, previous: dict, datasets: dict, *manifests: dict):
    """With the contrastive term on and no `contrastive_pairs` written, the datasets' `paired_with`
    entries say which datasets pair and how their ids match (`with_contrastive_pairs`)."""
    training = with_contrastive_pairs(stage_params.get("training") or {}, resolve_datasets(datasets))
    stage_params = {**stage_params, "training": training}
    return train("train_multitask", stage_params, model_params, ray_params, token_cache, model_folder, previous,
                 manifests)
