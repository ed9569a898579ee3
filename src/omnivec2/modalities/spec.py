"""What a modality declares, in one place (in the manner of MultiMAE's domain table).

A modality is a *family* (image, audio, point cloud...), parametrised by the settings that fix its
token shapes (image: size, channels, patch; audio: sample rate, seconds, mel bins...). It names no
dataset, class count or task: those are configuration (`omnivec2.datasets`). From a dataset's shape
settings, `Modality.build` gives the parts every stage needs:

* the payload a valid raw sample has (checked by validation);
* the deterministic, cached half of the tokenizer (`tokenizer`): raw sample arrays -> tokens `[N, P]`,
  run once by the tokenization pipeline and stored in the pyarrow token cache;
* the learnable half (`embedding`, a kind of `omnivec2.model.embeddings.EMBEDDINGS`): tokens
  `[B, N, P]` -> `[B, N, D_f]`, built by the model;
* the masking used in masked pretraining and the reconstruction loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Protocol, Sequence

import numpy as np

MaskStrategy = Literal["random", "tube", "span", "token"]


@dataclass(frozen=True)
class MaskSpec:
    """Masked-pretraining policy: the fraction of tokens hidden from the encoder and how they are chosen."""

    ratio: float
    strategy: MaskStrategy = "random"
    tube_period: int = 1  # tube masking: tokens per frame


@dataclass(frozen=True)
class PayloadSpec:
    """What a valid raw sample of a dataset looks like; the validation suite checks each field.

    `shape` uses None for a free dimension. `value_range` is inclusive (None = unbounded).
    `max_bytes` bounds one sample's payload size. `nan_positions` lists the flat (C-order) positions
    where NaN stands for a missing value (a table's numeric cells, when its source allows them);
    NaN anywhere else, and infinities anywhere, are invalid.
    """

    shape: tuple[int | None, ...]
    dtype: str
    value_range: tuple[float | None, float | None] = (None, None)
    max_bytes: int = 1 << 24
    nan_positions: tuple[int, ...] = ()


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
class ModalityParts:
    """What a modality is at one set of shape settings: payload, both tokenizer halves, masking, loss."""

    payload: PayloadSpec
    tokenizer: DeterministicTokenizer
    embedding: str
    mask: MaskSpec
    # Reconstruction target normalised per token (MAE's norm_pix_loss); right for pixel patches,
    # wrong for single-value tokens such as tabular columns.
    norm_targets: bool = False
    # "mse": regress the hidden tokens' values; "token_ce": classify hidden token ids (text: masked
    # language modelling), the id being the token's single value, over `vocab_size` classes.
    reconstruction: str = "mse"
    vocab_size: int = 0
    # Dense (per-pixel) tasks: label values per token (the pixels of a patch); None = no dense tasks.
    dense_outputs_per_token: int | None = None


@dataclass(frozen=True)
class Modality:
    """One row of the modality table: a family, its shape settings with defaults, and how to build it.

    `settings` maps each shape setting to its default and `help` says what each means; `build`
    turns a complete settings dict into the parts. Unknown settings are refused by `resolve`, and so
    are values that do not fit their default's kind (`check_setting`). `optional` settings (added
    after caches existed, e.g. switches) are given to `build` at their default but appear in the
    resolved settings (and so in the cache key) only when set.
    """

    name: str
    settings: dict
    help: dict
    build: Callable[[dict], ModalityParts]
    description: str = ""
    optional: dict = field(default_factory=dict)

    def resolve(self, overrides: dict | None, where: str) -> tuple[dict, ModalityParts]:
        """The full settings (defaults + `overrides`) and the parts built from them.

        `where` names the configuration entry in error messages (e.g. "dataset 'digits', shape").
        """
        from omnivec2.config_checks import check_keys

        overrides = dict(overrides or {})
        known = {**self.settings, **self.optional}
        check_keys(where, overrides, known)
        for key, value in overrides.items():
            check_setting(where, key, value, known[key])
        settings = {**self.settings, **overrides}
        try:
            parts = self.build({**self.optional, **settings})
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: {error} (settings {settings})") from None
        return settings, parts


def _number(value, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if integer else isinstance(value, (int, float))


def check_setting(where: str, key: str, value, default) -> None:
    """Refuse a shape setting that does not fit its default's kind, naming `where`, the key and the
    value: a positive integer where the default is one (a `size`, or a setting whose default is a
    list of them, may also be a list: [height, width]), a positive number where it is a positive
    number, and a `value_range` [low, high] of numbers or nulls with low <= high. Settings with other
    defaults (null, text, zero, negative: a user's modality may mean anything by them) are left to
    the modality's build."""
    if key == "value_range":
        ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(v is None or _number(v, False) for v in value)
        if not ok or (None not in value and value[0] > value[1]):
            raise ValueError(f"{where}: value_range must be [low, high] (numbers or null, low <= high), got {value!r}")
        return
    integer = isinstance(default, int) or (isinstance(default, (list, tuple)) and default
                                           and all(_number(d, True) for d in default))
    if isinstance(default, bool) or not (integer or _number(default, False)):
        return
    if not integer and default <= 0:
        return
    if integer and isinstance(default, int) and default <= 0:
        return
    sides = integer and (isinstance(default, (list, tuple)) or key == "size")  # one side, or [height, width]
    values = list(value) if sides and isinstance(value, (list, tuple)) and value else [value]
    if not all(_number(v, integer) and v > 0 for v in values):
        kind = "a positive integer" + (" or a list of them" if sides else "") if integer else "a positive number"
        raise ValueError(f"{where}: {key} must be {kind}, got {value!r}")
