"""The losses of the three stages, computed in one module so that DDP sees a single forward.

* masked items (stages 1 and 2): reconstruct the hidden tokens of each stream, MSE on masked tokens
  (plus cross-entropy on a table's masked category codes);
* supervised items (stage 3): each stream's task loss, combined by the task balancer.
With two items the streams are paired through A; with one, A is not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from omnivec2.model.decoder import reconstruction_loss, value_weights
from omnivec2.model.heads import task_loss
from omnivec2.model.masking import Mask, make_mask
from omnivec2.model.omnivec2 import OmniVec2, Stream
from omnivec2.training.contrastive import LOSS_KEY, ContrastiveItem, ContrastiveLoss


@dataclass
class MaskedItem:
    modality: str
    tokens: torch.Tensor  # [B, N, P]
    mask: Mask


@dataclass
class SupervisedItem:
    modality: str
    task: str
    tokens: torch.Tensor  # [B, N, P]
    target: torch.Tensor  # [B] (classification/regression) or [B, N, outputs_per_token] (dense)

    @property
    def key(self) -> str:
        return f"{self.modality}/{self.task}"


def draw_mask(model: OmniVec2, modality: str, tokens: torch.Tensor, generator: torch.Generator | None) -> Mask:
    """The modality's masking policy applied to a batch of tokens [B, N, P]."""
    m = model.config.modality(modality)
    return make_mask(m.mask_strategy, tokens.shape[0], tokens.shape[1], m.mask_ratio,
                     period=m.tube_period, generator=generator, device="cpu")


class StageObjective(nn.Module):
    """Wraps the network (and a learnable balancer, if any) so one forward returns a step's loss."""

    def __init__(self, model: OmniVec2, balancer: nn.Module | None = None, label_smoothing: float = 0.0,
                 contrastive_weight: float = 0.0, contrastive_streams: tuple[str, ...] = (),
                 contrastive_projection: int = 0, contrastive_pooling: str = "mean"):
        super().__init__()
        self.model = model
        self.balancer = balancer
        self.label_smoothing = label_smoothing
        self.contrastive_weight = contrastive_weight
        streams = {s: model.config.modality(s).num_tokens for s in contrastive_streams}
        self.contrastive = (ContrastiveLoss(model.config.dim_g, streams, contrastive_projection, contrastive_pooling)
                            if contrastive_weight > 0 else None)

    def forward(self, items: list, use_cross: bool = True, weights: dict[str, float] | None = None,
                contrastive: ContrastiveItem | None = None):
        """items: MaskedItem(s) or SupervisedItem(s). Returns (total loss, {item key: loss}); with a
        `contrastive` batch, its InfoNCE loss is added (times the weight) and reported as "contrastive"."""
        total, losses = self._items_loss(items, use_cross, weights)
        if contrastive is not None:
            losses[LOSS_KEY] = self.contrastive(self.model, contrastive)
            total = total + self.contrastive_weight * losses[LOSS_KEY]
        return total, losses

    def _items_loss(self, items: list, use_cross: bool, weights: dict[str, float] | None):
        streams = [Stream(i.modality, i.tokens, getattr(i, "mask", None)) for i in items]
        features = self.model.forward_streams(streams, use_cross=use_cross)
        if isinstance(items[0], MaskedItem):
            losses = {}
            for item, o in zip(items, features):
                pred = self.model.reconstruct(item.modality, o, item.mask, item.tokens)
                m = self.model.config.modality(item.modality)
                centres = self.model.config.point_centres_to_decoder  # the centre is given, not a target
                scored = item.mask.masked
                pad = self.model.token_padding(item.modality, item.tokens)
                if pad is not None:  # a hidden [PAD] is not a prediction target
                    scored = scored & ~pad
                losses[item.modality] = reconstruction_loss(pred, item.tokens, scored, m.norm_targets,
                                                            m.reconstruction, value_weights(m, centres),
                                                            m.column_vocab)
            return sum(losses.values()), losses
        losses = {}
        for item, stream, o in zip(items, streams, features):
            task = self.model.config.modality(item.modality).task(item.task)
            output = self.model.predict(item.modality, item.task, o, self.model.padding(stream))
            losses[item.key] = task_loss(task.kind, output, item.target, task.ignore_index, self.label_smoothing)
        if self.balancer is not None:  # learnable (uncertainty) weighting lives inside the forward
            total, _ = self.balancer.combine(losses)
        else:
            total = sum((weights or {}).get(k, 1.0) * loss for k, loss in losses.items())
        return total, losses
