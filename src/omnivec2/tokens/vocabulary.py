"""A text vocabulary pruned to the ids a corpus uses (the `prune_vocabulary` setting of text).

The masked-token decoder predicts over the whole vocabulary (30 522 WordPieces) although a corpus uses
a few thousand; pruning remaps the ids the train split uses, plus the special tokens, to a dense
range 0..V-1 (in increasing order of the original id, so [PAD] = 0 stays 0), and every other id to
[UNK]. The kept ids are the tokenizer's fit statistics, so the cache manifest, predict and serving
apply the same map to new text.
"""

from __future__ import annotations

import numpy as np

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def kept_ids(train_ids: np.ndarray, special_ids: list[int]) -> list[int]:
    """Original ids [any shape] seen in train, plus `special_ids` -> sorted unique ids (the dense order)."""
    return sorted({int(i) for i in np.unique(train_ids)} | {int(i) for i in special_ids})


def prune_ids(ids: np.ndarray, kept: list[int], unk_id: int) -> np.ndarray:
    """Original ids [...] -> dense ids [...] (same dtype): kept id `kept[j]` -> j, any other -> the
    dense id of [UNK] (`unk_id` is its original id and must be kept)."""
    kept_array = np.asarray(kept, dtype=np.int64)
    unk_dense = int(np.searchsorted(kept_array, unk_id))
    if unk_dense >= len(kept_array) or kept_array[unk_dense] != unk_id:
        raise ValueError(f"the pruned vocabulary must keep [UNK] (id {unk_id})")
    original = np.asarray(ids).astype(np.int64)
    position = np.searchsorted(kept_array, original).clip(0, len(kept_array) - 1)
    found = kept_array[position] == original
    return np.where(found, position, unk_dense).astype(np.asarray(ids).dtype)


def unprune_ids(dense: np.ndarray, kept: list[int]) -> np.ndarray:
    """Dense ids [...] -> original ids [...] (same dtype); an id outside 0..V-1 is an error."""
    index = np.asarray(dense).astype(np.int64)
    if index.size and (index.min() < 0 or index.max() >= len(kept)):
        raise ValueError(f"dense ids must lie in [0, {len(kept)}), got {index.min()}..{index.max()}")
    return np.asarray(kept, dtype=np.int64)[index].astype(np.asarray(dense).dtype)
