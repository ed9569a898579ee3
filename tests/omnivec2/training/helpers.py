"""A small fixed dataset over every registered modality, for in-process training tests."""

import torch

from omnivec2.modalities import REGISTRY
from omnivec2.training.data import ModalityData
from tests.omnivec2.model.helpers import example_tokens


def fixed_data(rows: int = 16, seed: int = 0) -> dict[str, ModalityData]:
    g = torch.Generator().manual_seed(seed)
    data = {}
    for name, spec in REGISTRY.items():
        tokens = torch.from_numpy(example_tokens(spec, rows, seed))
        targets = {t.name: torch.randint(0, t.num_classes, (rows,), generator=g) for t in spec.tasks}
        data[name] = ModalityData(tokens, targets)
    return data
