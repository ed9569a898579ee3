"""The stage's optimiser: AdamW over what trains, optionally split into parameter groups.

`weight_decay_groups` follows MAE's `param_groups_weight_decay` (timm's `no_weight_decay` list):
LayerNorm weights, biases and the learned position, modality-type and mask embeddings are not
decayed, since shrinking them towards zero only distorts what they encode. `shared_lr_scale` sets the
learning rate of the pretrained shared parts (f, its FC layers, A, g, Fuse) relative to the rest, so
that fresh heads can move fast while stage 3 does not wash out what pretraining learned;
`head_lr_scale` does the converse for the task heads alone (a fresh linear head on normalised
features can take a far larger step than the pretrained layers under it).
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.training.config import TrainConfig

# The network's learned position, type and mask tables and its biases, by how they are named:
# `positions.<stream>` and `modality_type.<family>` (OmniVec2), `...pos` (text embedding, decoders),
# `...mask_token` (decoders), `mask_embedding`, `...type_embedding` (graphs), `...bias` (tables too).
NO_DECAY_GROUPS = ("positions", "modality_type")
NO_DECAY_LEAVES = ("pos", "mask_token", "mask_embedding", "type_embedding", "bias")


def is_no_decay(name: str, parameter: nn.Parameter) -> bool:
    """1-D tensors (LayerNorm weights, biases, gates) and the tables named above."""
    parts = name.split(".")
    return parameter.ndim <= 1 or parts[0] in NO_DECAY_GROUPS or parts[-1] in NO_DECAY_LEAVES


def parameter_groups(module: nn.Module, shared: set[int], config: TrainConfig, heads: set[int] = frozenset()) -> list[dict]:
    """AdamW groups over `module`'s trainable parameters: {params, weight_decay, lr_scale}.
    `shared`: ids of the parameters `shared_lr_scale` applies to; `heads`: those of `head_lr_scale`."""
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, parameter in module.named_parameters():
        if not parameter.requires_grad:
            continue
        decay = 0.0 if config.weight_decay_groups and is_no_decay(name, parameter) else config.weight_decay
        scale = (config.shared_lr_scale if id(parameter) in shared
                 else config.head_lr_scale if id(parameter) in heads else 1.0)
        groups.setdefault((decay, scale), []).append(parameter)
    return [{"params": params, "weight_decay": decay, "lr": config.lr * scale, "lr_scale": scale}
            for (decay, scale), params in groups.items()]


def build_optimizer(module: nn.Module, shared: list[nn.Parameter], config: TrainConfig,
                    heads: list[nn.Parameter] = ()) -> torch.optim.Optimizer:
    """One group when the switches are off, so the default optimiser (and its checkpoints) is as before."""
    if not config.weight_decay_groups and config.shared_lr_scale == 1.0 and config.head_lr_scale == 1.0:
        params = [p for p in module.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(parameter_groups(module, {id(p) for p in shared}, config, {id(p) for p in heads}),
                             lr=config.lr)
