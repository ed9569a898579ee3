"""A small fixed dataset over registered modalities, for in-process training tests."""

import torch

from tests.default_suite import DATASETS
from omnivec2.training.data import ModalityData
from tests.omnivec2.model.helpers import example_tokens


# The algorithm tests (batch composition, overfitting, resumption) run on three small modalities;
# the contract test and `test_every_modality_trains_in_every_stage` cover all of them.
CORE = ("image", "imu", "tabular")


def fixed_data(rows: int = 16, seed: int = 0, modalities=CORE) -> dict[str, ModalityData]:
    g = torch.Generator().manual_seed(seed)
    data = {}
    for name in modalities or sorted(DATASETS):
        spec = DATASETS[name]
        tokens = torch.from_numpy(example_tokens(spec, rows, seed))
        # dense tasks: per-token labels [rows, N, K], laid out like the tokens
        targets = {t.name: torch.randint(0, t.num_classes, (rows, tokens.shape[1], t.outputs_per_token) if t.kind == "dense"
                                         else (rows,), generator=g) for t in spec.tasks}
        data[name] = ModalityData(tokens, targets)
    return data
