"""Task heads h_{m,t}: fused features [B, N, D_g] -> task outputs."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from omnivec2.model.config import TaskConfig
from omnivec2.model.fitted_readout import FittedDenseReadout, FittedReadout, flatten_tokens


def head_norm(task: TaskConfig, dim: int, kind: str) -> nn.Module:
    """A head's input normalisation: per sample ("layer") or per feature over the batch ("batch", no
    affine: MAE's linear-probe head), which removes the component every sample shares."""
    if kind not in ("layer", "batch"):
        raise ValueError(f"task {task.name!r}: head_norm must be 'layer' or 'batch', got {kind!r}")
    return nn.LayerNorm(dim) if kind == "layer" else nn.BatchNorm1d(dim, affine=False)


# Token embeddings whose token i is the same place in every sample (a patch of a grid, a table's
# column, a word position): only for these can a head read each token on its own ("flatten"); point
# groups and graph nodes come in no fixed order, so their heads always average.
ORDERED_EMBEDDINGS = ("patch_linear", "per_column", "token_ids")


class PooledHead(nn.Module):
    """Classification (logits [B, C]), regression ([B]) or embedding (unit vectors [B, E]) from the
    stream's tokens reduced to one vector: their mean ([B, D]), or with `tokens` = N > 0 every token's
    features side by side ([B, N * D], padding zeroed), normalised as `head_norm` says.

    `scaled_gradient` (flattened heads): the gradient the head sends back to the tokens is divided by
    N. A mean head sends each token 1/N of its gradient, a flattened one a whole block's, N times more
    in all; scaled, a flattened head pushes on the shared layers no harder than a mean head does.

    `select` (with `tokens` = N > 0): the head reads the mean, and holds a `FittedReadout` of the N
    tokens flattened that the end-of-stage refit may fit and switch on; once on, it answers in eval
    mode (training always reads the mean)."""

    def __init__(self, task: TaskConfig, dim: int, norm: str = "layer", tokens: int = 0,
                 scaled_gradient: bool = False, select: bool = False):
        super().__init__()
        self.readout = FittedReadout(tokens, dim, task.num_classes, norm) if select and tokens else None
        tokens = 0 if select else tokens
        self.kind, self.tokens, self.scaled_gradient = task.kind, tokens, scaled_gradient and tokens > 0
        width = dim * tokens if tokens else dim
        self.norm = head_norm(task, width, norm)
        self.out = nn.Linear(width, task.num_classes)

    def reduce(self, features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """features [B, N, D] -> what the head normalises: [B, D] (mean) or [B, N * D] (flattened)."""
        if not self.tokens:
            return pool(features, padding)
        if features.shape[1] != self.tokens:
            raise ValueError(f"this head reads {self.tokens} tokens, got {features.shape[1]}")
        if self.scaled_gradient and features.requires_grad:
            features = scale_gradient(features, 1.0 / self.tokens)
        return flatten_tokens(features, padding)

    def forward(self, features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """features [B, N, D]; padding [B, N] bool (True: left out of the mean, zero when flattened) or None."""
        if self.readout is not None and not self.training and self.readout.is_active:
            return self.readout(features, padding)
        pooled = self.reduce(features, padding)
        if isinstance(self.norm, nn.BatchNorm1d) and self.training and len(pooled) == 1:
            # batch statistics of one sample are undefined: a batch of one uses the running ones
            normed = F.batch_norm(pooled, self.norm.running_mean, self.norm.running_var, training=False,
                                  eps=self.norm.eps)
        else:
            normed = self.norm(pooled)
        y = self.out(normed)
        if self.kind == "regression":
            return y.squeeze(-1)
        if self.kind == "embedding":
            return F.normalize(y, dim=-1)
        return y


class DenseHead(nn.Module):
    """Dense prediction (segmentation): per token, logits for each of its `outputs_per_token` pixels.

    features [B, N, D] -> logits [B, N, outputs_per_token, C]; targets are tokenised the same way.

    `token_dim` = P > 0 (`dense_readout: select`): the head also holds a `FittedDenseReadout` of each
    token's features beside its P input values, which the end-of-stage refit may fit and switch on;
    once on, it answers in eval mode and needs the stream's input tokens (training reads `out`).
    """

    def __init__(self, task: TaskConfig, dim: int, norm: str = "layer", token_dim: int = 0):
        super().__init__()
        self.outputs, self.classes = task.outputs_per_token, task.num_classes
        self.norm = head_norm(task, dim, norm)  # "batch": statistics over every token of the batch
        self.out = nn.Linear(dim, self.outputs * self.classes)
        self.readout = FittedDenseReadout(dim, token_dim, self.outputs * self.classes) if token_dim else None

    @staticmethod
    def reduce(features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """features [B, N, D] -> what the head normalises: every token, [B * N, D]."""
        return features.flatten(0, 1)

    def forward(self, features: torch.Tensor, padding: torch.Tensor | None = None,
                tokens: torch.Tensor | None = None) -> torch.Tensor:
        """features [B, N, D]; tokens [B, N, P]: the stream's input tokens (read by an active fitted read-out)."""
        b, n, d = features.shape
        normed = self.norm(self.reduce(features)).view(b, n, d)
        if self.readout is not None and not self.training and self.readout.is_active:
            if tokens is None:
                raise ValueError("this dense head answers with its fitted read-out (dense_readout: select), "
                                 "which reads the stream's input tokens: pass them to predict()")
            return self.readout(normed, tokens).view(b, n, self.outputs, self.classes)
        return self.out(normed).view(b, n, self.outputs, self.classes)


def pool(features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over tokens [B, N, D] -> [B, D], over the non-padding ones when `padding` [B, N] is given."""
    if padding is None:
        return features.mean(dim=1)
    keep = (~padding).unsqueeze(-1).to(features.dtype)
    return (features * keep).sum(dim=1) / keep.sum(dim=1).clamp_min(1.0)


def scale_gradient(x: torch.Tensor, scale: float) -> torch.Tensor:
    """x unchanged forward; its gradient times `scale` backward."""
    return x * scale + (x * (1.0 - scale)).detach()


def build_head(task: TaskConfig, dim: int, norm: str = "layer", tokens: int = 0,
               scaled_gradient: bool = False, select: bool = False, dense_token_dim: int = 0) -> nn.Module:
    """`tokens` > 0: a classification head that reads that many tokens flattened (`head_pooling`), its
    gradient to the tokens divided by that many with `scaled_gradient` ("flatten_scaled"); with
    `select` ("select"), one that reads the mean and may be switched to a fitted flattened read-out.
    `dense_token_dim` > 0 (`dense_readout: select`): a dense head that may be switched to a fitted
    read-out of its features beside input tokens of that many values."""
    if task.kind == "dense":
        return DenseHead(task, dim, norm, dense_token_dim)
    if task.kind in ("classification", "regression", "embedding"):
        tokens = tokens if task.kind == "classification" else 0
        return PooledHead(task, dim, norm, tokens, scaled_gradient, select)
    raise ValueError(f"task {task.name!r}: unknown kind {task.kind!r}")


def task_loss(kind: str, output: torch.Tensor, target: torch.Tensor, ignore_index: int | None = None,
              label_smoothing: float = 0.0) -> torch.Tensor:
    """The supervised loss of one task kind (embedding tasks: InfoNCE between paired rows, see training).
    Dense targets equal to `ignore_index` (unlabelled pixels) add nothing; a batch with no labelled
    pixel gives a zero loss that still reaches every parameter of the head (not NaN).
    `label_smoothing` applies to classification."""
    if kind == "classification":
        return F.cross_entropy(output, target.long(), label_smoothing=label_smoothing)
    if kind == "dense":
        logits, labels = output.flatten(0, 2), target.long().flatten()  # [B*N*K, C], [B*N*K]
        if ignore_index is None:
            return F.cross_entropy(logits, labels)
        # The mean over labelled pixels, written so that a batch without one is 0 rather than NaN,
        # with no host sync on the step's hot path.
        total = F.cross_entropy(logits, labels, ignore_index=ignore_index, reduction="sum")
        return total / (labels != ignore_index).sum().clamp(min=1)
    if kind == "regression":
        return F.mse_loss(output, target.float())
    if kind == "embedding":
        logits = output @ target.T / 0.07  # target: the paired embeddings [B, E]
        return F.cross_entropy(logits, torch.arange(len(output), device=output.device))
    raise ValueError(f"unknown task kind {kind!r}")
