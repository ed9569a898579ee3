"""Stage 1: unimodal masked pretraining with iterative modality switching."""

from pipelines.io import Location, TokenCache
from pipelines.training_node import train


def pretrain_unimodal(stage_params: dict, model_params: dict, ray_params: dict, token_cache: TokenCache,
                      model_folder: Location, *manifests: dict):
    return train("pretrain_unimodal", stage_params, model_params, ray_params, token_cache, model_folder, None, manifests)
