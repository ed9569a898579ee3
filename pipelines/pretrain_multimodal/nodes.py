"""Stage 2: multimodal masked pretraining on pairs of modalities, from stage 1's checkpoint."""

from pipelines.io import Location, TokenCache
from pipelines.training_node import train


def pretrain_multimodal(stage_params: dict, model_params: dict, ray_params: dict, token_cache: TokenCache,
                        model_folder: Location, previous: dict, *manifests: dict):
    return train("pretrain_multimodal", stage_params, model_params, ray_params, token_cache, model_folder, previous,
                 manifests)
