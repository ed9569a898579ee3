"""Model configuration: a dataclass per network and per modality, plus the named presets.

Everything here is plain data (JSON round-trips through `to_dict`/`from_dict`), so a checkpoint's
config.json rebuilds the exact network without pickle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Literal

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model knows nothing of datasets; this only types the adapter below
    from omnivec2.datasets.spec import DatasetSpec

FuseKind = Literal["add", "concat", "gate", "none"]
TokenizerKind = Literal["specific", "unified"]
HeadNormKind = Literal["layer", "batch"]
HeadPoolingKind = Literal["mean", "flatten", "flatten_scaled", "select"]
DenseReadoutKind = Literal["trained", "select"]
HeadSharingKind = Literal["per_task", "unified"]


@dataclass(frozen=True)
class TaskConfig:
    name: str
    kind: str  # classification | dense | regression | embedding
    num_classes: int
    outputs_per_token: int = 1  # dense tasks: target values per token (pixels of a patch)
    classes: tuple[str, ...] = ()  # class names in index order (empty: only the count is known)
    ignore_index: int | None = None  # dense tasks: the label of unlabelled targets (no loss, no metric)


@dataclass(frozen=True)
class ModalityConfig:
    """What the network needs to know about one input stream: a dataset, named `name`, of the
    modality family `modality` (derived from its spec and token cache). Streams of one modality
    share that modality's learnable tokenizer half where their token shapes allow it."""

    name: str
    num_tokens: int  # N
    token_dim: int  # P
    embedding: str = "patch_linear"  # patch_linear | per_column
    mask_ratio: float = 0.75
    mask_strategy: str = "random"  # random | tube | span | token
    tube_period: int = 1  # tokens per frame, for tube masking
    norm_targets: bool = False
    reconstruction: str = "mse"  # mse | token_ce (masked token ids, over vocab_size classes)
    vocab_size: int = 0
    tasks: tuple[TaskConfig, ...] = ()
    modality: str = ""  # the modality family; "" = the stream's own name (a one-dataset modality)
    # Tables: vocabulary size of each column's categories (0: a numeric column); () = all numeric.
    column_vocab: tuple[int, ...] = ()
    missing_values: bool = False  # tables: numeric cells may be missing (a learned missing embedding)
    # Text: the ids are the dataset's own (a vocabulary pruned to its train split), so its id embedding
    # is not shared with the modality's other datasets.
    own_vocabulary: bool = False
    # Log-mel spectrograms: (band groups, time groups, mels per patch, frames per patch) of the token
    # grid, which spectrogram augmentation needs to undo the patching; () for every other stream.
    spectrogram_grid: tuple[int, ...] = ()
    # ViT patches of images: (rows, cols, channels, patch) of the token grid, which a horizontal flip
    # needs to undo the patching (`tokens.patches.pixel_grid`); () for every other stream.
    pixel_grid: tuple[int, ...] = ()

    @property
    def family(self) -> str:
        return self.modality or self.name

    def task(self, name: str) -> TaskConfig:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"modality {self.name!r} has no task {name!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Widths, depths and the switchable (reconstructed or ablated) design choices.

    f: `depth_f` pre-norm blocks at width `dim_f`, then `fc_layers` FC layers to `dim_g`.
    g: `depth_g` pre-norm blocks at width `dim_g`.
    """

    dim_f: int = 128
    depth_f: int = 4
    heads_f: int = 4
    dim_g: int = 96
    depth_g: int = 2
    heads_g: int = 4
    mlp_ratio: float = 4.0
    fc_layers: int = 2
    dropout: float = 0.0
    # Stochastic depth in f's and g's blocks: the rate of their last block (block l of L: rate * l / L).
    drop_path: float = 0.0
    cross_attention: bool = True  # ablation: False removes A in training too
    cross_heads: int = 4
    # A as u = z + tanh(alpha) A(z, other), alpha a learned scalar starting at 0 (Flamingo's gating):
    # at initialisation the pair path equals the single-stream one used at test time.
    cross_gate: bool = False
    # Stochastic A-drop: in training, each sample of a pair skips A (u = z, the test-time path) with this
    # probability, so g and the heads also learn on the single-stream features evaluation gives them.
    cross_drop: float = 0.0
    # Text [PAD] and graph padding tokens are never attended to, pooled or scored (they are otherwise).
    key_padding_mask: bool = False
    # Point-MAE: the decoder adds an MLP embedding of each masked point group's centre to its mask
    # token, and the centre (known) leaves the reconstruction target (mini_pointnet streams only).
    point_centres_to_decoder: bool = False
    head_init_scale: float = 1.0  # task heads' output weights times this after Xavier init (MAE: 0.001 style)
    # How a head normalises its input (pooled [B, D], or dense [B, N, D]): "layer" (per sample or token) or
    # "batch" (per feature over the batch, no affine: MAE's linear-probe head), which removes what all share.
    head_norm: HeadNormKind = "layer"
    # What a classification head reads: the mean over tokens, or ("flatten") every token side by side,
    # for streams whose tokens sit at fixed places (heads.ORDERED_EMBEDDINGS; point clouds and graphs
    # keep the mean). Regression and embedding heads always average. "select": the head trains on the
    # mean, and at the end-of-stage refit a flattened read-out is fitted beside it; whichever scores
    # higher on the stream's validation split is kept (heads.FittedReadout, training.readout_select).
    head_pooling: HeadPoolingKind = "mean"
    # What a dense head answers with: its trained output layer on each token's features, or ("select")
    # that, or a read-out fitted at the end of stage 3 on each token's features beside the stream's
    # input token (a low-level skip, as DeepLabv3+'s decoder reads low-level features), whichever
    # scores the higher mIoU on the validation split (heads.FittedDenseReadout, training.readout_select).
    dense_readout: DenseReadoutKind = "trained"
    # Ablation (the paper's task-specific heads): "unified" = one classification head over the union of
    # every classification task's classes, each task reading its own (model.unified_head).
    head_sharing: HeadSharingKind = "per_task"
    fuse: FuseKind = "add"  # reconstructed: how g's output is fused with the stream's f features
    tokenizer: TokenizerKind = "specific"  # ablation: "unified" = one shared embedding for all modalities
    decoder_dim: int = 64
    decoder_depth: int = 1
    decoder_heads: int = 4
    modalities: tuple[ModalityConfig, ...] = ()

    def modality(self, name: str) -> ModalityConfig:
        for modality in self.modalities:
            if modality.name == name:
                return modality
        raise KeyError(f"model has no modality {name!r}; it has {[m.name for m in self.modalities]}")

    def with_modalities(self, modalities: list[ModalityConfig] | tuple[ModalityConfig, ...]) -> "ModelConfig":
        return replace(self, modalities=tuple(modalities))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        modalities = tuple(
            ModalityConfig(**{**m, "tasks": tuple(TaskConfig(**{**t, "classes": tuple(t.get("classes", ()))})
                                                  for t in m.get("tasks", ())),
                              "column_vocab": tuple(m.get("column_vocab", ())),
                              "spectrogram_grid": tuple(m.get("spectrogram_grid", ())),
                              "pixel_grid": tuple(m.get("pixel_grid", ()))})
            for m in data.get("modalities", ())
        )
        return cls(**{**data, "modalities": modalities})


PRESETS: dict[str, dict] = {
    # CI and tests: seconds per stage.
    "tiny": dict(dim_f=64, depth_f=1, heads_f=4, dim_g=48, depth_g=1, heads_g=4, cross_heads=4,
                 decoder_dim=32, decoder_depth=1, decoder_heads=2),
    # The 2-core CPU default: minutes for the whole suite.
    "cpu": dict(dim_f=128, depth_f=4, heads_f=4, dim_g=96, depth_g=2, heads_g=4, cross_heads=4,
                decoder_dim=64, decoder_depth=1, decoder_heads=4),
    # Paper-like widths for a GPU: f is ViT-B sized; g and the decoders are reconstructed choices.
    "base": dict(dim_f=768, depth_f=12, heads_f=12, dim_g=512, depth_g=4, heads_g=8, cross_heads=8,
                 decoder_dim=256, decoder_depth=2, decoder_heads=8),
}


def preset(name: str, **overrides) -> ModelConfig:
    """A named preset, with any field overridden (e.g. `fuse="none"` for an ablation)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose one of {sorted(PRESETS)}")
    known = {f.name for f in fields(ModelConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown model options {sorted(unknown)}; valid: {sorted(known - {'modalities'})}")
    return ModelConfig(**{**PRESETS[name], **overrides})


def modality_config_from_spec(spec: "DatasetSpec", num_tokens: int, token_dim: int, **overrides) -> ModalityConfig:
    """Combine a dataset's spec with the token shape found in its cache manifest."""
    tasks = tuple(TaskConfig(t.name, t.kind, t.num_classes, t.outputs_per_token, tuple(t.classes), t.ignore_index)
                  for t in spec.tasks)
    return ModalityConfig(
        name=spec.name,
        modality=spec.modality,
        num_tokens=num_tokens,
        token_dim=token_dim,
        embedding=spec.embedding,
        mask_ratio=spec.mask.ratio,
        mask_strategy=spec.mask.strategy,
        tube_period=getattr(spec.mask, "tube_period", 1),
        norm_targets=spec.norm_targets,
        reconstruction=spec.reconstruction,
        vocab_size=spec.vocab_size,
        tasks=tasks,
        **overrides,
    )
