"""Cross-modal retrieval (e.g. RGB queries against an infrared gallery): Rank-1 and mAP.

Protocol: both sides are embedded, a CCA fitted on the paired *train* frames maps them into one
space, and each test query ranks the test gallery by cosine similarity there. A gallery item is
relevant when it shows the same identity (`match` target). The same protocol runs on two feature
sets in the same run:

* `omnivec2`: the shared embedding, single stream (A removed): every token of o = g(...) side by
  side, `[S, N * D_g]` (`token_embedding`), standardised and reduced by PCA; beside it, as
  `rank1_pooled` / `map_pooled`, the same protocol on its mean over tokens `[S, D_g]`
  (`shared_embedding`, the linear probes' features);
* `classical`: the raw cached tokens, flattened, standardised and reduced by PCA.

So the figure measures how linearly alignable each representation is across the two cameras. Both
primary sides keep the token grid: matching two cameras' frames of one scene rests on where things
are in the frame, which a mean over tokens removes (measured on the default suite: the pooled
embedding ranks at chance, the token grid well above it; README "Status").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchmetrics.functional.retrieval as tmr
from sklearn.cross_decomposition import CCA
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from omnivec2.evaluation.device import model_device
from omnivec2.evaluation.linear_probe import frozen_features
from omnivec2.model.fitted_readout import flatten_tokens
from omnivec2.model.omnivec2 import OmniVec2, Stream

PCA_COMPONENTS = 64


def shared_embedding(model: OmniVec2, modality: str, tokens: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """tokens `[S, N, P]` -> mean-pooled single-stream features `[S, D_g]` (padding left out, when masked):
    the linear probes' `g` features."""
    return frozen_features(model, modality, tokens, batch_size)["g"]


