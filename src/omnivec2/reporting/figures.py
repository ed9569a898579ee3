"""Report figures from the final model and its test splits: per-task bars against the baselines,
confusion matrices, a 2-D map of the shared embedding space, and dense-task sample predictions."""

from __future__ import annotations

import math
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchmetrics.functional as tmf  # noqa: E402

from omnivec2.evaluation.metrics import predict_task  # noqa: E402
from omnivec2.evaluation.retrieval import shared_embedding  # noqa: E402
from omnivec2.tokens.cache import read_token_split  # noqa: E402

from omnivec2.evaluation.headline import PRIMARY, SYSTEMS  # noqa: E402


def task_bars(metrics: dict):
    """metrics.json's tasks -> one panel per task kind, a bar per system per task."""
    kinds = sorted({entry["kind"] for entry in metrics["tasks"].values()})
    fig, axes = plt.subplots(len(kinds), 1, figsize=(12, 3.2 * len(kinds)), squeeze=False)
    for ax, kind in zip(axes[:, 0], kinds):
        name, higher = PRIMARY[kind]
        tasks = [t for t, e in metrics["tasks"].items() if e["kind"] == kind]
        x = np.arange(len(tasks))
        for i, system in enumerate(SYSTEMS):
            values = [metrics["tasks"][t].get(system, {}).get(name, np.nan) for t in tasks]
            ax.bar(x + (i - 1) * 0.27, values, width=0.27, label=system)
        ax.set_xticks(x, tasks, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"{name} ({'higher' if higher else 'lower'} is better)")
        ax.set_title(kind)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@torch.no_grad()
def confusion_matrices(model, cache_root, tasks: list[tuple[str, str, int, Sequence[str]]]):
    """Classification tasks (modality, task, number of classes, class names or ()) -> a grid of
    row-normalised test confusion matrices, their axes labelled with the class names where known."""
    cols = min(4, len(tasks))
    rows = math.ceil(len(tasks) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(tasks):]:
        ax.axis("off")
    for ax, (modality, task, classes, names) in zip(axes.flat, tasks):
        split = read_token_split(cache_root, modality, "test")
        logits = predict_task(model, modality, task, torch.from_numpy(np.array(split.tokens)))
        matrix = tmf.confusion_matrix(logits, torch.from_numpy(np.array(split.targets[task])).long(),
                                      task="multiclass", num_classes=classes, normalize="true")
        ax.imshow(matrix.numpy(), cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"{modality}/{task}", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
        if names:
            ax.set_xticks(range(classes), names, rotation=90)
            ax.set_yticks(range(classes), names)
        ax.tick_params(labelsize=5)
    fig.tight_layout()
    return fig


def embedding_map(model, cache_root, modalities: list[str], per_modality: int = 40, seed: int = 0):
    """Mean-pooled single-stream embeddings of test samples -> t-SNE, coloured by modality and by class."""
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    points, owners, classes = [], [], []
    for modality in modalities:
        split = read_token_split(cache_root, modality, "test")
        rows = np.sort(rng.choice(len(split.sample_ids), min(per_modality, len(split.sample_ids)), replace=False))
        points.append(shared_embedding(model, modality, torch.from_numpy(np.array(split.tokens[rows]))))
        owners += [modality] * len(rows)
        first = next(iter(split.targets.values()))
        classes += list(first[rows].reshape(len(rows), -1)[:, 0].astype(float))
    flat = np.concatenate(points)
    xy = TSNE(2, perplexity=min(30, len(flat) - 1), random_state=seed, init="pca").fit_transform(flat)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5))
    for i, modality in enumerate(modalities):
        here = np.array(owners) == modality
        left.scatter(xy[here, 0], xy[here, 1], s=6, color=plt.cm.tab20(i % 20), label=modality)
    left.legend(fontsize=6, markerscale=2, ncol=2)
    left.set_title("shared embedding (t-SNE) by modality")
    right.scatter(xy[:, 0], xy[:, 1], s=6, c=np.array(classes) % 10, cmap="tab10", vmin=0, vmax=9)
    right.set_title("by class of each modality's first task (class mod 10)")
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


@torch.no_grad()
def dense_predictions(model, cache_root, modality: str, task: str, samples: int = 3):
    """A dense task's first test samples: target and predicted label maps side by side.

    Token n's `K` outputs are its patch's pixels row-major and tokens tile a square grid row-major
    (`patchify_labels`), so both maps are reassembled to `[sqrt(N)*sqrt(K)]^2` pixels."""
    split = read_token_split(cache_root, modality, "test")
    tokens = torch.from_numpy(np.array(split.tokens[:samples]))
    predicted = predict_task(model, modality, task, tokens).argmax(-1).numpy()  # [S, N, K]
    target = np.array(split.targets[task][:samples])  # [S, N, K]
    fig, axes = plt.subplots(2, samples, figsize=(2.4 * samples, 4.6), squeeze=False)
    for i in range(samples):
        for row, (label, maps) in enumerate((("target", target), ("predicted", predicted))):
            axes[row, i].imshow(_unpatch(maps[i]), cmap="tab20", vmin=0, vmax=19, interpolation="nearest")
            axes[row, i].set_title(f"{split.sample_ids[i]}\n{label}", fontsize=6)
            axes[row, i].axis("off")
    fig.suptitle(f"{modality}/{task}", fontsize=9)
    fig.tight_layout()
    return fig


def _unpatch(labels: np.ndarray) -> np.ndarray:
    """[N, K] per-token pixel labels -> [H, W] for a square grid of square patches."""
    n, k = labels.shape
    g, p = math.isqrt(n), math.isqrt(k)
    if g * g != n or p * p != k:
        raise ValueError(f"cannot lay {n} tokens of {k} pixels out as a square image")
    return labels.reshape(g, g, p, p).transpose(0, 2, 1, 3).reshape(g * p, g * p)
