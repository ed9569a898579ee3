"""The ablation variants: each changes one design choice of the full model (Table 12 and the
design choices of the paper), and states the direction the paper reports."""

from __future__ import annotations

from dataclasses import dataclass, field

STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


@dataclass(frozen=True)
class Variant:
    name: str
    question: str
    model: dict = field(default_factory=dict)  # ModelConfig overrides
    stages: tuple[str, ...] = STAGES  # the stages that run; skipped stages' steps go to the next one that runs
    train: dict = field(default_factory=dict)  # TrainConfig overrides for stage 3
    paper: str = "full model better"


FULL = Variant("full (stages 1+2+3, pairwise, A, DWA)", "reference")

VARIANTS: tuple[Variant, ...] = (
    FULL,
    Variant("unified tokenizer", "modality-specific vs unified tokenizer", model={"tokenizer": "unified"}),
    Variant("unified heads", "task-specific vs unified heads", model={"head_sharing": "unified"}),
    Variant("no pretraining", "pretraining stages", stages=("train_multitask",)),
    Variant("stage 1 only", "pretraining stages", stages=("pretrain_unimodal", "train_multitask")),
    Variant("joint training", "pairwise vs joint vs sequential", train={"mode": "joint"}),
    Variant("sequential training", "pairwise vs joint vs sequential", train={"mode": "sequential"}),
    Variant("without A", "with vs without cross-attention", model={"cross_attention": False}),
    Variant("without task balancing", "with vs without task balancing", train={"balancing": "equal"}),
)


def variant_by_name(name: str) -> Variant:
    for variant in VARIANTS:
        if variant.name == name or variant.name.split(" (")[0] == name:
            return variant
    raise ValueError(f"unknown ablation variant {name!r}; choose from {[v.name.split(' (')[0] for v in VARIANTS]}")


def stage_steps(variant: Variant, steps: dict[str, int]) -> dict[str, int]:
    """Equal compute: the steps of a skipped stage move to the next stage that runs."""
    out, carried = {}, 0
    for stage in STAGES:
        if stage in variant.stages:
            out[stage] = steps[stage] + carried
            carried = 0
        else:
            carried += steps[stage]
    return out
