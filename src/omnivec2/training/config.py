"""Training-stage settings (one dataclass, filled from `parameters_<stage>.yml`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from omnivec2.config_checks import did_you_mean

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
    dwa_normalise: bool = False  # divide each task's weight by its first loss (L_k / L_k(0))
    mode: str = "pairwise"  # stages 2-3: pairwise | joint | sequential (stage 3)
    freeze_shared: bool = False  # unseen-modality adaptation: train only tokenizer halves and heads
    precision: str = "fp32"  # fp32 | bf16 (autocast)
    weight_decay_groups: bool = False  # no decay for LayerNorms, biases, position/type/mask embeddings
    shared_lr_scale: float = 1.0  # learning rate of f, FC, A, g and Fuse relative to `lr` (e.g. 0.1 in stage 3)
    head_lr_scale: float = 1.0  # learning rate of the task heads relative to `lr`
    label_smoothing: float = 0.0  # classification losses
    augment: tuple | bool = False  # supervised steps: label-preserving token augmentation (training/augment.py); true: every stream (flips excepted); a list: those datasets and kinds
    precise_head_norm: bool = False  # stage 3: BatchNorm heads' statistics recomputed over the train split at the end (training/precise_heads.py)
    refit_heads: bool = False  # stage 3: pooled heads' output layers refitted on the frozen final features at the end (training/head_refit.py)
    refit_dense: bool = False  # with refit_heads: dense heads too, one logistic regression per pixel of a token
    refit_max_iter: int = 2000  # L-BFGS iterations of every end-of-stage fit (refits, fitted read-outs)
    refit_rows: int = 20_000  # at most this many tokens per dense pixel fit (drawn with a fixed seed)
    refit_c_grid: tuple = (1.0,)  # inverse L2 strengths the end-of-stage classification fits try; validation picks (first listed on a tie)
    log_every: int = 10
    checkpoint_every: int = 50
    val_every: int = 0  # stage 3: each task's validation metric every this many steps (0: never)
    contrastive_weight: float = 0.0  # stage 3: InfoNCE between paired datasets (training/contrastive.py); 0: off
    contrastive_batch: int = 32  # paired rows per step
    contrastive_projection: int = 128  # width of each stream's projection head before the InfoNCE (0: none)
    contrastive_pooling: str = "mean"  # what the projection reads: the mean over tokens, or every token ("tokens")
    contrastive_pairs: tuple = ()  # [{a, b, marker_a, marker_b}]: which datasets pair, and how their ids match

    def __post_init__(self):
        for f in fields(self):
            check_type(f"training.{f.name}", getattr(self, f.name), f.type)
        choices = {
            "stage": STAGES,
            "modality_schedule": ("cycle", "weighted"),
            "pair_sampling": ("uniform", "size", "budget"),
            "balancing": ("dwa", "equal", "uncertainty"),
            "mode": ("pairwise", "joint", "sequential"),
            "precision": ("fp32", "bf16"),
            "contrastive_pooling": ("mean", "tokens"),
        }
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"training.{key} = {getattr(self, key)!r} is not one of {list(allowed)}")
        for key in ("steps", "batch_size", "log_every", "checkpoint_every"):
            if getattr(self, key) < 1:
                raise ValueError(f"training.{key} must be >= 1, got {getattr(self, key)}")
        if self.contrastive_projection < 0:
            raise ValueError(f"training.contrastive_projection must be >= 0 (0: none), got {self.contrastive_projection}")
        if self.contrastive_weight < 0 or self.contrastive_batch < 2:
            raise ValueError("training.contrastive_weight must be >= 0 and training.contrastive_batch >= 2, got "
                             f"{self.contrastive_weight} and {self.contrastive_batch}")
        # A tuple whatever it came as (YAML and Ray's JSON round trip give lists), so that configs compare equal.
        object.__setattr__(self, "contrastive_pairs", tuple(dict(p) if isinstance(p, dict) else p
                                                            for p in self.contrastive_pairs or ()))
        for pair in self.contrastive_pairs:
            if not isinstance(pair, dict) or set(pair) != {"a", "b", "marker_a", "marker_b"}:
                raise ValueError(f"training.contrastive_pairs: each entry needs exactly the keys a, b, marker_a, "
                                 f"marker_b, got {pair!r}")
        grid = self.refit_c_grid  # YAML and Ray's JSON round trip give a list; stored as a tuple of floats
        if (not isinstance(grid, (list, tuple)) or not grid
                or any(isinstance(c, bool) or not isinstance(c, (int, float)) or c <= 0 for c in grid)):
            raise ValueError(f"training.refit_c_grid must be a non-empty list of numbers > 0 (e.g. [1.0, 0.1, 10.0]), "
                             f"got {grid!r}")
        object.__setattr__(self, "refit_c_grid", tuple(float(c) for c in grid))
        augment = self.augment  # true, false, or the datasets augmented (a list from YAML; stored as a tuple)
        if not isinstance(augment, bool):
            if (not isinstance(augment, (list, tuple)) or not augment
                    or any(not isinstance(name, str) or not name for name in augment)):
                raise ValueError(f"training.augment must be true, false or a non-empty list of dataset names or "
                                 f"augmentation kinds (e.g. [spectrogram] or [audio]), got {augment!r}")
            object.__setattr__(self, "augment", tuple(augment))
        if self.val_every < 0:
            raise ValueError(f"training.val_every must be >= 0 (0: no validation), got {self.val_every}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"training.label_smoothing must be in [0, 1), got {self.label_smoothing}")
        for key in ("shared_lr_scale", "head_lr_scale"):
            if getattr(self, key) <= 0:
                raise ValueError(f"training.{key} must be > 0, got {getattr(self, key)}")
        if self.batch_size < 2 and self.stage != "pretrain_unimodal":
            raise ValueError("training.batch_size must be >= 2 to split a batch between two streams")

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        if not isinstance(data, dict):
            raise ValueError(f"training must be a mapping of parameters, got {type(data).__name__} {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training parameters {sorted(unknown)}{did_you_mean(unknown, known)}; "
                             f"valid: {sorted(known - {'stage'})}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    def augments(self, stream) -> bool:
        """Whether supervised batches of `stream` (a `ModalityConfig`) get label-preserving augmentation:
        `augment` is true (flips excepted: `augment.NAMED_ONLY`), or lists the stream's dataset name or its
        kind (`augment.AUGMENTATIONS`)."""
        from omnivec2.training.augment import NAMED_ONLY, augmentation_kind

        if isinstance(self.augment, bool):
            return self.augment and augmentation_kind(stream) not in NAMED_ONLY
        return stream.name in self.augment or augmentation_kind(stream) in self.augment


def check_type(key: str, value, annotation: str) -> None:
    """Refuse a parameter of the wrong type with a message naming the key (YAML pitfalls included:
    `1e-3` is read as text, write `1.0e-3`; `yes`/`no` are booleans)."""
    kind = str(annotation).split("|")[0].strip()
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "an integer"
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        expected = "a number"
    elif kind == "bool":
        ok, expected = isinstance(value, bool), "true or false"
    elif kind == "str":
        ok, expected = isinstance(value, str), "a string"
    else:
        return
    if not ok:
        hint = ""
        if isinstance(value, str) and kind in ("int", "float"):
            hint = " (YAML reads 1e-3 as text: write 1.0e-3)" if "e" in value.lower() else ""
        raise ValueError(f"{key} = {value!r} is {type(value).__name__}, expected {expected}{hint}")
