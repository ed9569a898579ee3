"""In-memory token data per modality and the shuffled batch streams drawn from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class ModalityData:
    """One modality's split: tokens [S, N, P] float32 and one target tensor [S, ...] per task."""

    tokens: torch.Tensor
    targets: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def take(self, index: torch.Tensor) -> "ModalityData":
        return ModalityData(self.tokens[index], {k: v[index] for k, v in self.targets.items()})

    def shard(self, rank: int, world_size: int) -> "ModalityData":
        """Rows rank, rank + W, ... for data-parallel workers (every worker keeps at least one row)."""
        if world_size <= 1:
            return self
        index = torch.arange(rank % len(self), len(self), world_size)
        return self.take(index)

    @classmethod
    def from_token_split(cls, split, tasks=None) -> "ModalityData":
        """A cached split (`tokens.cache.TokenSplit`: numpy tokens [S, N, P] and targets) -> tensors,
        keeping only `tasks`' targets if given. torch.from_numpy shares memory with the (possibly
        zero-copy Arrow) buffer; a read-only array is copied."""
        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(a if a.flags.writeable else a.copy())

        targets = {k: v for k, v in split.targets.items() if tasks is None or k in tasks}
        return cls(tensor(split.tokens), {k: tensor(np.asarray(v)) for k, v in targets.items()})


def load_training_data(cache_root, modalities, split: str = "train") -> dict[str, ModalityData]:
    """Each modality's cached split (read and verified; no re-tokenisation) as tensors."""
    from omnivec2.tokens.cache import read_token_split

    return {m: ModalityData.from_token_split(read_token_split(cache_root, m, split)) for m in modalities}


class BatchStream:
    """Endless shuffled batches over one modality's rows: a new permutation every epoch.

    Its position is part of a checkpoint (`state_dict`), so a resumed run draws the same batches.
    """

    def __init__(self, size: int, batch_size: int, seed: int):
        if size < 1:
            raise ValueError("cannot draw batches from an empty split")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.epoch, self.position = 0, 0
        self._order = self._permutation()

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return torch.randperm(self.size, generator=g)

    def next_indices(self, batch_size: int | None = None) -> torch.Tensor:
        """Indices [b] of the next batch; wraps into the next epoch (and repeats rows if b > size)."""
        want = batch_size or self.batch_size
        out = []
        while want > 0:
            if self.position >= self.size:
                self.epoch, self.position = self.epoch + 1, 0
                self._order = self._permutation()
            take = min(want, self.size - self.position)
            out.append(self._order[self.position : self.position + take])
            self.position += take
            want -= take
        return torch.cat(out)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self._permutation()
