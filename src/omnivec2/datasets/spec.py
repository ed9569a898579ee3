"""A dataset, resolved: its modality's parts at the dataset's shape settings, its source, tasks and card.

Everything downstream of configuration (sources, validation, the token cache, training, evaluation)
works on a `DatasetSpec`; its `name` keys the dataset's sample table, token cache, heads and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from omnivec2.modalities.spec import DeterministicTokenizer, MaskSpec, PayloadSpec

TaskKind = Literal["classification", "dense", "regression", "embedding"]
TASK_KINDS = ("classification", "dense", "regression", "embedding")


@dataclass(frozen=True)
class TaskSpec:
    """A supervised task on one dataset; `name` is also the target column of the sample table.

    `num_classes` is the number of classes (classification, dense), 1 for regression and the
    embedding width for embedding tasks. Dense tasks predict `outputs_per_token` labels per token
    (the pixels of a patch), laid out like the tokens. `classes` names the classes in index order
    (empty when only a count was given); `ignore_index` marks unlabelled targets (dense maps).
    `infer_classes`: the configuration gives neither names nor a count, so ingestion infers the
    class list from the labels (`omnivec2.datasets.classes`); until it is filled in
    (`with_class_lists`) `num_classes` is 0 and `classes` empty.
    """

    name: str
    kind: TaskKind
    num_classes: int
    outputs_per_token: int = 1
    classes: tuple[str, ...] = ()
    ignore_index: int | None = None
    infer_classes: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """One configured dataset, with what its modality builds at its shape settings."""

    name: str
    modality: str
    payload: PayloadSpec
    tokenizer: DeterministicTokenizer
    embedding: str
    mask: MaskSpec
    tasks: tuple[TaskSpec, ...]
    norm_targets: bool = False
    reconstruction: str = "mse"
    vocab_size: int = 0
    source: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    paired_with: str | None = None
    pairing: dict = field(default_factory=dict)  # paired_with's options (omnivec2.datasets.pairing)
    card: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return str(self.card.get("description", ""))

    def task(self, name: str) -> TaskSpec:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"dataset {self.name!r} has no task {name!r}; it has {[t.name for t in self.tasks]}")
