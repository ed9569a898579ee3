"""Training-stage settings (one dataclass, filled from `parameters_<stage>.yml`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


@dataclass(frozen=True)
class TrainConfig:
    stage: str
    steps: int = 200
    batch_size: int = 64  # per step; paired streams get half each
    lr: float = 1.0e-3
    weight_decay: float = 0.05
    warmup_steps: int = 10
    grad_clip: float = 1.0
    seed: int = 0
    modality_schedule: str = "cycle"  # stage 1: cycle | weighted
    pair_sampling: str = "uniform"  # stages 2-3: uniform | size | budget
    balancing: str = "dwa"  # stage 3: dwa | equal | uncertainty
    dwa_temperature: float = 2.0
    dwa_window: int = 4
    mode: str = "pairwise"  # stages 2-3: pairwise | joint | sequential (stage 3)
    freeze_shared: bool = False  # unseen-modality adaptation: train only tokenizer halves and heads
    precision: str = "fp32"  # fp32 | bf16 (autocast)
    log_every: int = 10
    checkpoint_every: int = 50

    def __post_init__(self):
        choices = {
            "stage": STAGES,
            "modality_schedule": ("cycle", "weighted"),
            "pair_sampling": ("uniform", "size", "budget"),
            "balancing": ("dwa", "equal", "uncertainty"),
            "mode": ("pairwise", "joint", "sequential"),
            "precision": ("fp32", "bf16"),
        }
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"training.{key} = {getattr(self, key)!r} is not one of {list(allowed)}")
        for key in ("steps", "batch_size", "log_every", "checkpoint_every"):
            if getattr(self, key) < 1:
                raise ValueError(f"training.{key} must be >= 1, got {getattr(self, key)}")
        if self.batch_size < 2 and self.stage != "pretrain_unimodal":
            raise ValueError("training.batch_size must be >= 2 to split a batch between two streams")

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training parameters {sorted(unknown)}; valid: {sorted(known)}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)
