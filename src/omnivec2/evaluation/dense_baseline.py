"""Classical baseline for dense tasks: logistic regression from a token to its patch's majority label.

Tokens are standardised and reduced to at most 32 principal components first (keeps the fit to a
few seconds on a 2-core CPU for tokens of hundreds of values). BLAS runs single-threaded: on small
problems next to torch's OpenMP pool, two BLAS threads made each lbfgs step ~20x slower.

Each token's vector `[P]` predicts the most frequent of its `K` pixel labels; the prediction is
broadcast to the token's `K` pixels and scored with the same metrics as the model (mIoU, pixel
accuracy), so the figure is the floor a per-token linear read-out reaches.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MAX_TRAIN_TOKENS = 5_000  # keeps the fit to seconds on a CPU
COMPONENTS = 32


def dense_baseline(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray,
                   num_classes: int, seed: int = 0, ignore_index: int | None = None) -> dict[str, float]:
    """train_x/test_x tokens `[S, N, P]`, train_y/test_y labels `[S, N, K]` -> {"pixel_accuracy", "miou"}.
    Pixels labelled `ignore_index` are left out of the majority labels and of the metrics; a token
    with no labelled pixel is not trained on."""
    from omnivec2.evaluation.metrics import task_metrics

    xtr = train_x.reshape(-1, train_x.shape[-1])
    ytr = _majority(train_y.reshape(-1, train_y.shape[-1]), num_classes, ignore_index)
    labelled = ytr >= 0
    xtr, ytr = xtr[labelled], ytr[labelled]
    if len(xtr) > MAX_TRAIN_TOKENS:
        keep = np.random.default_rng(seed).choice(len(xtr), MAX_TRAIN_TOKENS, replace=False)
        xtr, ytr = xtr[keep], ytr[keep]
    if len(np.unique(ytr)) < 2:  # one class only: predict it everywhere
        pred = np.full(test_x.shape[0] * test_x.shape[1], ytr[0])
    else:
        components = min(COMPONENTS, xtr.shape[1], len(xtr))
        model = make_pipeline(StandardScaler(), PCA(components, random_state=seed),
                              LogisticRegression(max_iter=300, random_state=seed))
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a floor, not a tuned model
            pred = model.fit(xtr, ytr).predict(test_x.reshape(-1, test_x.shape[-1]))
    s, n, k = test_y.shape
    pixels = np.repeat(pred.reshape(s, n, 1), k, axis=2)  # [S, N, K]
    logits = torch.nn.functional.one_hot(torch.from_numpy(pixels).long(), num_classes).float()  # [S, N, K, C]
    return task_metrics("dense", logits, torch.from_numpy(np.asarray(test_y)), num_classes, ignore_index)


def _majority(labels: np.ndarray, num_classes: int, ignore_index: int | None = None) -> np.ndarray:
    """[T, K] -> [T], the most frequent label per row (ties: the smallest), not counting
    `ignore_index`; -1 for a row with no other label."""
    counts = np.zeros((len(labels), num_classes), np.int64)
    np.add.at(counts, (np.repeat(np.arange(len(labels)), labels.shape[1]), labels.reshape(-1)), 1)
    if ignore_index is not None:
        counts[:, ignore_index] = 0
    return np.where(counts.any(axis=1), counts.argmax(axis=1), -1)
