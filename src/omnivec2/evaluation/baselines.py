"""Classical baseline per task, trained in the same run on the same splits: scikit-learn on the
flattened cached tokens (logistic regression for classes, ridge for values)."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def classical_baseline(kind: str, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                       test_y: np.ndarray, seed: int = 0, max_iter: int = 2000) -> dict[str, float]:
    """train_x/test_x: [S, N, P] tokens -> metrics of a linear model on the flattened features.
    `max_iter`: L-BFGS iterations of the logistic regression (the tiny preset's runs use fewer).

    BLAS is held to one thread: beside torch's own thread pool, a multithreaded fit was measured
    up to 20x slower on this 2-core machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _fit_and_score(kind, train_x, train_y, test_x, test_y, seed, max_iter)


def _fit_and_score(kind, train_x, train_y, test_x, test_y, seed, max_iter) -> dict[str, float]:
    xtr, xte = train_x.reshape(len(train_x), -1), test_x.reshape(len(test_x), -1)
    if kind == "classification":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
        pred = model.fit(xtr, train_y).predict(xte)
        return {"accuracy": float(accuracy_score(test_y, pred)),
                "macro_f1": float(f1_score(test_y, pred, average="macro"))}
    if kind == "regression":
        pred = make_pipeline(StandardScaler(), Ridge()).fit(xtr, train_y).predict(xte)
        return {"rmse": float(np.sqrt(mean_squared_error(test_y, pred))), "mae": float(mean_absolute_error(test_y, pred))}
    raise ValueError(f"no classical baseline for task kind {kind!r}")
