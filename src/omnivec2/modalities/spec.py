"""What a modality declares, in one place (in the manner of MultiMAE's domain table).

A `ModalitySpec` ties together the two halves of a modality's tokenizer and everything the
training stages need to know about it:

* the deterministic, cached half (`tokenizer`): raw sample arrays -> tokens `[N, P]` (float32),
  run once by the tokenization pipeline and stored in the pyarrow token cache;
* the learnable half (`embedding`): tokens `[B, N, P]` -> `[B, N, D_f]`, built by the model;
* the masking used in masked pretraining, the reconstruction loss, and the tasks with their heads.

The backbone never looks at a modality's name: it receives `{modality: tokens}` and returns
`{modality: features}`. Adding a modality means adding one `ModalitySpec` to the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Sequence

import numpy as np

TaskKind = Literal["classification", "dense", "regression", "embedding"]
MaskStrategy = Literal["random", "tube", "span", "token"]
EmbeddingKind = str  # a key of omnivec2.model.embeddings.EMBEDDINGS ("patch_linear", "per_column", ...)


@dataclass(frozen=True)
class TaskSpec:
    """A supervised task on one modality; `name` is also the target column of the sample table.

    `num_classes` is the number of classes (classification, dense), 1 for regression and the
    embedding width for embedding tasks. Dense tasks predict `outputs_per_token` labels per token
    (the pixels of a patch), laid out like the tokens.
    """

    name: str
    kind: TaskKind
    num_classes: int
    outputs_per_token: int = 1


@dataclass(frozen=True)
class MaskSpec:
    """Masked-pretraining policy: the fraction of tokens hidden from the encoder and how they are chosen."""

    ratio: float
    strategy: MaskStrategy = "random"
    tube_period: int = 1  # tube masking: tokens per frame


@dataclass(frozen=True)
class PayloadSpec:
    """What a valid raw sample of this modality looks like; the validation suite checks each field.

    `shape` uses None for a free dimension. `value_range` is inclusive (None = unbounded).
    `max_bytes` bounds one sample's payload size.
    """

    shape: tuple[int | None, ...]
    dtype: str
    value_range: tuple[float | None, float | None] = (None, None)
    max_bytes: int = 1 << 24


class DeterministicTokenizer(Protocol):
    """The cached half of a modality's tokenizer (numpy only, no learnable state).

    `fit` sees the training split only and returns JSON-serialisable statistics (for example
    column means); `transform` must be a pure function of the samples, the config and those
    statistics, so that the cache key (source hash + config hash + stats) identifies its output.
    """

    def config(self) -> dict:
        """JSON-serialisable settings; hashed into the token cache key."""
        ...

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        """Statistics from the training split (may be empty)."""
        ...

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        """Samples (each of the payload shape) -> tokens `[B, N, P]` float32."""
        ...


@dataclass(frozen=True)
class ModalitySpec:
    """One row of the modality table."""

    name: str
    payload: PayloadSpec
    tokenizer: DeterministicTokenizer
    embedding: EmbeddingKind
    mask: MaskSpec
    tasks: tuple[TaskSpec, ...]
    # Reconstruction target normalised per token (MAE's norm_pix_loss); right for pixel patches,
    # wrong for single-value tokens such as tabular columns.
    norm_targets: bool = False
    # "mse": regress the hidden tokens' values; "token_ce": classify hidden token ids (text: masked
    # language modelling), the id being the token's single value, over `vocab_size` classes.
    reconstruction: str = "mse"
    vocab_size: int = 0
    default_source: dict = field(default_factory=dict)
    description: str = ""

    def task(self, name: str) -> TaskSpec:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"modality {self.name!r} has no task {name!r}; it has {[t.name for t in self.tasks]}")
