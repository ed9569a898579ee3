"""Validation during a supervised stage: each task's primary metric on its dataset's validation
split, every `val_every` steps and at the last step, so that the history holds a learning curve
(validation metric against the visits the task has had).

Reading only: the model is evaluated single-stream in eval mode (no dropout, no random draws) and
put back in training mode, so a run with validation trains exactly as one without it.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnivec2.evaluation.headline import PRIMARY
from omnivec2.evaluation.metrics import predict_task, task_metrics
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.training.data import ModalityData


@dataclass(frozen=True)
class Validation:
    """`data`: {stream: its validation split} (streams without one are not validated); `every`: steps."""

    data: dict[str, ModalityData]
    every: int

    def due(self, step: int, steps: int) -> bool:
        return self.every > 0 and (step % self.every == 0 or step == steps)

    def metrics(self, model: OmniVec2, tasks: list[str]) -> dict[str, float]:
        """{"val/<stream>/<task>": primary metric} for each of `tasks` ("<stream>/<task>") whose stream
        has validation data."""
        was_training, device = model.training, next(model.parameters()).device
        out = {}
        for key in tasks:
            stream, name = key.split("/")
            if stream not in self.data or len(self.data[stream]) == 0:
                continue
            task = model.config.modality(stream).task(name)
            split = self.data[stream]
            output = predict_task(model, stream, name, split.tokens.to(device)).cpu()
            figures = task_metrics(task.kind, output, split.targets[name], task.num_classes, task.ignore_index)
            out[f"val/{key}"] = figures[PRIMARY[task.kind][0]]
        model.train(was_training)
        return out


def load_validation_data(cache_root, streams) -> dict[str, ModalityData]:
    """The cached `val` split of each stream that has one (a user's dataset may have none)."""
    from omnivec2.tokens.cache import split_names
    from omnivec2.training.data import load_training_data

    with_val = [s for s in streams if "val" in split_names(cache_root, s)]
    return load_training_data(cache_root, with_val, "val")
