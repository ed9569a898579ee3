"""Contrastive alignment of paired datasets (ImageBind-style InfoNCE), a stage-3 switch.

Two datasets of different modalities are *paired* when rows show one scene (the RGB and infrared
frames of one view: `paired_with`). With `training.contrastive_weight` > 0, every stage-3 step also
draws `contrastive_batch` paired train rows, embeds each side single-stream (A removed, as at test
time), mean-pools, projects each stream with its own projection head, L2-normalises and adds the
symmetric InfoNCE loss with a learnable temperature (CLIP's: initialised at 1/0.07, the logit scale
clamped at 100) to the step's loss:

    L = (CE(s * a @ b.T, I) + CE(s * b @ a.T, I)) / 2

The projection (`contrastive_projection` > 0: a BatchNorm without affine parameters, then a linear
map to that width, as CLIP and ImageBind project before normalising) matters here: the pooled shared
embedding of every sample shares one large common component, so the cosine of any two pooled rows is
close to 1 and InfoNCE on them starts (and, measured, stays) at chance, ln B. Centring and scaling
each feature over the batch removes that component; the linear map lets the two cameras meet in a
space of their own without bending the whole shared embedding to it. The projections are training
devices only: evaluation ranks by CCA over the shared embedding (`evaluation.retrieval`).

So the shared embedding of one scene is pulled together across the two cameras; that is what
retrieval (`evaluation.retrieval`) measures. Rows pair by sample id, once each side's marker is
swapped (`evaluation.retrieval.pair_rows`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from omnivec2.model.heads import flatten_tokens, pool
from omnivec2.model.omnivec2 import OmniVec2, Stream

LOSS_KEY = "contrastive"
MAX_LOGIT_SCALE = 100.0


@dataclass(frozen=True)
class PairedRows:
    """Rows `rows_a[i]` of stream `a` and `rows_b[i]` of stream `b` show one scene (train split)."""

    a: str
    b: str
    rows_a: torch.Tensor  # [T] long
    rows_b: torch.Tensor  # [T] long


@dataclass
class ContrastiveItem:
    a: str
    tokens_a: torch.Tensor  # [B, N_a, P_a]
    b: str
    tokens_b: torch.Tensor  # [B, N_b, P_b], row i pairs with row i of tokens_a


def info_nce(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """a, b `[B, D]` (row i of one pairs with row i of the other) -> symmetric InfoNCE (scalar)."""
    a, b = F.normalize(a.float(), dim=-1), F.normalize(b.float(), dim=-1)
    logits = logit_scale.exp().clamp(max=MAX_LOGIT_SCALE) * a @ b.T  # [B, B]
    target = torch.arange(len(a), device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def projection_head(dim: int, width: int) -> nn.Module:
    """`[B, dim]` -> `[B, width]`: each feature standardised over the batch, then a linear map."""
    return nn.Sequential(nn.BatchNorm1d(dim, affine=False), nn.Linear(dim, width))


class ContrastiveLoss(nn.Module):
    """InfoNCE between the pooled single-stream embeddings of a paired batch; owns the temperature and,
    with `projection` > 0, one projection head per stream in `streams`."""

    def __init__(self, dim: int = 0, streams: dict[str, int] | tuple = (), projection: int = 0, pooling: str = "mean"):
        """`streams`: {stream: its number of tokens N} (or names, for `pooling` "mean")."""
        super().__init__()
        if pooling not in ("mean", "tokens"):
            raise ValueError(f"contrastive pooling must be 'mean' or 'tokens', got {pooling!r}")
        self.pooling = pooling
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        width = lambda s: dim * (streams[s] if pooling == "tokens" else 1)
        self.projections = nn.ModuleDict({s: projection_head(width(s), projection) for s in streams} if projection else {})

    def embed(self, model: OmniVec2, stream: str, tokens: torch.Tensor) -> torch.Tensor:
        """tokens `[B, N, P]` -> `[B, D_g]` pooled (or `[B, N * D_g]` with `pooling` "tokens"), or
        `[B, projection]` projected."""
        s = Stream(stream, tokens)
        features, padding = model.forward_stream(s), model.padding(s)
        pooled = flatten_tokens(features, padding) if self.pooling == "tokens" else pool(features, padding)
        return self.projections[stream](pooled) if stream in self.projections else pooled

    def forward(self, model: OmniVec2, item: ContrastiveItem) -> torch.Tensor:
        return info_nce(self.embed(model, item.a, item.tokens_a), self.embed(model, item.b, item.tokens_b),
                        self.logit_scale)


class PairDrawer:
    """Draws batches of paired rows, cycling over the pairings; its generator is checkpointed."""

    def __init__(self, pairs: list[PairedRows], batch_size: int, seed: int):
        if not pairs:
            raise ValueError("contrastive training needs at least one pair of paired datasets")
        self.pairs, self.batch_size = pairs, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.turn = 0

    def next(self) -> tuple[PairedRows, torch.Tensor]:
        """-> (the pairing, indices [b] into its rows)."""
        pairing = self.pairs[self.turn % len(self.pairs)]
        self.turn += 1
        size = min(self.batch_size, len(pairing.rows_a))
        return pairing, torch.randperm(len(pairing.rows_a), generator=self.generator)[:size]

    def state_dict(self) -> dict:
        return {"turn": self.turn, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.turn = int(state["turn"])
        self.generator.set_state(state["generator"])


def paired_rows(pairings: list[dict], sample_ids: dict[str, list[str]]) -> list[PairedRows]:
    """`pairings`: [{"a", "b", "marker_a", "marker_b"}]; `sample_ids`: each stream's train ids ->
    the rows that pair (pairings whose streams are not both present are left out)."""
    from omnivec2.evaluation.retrieval import pair_rows

    out = []
    for p in pairings:
        if p["a"] in sample_ids and p["b"] in sample_ids:
            rows_a, rows_b = pair_rows(sample_ids[p["a"]], sample_ids[p["b"]], p["marker_a"], p["marker_b"])
            out.append(PairedRows(p["a"], p["b"], torch.as_tensor(rows_a), torch.as_tensor(rows_b)))
    return out


def stage3_paired_rows(train, cache_root, modalities: list[str]) -> list[PairedRows]:
    """The paired train rows stage 3's contrastive term draws from: `train` (a `TrainConfig`) names the
    pairings (`contrastive_pairs`), matched by sample id over the train splits of the `modalities` the
    stage trains; [] when the term is off or the stage is not stage 3. The pipeline's workers and the
    in-process runs (screens, ablations) both read them here."""
    from omnivec2.tokens.cache import read_token_split

    if not (train.contrastive_weight and train.stage == "train_multitask"):
        return []
    streams = {s for p in train.contrastive_pairs for s in (p["a"], p["b"])} & set(modalities)
    return paired_rows(list(train.contrastive_pairs),
                       {s: read_token_split(cache_root, s, "train").sample_ids for s in streams})


def require_pairs(weight: float, pairs: list[PairedRows], pairings, modalities) -> None:
    """Refuse a stage 3 that asks for the term but gets no paired rows: the stage would otherwise train
    without it, and the run would pass for one with the term."""
    if weight and not pairs:
        raise ValueError(f"train_multitask: training.contrastive_weight is {weight}, but no paired train rows reach "
                         f"stage 3 (contrastive_pairs: {list(pairings or [])}; datasets: {sorted(modalities)}): pair "
                         "two of its datasets (`paired_with`), or set the weight to 0")


class ContrastiveTerm:
    """What the trainer needs for the term: this worker's paired batches (on the unsharded train
    rows; each worker draws its own, seed + rank) and the checkpointable state (drawer, temperature, projections)."""

    def __init__(self, pairs: list[PairedRows], data: dict, batch_size: int, seed: int, loss: ContrastiveLoss):
        self.drawer, self.data, self.loss = PairDrawer(pairs, batch_size, seed), data, loss

    def item(self, device: torch.device) -> ContrastiveItem:
        pairing, index = self.drawer.next()
        tokens = [self.data[s].tokens[rows[index]].to(device) for s, rows in ((pairing.a, pairing.rows_a),
                                                                               (pairing.b, pairing.rows_b))]
        return ContrastiveItem(pairing.a, tokens[0], pairing.b, tokens[1])

    def state_dict(self) -> dict:
        return {**self.drawer.state_dict(), "loss": {k: v.detach().clone() for k, v in self.loss.state_dict().items()}}

    def load_state_dict(self, state: dict) -> None:
        self.drawer.load_state_dict(state)
        self.loss.load_state_dict(state["loss"])
