"""Stage 1: unimodal masked pretraining with iterative modality switching."""

from pipelines.training_node import train


def pretrain_unimodal(stage_params: dict, model_params: dict, ray_params: dict, cache_dir: str, *manifests: dict):
    return train("pretrain_unimodal", stage_params, model_params, ray_params, cache_dir, None, manifests)
