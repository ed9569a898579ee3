"""L2-regularised logistic regression fitted in the row space of its inputs when they have more
columns than rows: the same model, far fewer columns for L-BFGS to work through.

Why it is the same model: the objective depends on the weights W [C, D] only through X Wᵀ and ‖W‖²,
and its gradient in W is a combination of the rows of X plus W itself, so L-BFGS started at zero
never leaves the span of X's rows, and neither does the optimum (the representer theorem). With
Xᵀ = Q R (Q [D, S] orthonormal columns), W = B Qᵀ gives X Wᵀ = Rᵀ Bᵀ and ‖W‖ = ‖B‖: fitting B on
Rᵀ [S, S] is the same problem in S columns instead of D, and L-BFGS (rotation-equivariant: inner
products, a scaled-identity first Hessian) takes the same steps up to float rounding.

Where it pays: a flattened read-out reads N * D_g features (64 tokens x 96 = 6144) of a few hundred
rows; on the main job's seed-0 network the read-out fit of 552 infrared frames over 92 identities took
91 s in full and 14 s here, reaching a lower objective (sklearn's stopping test, the largest gradient
component, is met sooner when the gradient is spread over more columns). Every specialist fits the
same again. Benchmark (i) times both ways and compares their objectives and predictions.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


class RowSpaceLogisticRegression(LogisticRegression):
    """`sklearn.linear_model.LogisticRegression` whose `fit` works in the row space of X [S, D] when
    D > S (L2 penalty, L-BFGS, no warm start: the default). `coef_` [C or 1, D], `intercept_` and
    everything `predict` reads are those of a fit on X itself; any other configuration, or D <= S,
    fits as the parent does."""

    def fit(self, X, y, sample_weight=None):
        x = np.asarray(X, dtype=np.float64)
        if not self._row_space_applies(x):
            return super().fit(X, y, sample_weight)
        basis, triangle = np.linalg.qr(x.T)  # xᵀ = basis @ triangle; basis [D, S], x @ basis = triangleᵀ
        super().fit(triangle.T, y, sample_weight)
        self.coef_ = self.coef_ @ basis.T
        self.n_features_in_ = x.shape[1]
        return self

    def _row_space_applies(self, x: np.ndarray) -> bool:
        pure_l2 = self.penalty in ("deprecated", "l2") and not self.l1_ratio
        return x.ndim == 2 and x.shape[1] > x.shape[0] and pure_l2 and self.solver == "lbfgs" and not self.warm_start
