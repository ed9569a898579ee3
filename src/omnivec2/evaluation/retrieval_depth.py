"""Where along the network a retrieval protocol's cross-modal match is kept or lost (`omnivec2
retrieval-depth`): its Rank-1 read from the tokens after each stage of the single-stream pass.

The depths are `network_depths.depth_tokens`' (A removed, as at test time), from the cached input
tokens to o = Fuse(g(z), z), what the heads read and the pipeline's retrieval ranks.

Two read-outs per depth, both fitted on the paired train rows and ranked by cosine on the test split:

* `frame`: the pipeline's protocol (`retrieval.cca_retrieval`): every token side by side
  `[S, N * D]`, standardised, PCA, one CCA between the two frames;
* `token`: one CCA between *tokens at the same grid position* (T * N token pairs fit it, one map for
  every position), each frame then the concatenation of its tokens' projections. It asks whether a
  token still describes its own patch in a way the other camera's token at that place shares; it
  needs both streams on one grid (equal N).

A diagnostic beside the report, not part of the pipeline: it fits only linear maps on frozen features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from omnivec2.evaluation.network_depths import depth_tokens
from omnivec2.evaluation.retrieval import cca_retrieval, cca_space, retrieval_metrics, retrieval_rows
from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.tokens.cache import read_token_split


def token_cca_retrieval(train_query: np.ndarray, train_gallery: np.ndarray, test_query: np.ndarray,
                        test_gallery: np.ndarray, query_ids: np.ndarray, gallery_ids: np.ndarray, components: int,
                        seed: int = 0) -> dict[str, float]:
    """Paired train tokens `[T, N, Dq]`, `[T, N, Dg]` (token n of row t pairs with token n of the other's
    row t) fit one CCA; test frames `[Q, N, Dq]`, `[G, N, Dg]` become `[Q, N * components]` and are
    ranked by cosine -> `retrieval_metrics`."""
    if train_query.shape[1] != train_gallery.shape[1]:
        raise ValueError(f"token-level CCA needs one grid on both sides, got {train_query.shape[1]} and "
                         f"{train_gallery.shape[1]} tokens")
    tokens = lambda a: a.reshape(a.shape[0] * a.shape[1], -1)  # one row per token
    q_space, g_space = cca_space(tokens(train_query), tokens(train_gallery), tokens(test_query), tokens(test_gallery),
                                 components, seed)
    return retrieval_metrics(q_space.reshape(len(test_query), -1), g_space.reshape(len(test_gallery), -1),
                             query_ids, gallery_ids)


def retrieval_by_depth(model: OmniVec2, cache_root: str | Path, protocol: dict, seed: int = 0) -> dict[str, dict]:
    """One retrieval protocol ({query, gallery, query_marker, gallery_marker, match?, components}) ->
    {"chance": Rank-1 by chance, "depths": {depth: {"frame": Rank-1, "token": Rank-1 or None (grids
    differ)}}}, depths in network order."""
    splits = {(side, split): read_token_split(cache_root, protocol[side], split)
              for side in ("query", "gallery") for split in ("train", "test")}
    rows = retrieval_rows(splits, protocol)
    chosen = {("query", "train"): rows.train_query, ("gallery", "train"): rows.train_gallery,
              ("query", "test"): rows.test_query, ("gallery", "test"): slice(None)}
    features = {key: depth_tokens(model, protocol[key[0]], torch.from_numpy(splits[key].tokens[chosen[key]].copy()))
                for key in splits}
    components = int(protocol.get("components", 16))
    out, chance = {}, None
    for depth in features["query", "train"]:
        q_train, g_train = features["query", "train"][depth], features["gallery", "train"][depth]
        q_test, g_test = features["query", "test"][depth], features["gallery", "test"][depth]
        args = (q_train, g_train, q_test, g_test, rows.query_ids, rows.gallery_ids, components, seed)
        frame = cca_retrieval(*args)
        token = token_cca_retrieval(*args)["rank1"] if q_train.shape[1] == g_train.shape[1] else None
        out[depth], chance = {"frame": frame["rank1"], "token": token}, frame["chance_rank1"]
    return {"chance": chance, "depths": out}


def depth_table(name: str, protocol: dict, result: dict) -> str:
    """`retrieval_by_depth`'s result for protocol `name` -> a markdown table."""
    lines = [f"## {protocol['query']}/{name} (gallery {protocol['gallery']})", "",
             "| depth | Rank-1, frame CCA | Rank-1, token CCA |", "|---|---|---|"]
    for depth, r in result["depths"].items():
        token = "n/a (grids differ)" if r["token"] is None else f"{r['token']:.3f}"
        lines.append(f"| {depth} | {r['frame']:.3f} | {token} |")
    lines += ["", f"Chance: {result['chance']:.3f}."]
    return "\n".join(lines) + "\n"
