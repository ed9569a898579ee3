"""Unified heads (`head_sharing: unified`, the ablation of the paper's task-specific heads): one
classification head for every classification task of every stream, over the union of their label
spaces, instead of one head per (stream, task).

The shared head is a `PooledHead` (mean over tokens, the configured normalisation, one linear layer)
over C = sum of the tasks' class counts; task t owns the classes [offset_t, offset_t + C_t). Each
task still has an entry in `OmniVec2.heads`, a `ClassSlice`: a view of the shared head with no
parameters of its own.

- Training: one softmax over the union, as a single classifier trained on the datasets merged would
  have. The view returns the union's logits with its task's classes first, `[B, C_t + (C - C_t)]`,
  so that the cross-entropy against the task's own labels (0..C_t-1) is the union's cross-entropy;
  the other tasks' classes compete for every sample.
- Evaluation: the task is known, so the prediction is the arg-max over its own classes, `[B, C_t]`.
- End of stage 3: the heads that share a normalisation get one set of precise statistics over all
  their rows (`training.precise_heads`), and the shared output layer is refitted as one logistic
  regression over the union (`training.head_refit`); no flattened read-outs are fitted beside it.

Regression, dense and embedding heads stay one per task: their outputs have no label space to join.
"""

from __future__ import annotations

import torch
from torch import nn

from omnivec2.model.config import TaskConfig
from omnivec2.model.heads import PooledHead

UNIFIED_KEY = "unified__classification"  # its entry in OmniVec2.heads (head keys are "<stream>__<task>")


class ClassSlice(nn.Module):
    """Task `task`'s view of the shared head: classes [offset, offset + classes) of its output."""

    def __init__(self, shared: PooledHead, offset: int, classes: int):
        super().__init__()
        # Held outside the module tree: the shared head's parameters are registered once, under UNIFIED_KEY.
        object.__setattr__(self, "_shared", shared)
        self.offset, self.classes, self.kind, self.tokens = offset, classes, "classification", 0

    @property
    def shared(self) -> PooledHead:
        return self._shared

    @property
    def norm(self) -> nn.Module:
        return self._shared.norm

    @property
    def out(self) -> nn.Linear:
        return self._shared.out

    def reduce(self, features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """features [B, N, D] -> [B, D], what the shared head normalises."""
        return self._shared.reduce(features, padding)

    def forward(self, features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """features [B, N, D] -> eval: logits [B, C_t]; training: [B, C] with this task's C_t first."""
        logits = self._shared(features, padding)
        own = slice(self.offset, self.offset + self.classes)
        if not self.training:
            return logits[:, own]
        return torch.cat([logits[:, own], logits[:, : self.offset], logits[:, self.offset + self.classes :]], dim=1)


def build_unified_heads(tasks: list[tuple[str, TaskConfig]], dim: int, norm: str) -> tuple[PooledHead, dict[str, ClassSlice]]:
    """tasks: [(head key, classification task), ...] in a fixed order -> (the shared head over the
    union of their classes, {head key: its view})."""
    total = sum(task.num_classes for _, task in tasks)
    shared = PooledHead(TaskConfig(name="unified", kind="classification", num_classes=total), dim, norm)
    views, offset = {}, 0
    for key, task in tasks:
        views[key] = ClassSlice(shared, offset, task.num_classes)
        offset += task.num_classes
    return shared, views
