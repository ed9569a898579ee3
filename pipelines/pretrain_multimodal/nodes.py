"""Stage 2: multimodal masked pretraining on pairs of modalities, from stage 1's checkpoint."""

from pipelines.training_node import train


def pretrain_multimodal(stage_params: dict, model_params: dict, ray_params: dict, cache_dir: str,
                        previous: dict, *manifests: dict):
    return train("pretrain_multimodal", stage_params, model_params, ray_params, cache_dir, previous, manifests)