@torch.no_grad()
def token_embedding(model: OmniVec2, modality: str, tokens: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """tokens `[S, N, P]` -> every single-stream output token of g side by side `[S, N * D_g]` (padding
    tokens as zeros, when masked)."""
    model.eval()
    device = model_device(model)
    streams = [Stream(modality, tokens[i : i + batch_size].to(device)) for i in range(0, len(tokens), batch_size)]
    return torch.cat([flatten_tokens(model.forward_stream(s), model.padding(s)).cpu() for s in streams]).numpy()


def retrieval_metrics(query: np.ndarray, gallery: np.ndarray, query_ids: np.ndarray, gallery_ids: np.ndarray) -> dict[str, float]:
    """query `[Q, D]`, gallery `[G, D]` (one space), identities `[Q]`, `[G]` -> Rank-1 and mAP by cosine."""
    q = torch.nn.functional.normalize(torch.as_tensor(query, dtype=torch.float32), dim=1)
    g = torch.nn.functional.normalize(torch.as_tensor(gallery, dtype=torch.float32), dim=1)
    scores = q @ g.T  # [Q, G]
    relevant = torch.tensor(np.asarray(query_ids))[:, None] == torch.tensor(np.asarray(gallery_ids))[None, :]
    if not bool(relevant.any(dim=1).all()):
        missing = int((~relevant.any(dim=1)).sum())
        raise ValueError(f"{missing} of {len(q)} queries have no relevant item in the gallery")
    rank1 = [float(tmr.retrieval_hit_rate(s, r, top_k=1)) for s, r in zip(scores, relevant)]
    average_precision = [float(tmr.retrieval_average_precision(s, r)) for s, r in zip(scores, relevant)]
    return {"rank1": float(np.mean(rank1)), "map": float(np.mean(average_precision)),
            "chance_rank1": float(relevant.float().mean())}


def pair_key(sample_id: str, marker: str) -> str:
    """What a sample id has in common with its paired row's: the id with every occurrence of its side's
    marker replaced (`chess-king-rgb03` / `chess-king-ir03` with markers `-rgb` / `-ir`, as the generators
    write them); without a marker, the id itself."""
    return sample_id.replace(marker, "\x00") if marker else sample_id


def pair_rows(query_sample_ids: list[str], gallery_sample_ids: list[str], query_marker: str,
              gallery_marker: str) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (query, gallery) of frames that show one scene: equal `pair_key`s."""
    gallery_row = {pair_key(s, gallery_marker): i for i, s in enumerate(gallery_sample_ids)}
    pairs = [(i, gallery_row[k]) for i, s in enumerate(query_sample_ids) if (k := pair_key(s, query_marker)) in gallery_row]
    if not pairs:
        raise ValueError(f"no query id with {query_marker!r} pairs with a gallery id with {gallery_marker!r}")
    rows = np.array(pairs)
    return rows[:, 0], rows[:, 1]


@dataclass(frozen=True)
class RetrievalRows:
    """Which rows a retrieval protocol uses: the paired train rows that fit the CCA, the test queries
    ranked, and the identities that decide relevance."""

    train_query: np.ndarray  # [T] rows of the query's train split; row t pairs with train_gallery[t]
    train_gallery: np.ndarray  # [T] rows of the gallery's train split
    test_query: np.ndarray | slice  # the query test rows ranked (all, or those whose pair is in the gallery)
    query_ids: np.ndarray  # [Q] identity of each ranked query
    gallery_ids: np.ndarray  # [G] identity of each gallery test row


def retrieval_rows(splits: dict, protocol: dict) -> RetrievalRows:
    """`splits`: {(side, split): TokenSplit} for side query/gallery and split train/test; `protocol`:
    {query, gallery, query_marker, gallery_marker, match?} -> the rows and identities it ranks. With
    `match`, a gallery item is relevant when it has the query's label; without, only the query's own
    paired row is (queries whose pair is not in the gallery's test split are left out)."""
    q_rows, g_rows = pair_rows(splits["query", "train"].sample_ids, splits["gallery", "train"].sample_ids,
                               protocol["query_marker"], protocol["gallery_marker"])
    if protocol.get("match"):
        return RetrievalRows(q_rows, g_rows, slice(None), splits["query", "test"].targets[protocol["match"]],
                             splits["gallery", "test"].targets[protocol["match"]])
    gallery_keys = [pair_key(s, protocol["gallery_marker"]) for s in splits["gallery", "test"].sample_ids]
    number = {key: i for i, key in enumerate(gallery_keys)}  # identities as integers: gallery row numbers
    keys = [pair_key(s, protocol["query_marker"]) for s in splits["query", "test"].sample_ids]
    test_rows = np.array([i for i, key in enumerate(keys) if key in number], dtype=np.int64)
    if not len(test_rows):
        raise ValueError(f"retrieval {protocol['query']} -> {protocol['gallery']}: no test query's paired row is in "
                         "the gallery's test split (pairs are found by sample id, see paired_with's markers)")
    return RetrievalRows(q_rows, g_rows, test_rows, np.array([number[keys[i]] for i in test_rows], dtype=np.int64),
                         np.arange(len(gallery_keys)))


def cca_space(train_query: np.ndarray, train_gallery: np.ndarray, test_query: np.ndarray,
              test_gallery: np.ndarray, components: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paired train rows `[T, Dq]`, `[T, Dg]` (row t of one is row t of the other): each side
    standardised and reduced by PCA, then a CCA between them -> the test rows `[Q, Dq]`, `[G, Dg]`
    in its space, `[Q, c]`, `[G, c]`."""
    with threadpool_limits(1):  # BLAS beside torch's pool on 2 cores: see baselines.py
        sides = []
        for train, test in ((train_query, test_query), (train_gallery, test_gallery)):
            reduce = make_pipeline(StandardScaler(), PCA(min(PCA_COMPONENTS, *train.shape), random_state=seed))
            sides.append((reduce.fit_transform(train), reduce.transform(test)))
        (q_train, q_test), (g_train, g_test) = sides
        cca = CCA(n_components=min(components, q_train.shape[1], g_train.shape[1]), max_iter=1000)
        cca.fit(q_train, g_train)
        return cca.transform(q_test, g_test)


def cca_retrieval(train_query: np.ndarray, train_gallery: np.ndarray, test_query: np.ndarray, test_gallery: np.ndarray,
                  query_ids: np.ndarray, gallery_ids: np.ndarray, components: int, seed: int = 0) -> dict[str, float]:
    """Paired train features `[T, Dq]`, `[T, Dg]` (row t of one is row t of the other) fit the CCA;
    test features `[Q, Dq]`, `[G, Dg]` are ranked in its space -> `retrieval_metrics`. Features with
    more axes are flattened per row."""
    rows = lambda a: a.reshape(len(a), -1)
    q_space, g_space = cca_space(rows(train_query), rows(train_gallery), rows(test_query), rows(test_gallery),
                                 components, seed)
    return retrieval_metrics(q_space, g_space, query_ids, gallery_ids)
