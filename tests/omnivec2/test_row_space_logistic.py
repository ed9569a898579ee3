import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from omnivec2.row_space_logistic import RowSpaceLogisticRegression


def _wide(rows=60, columns=400, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, columns)) * 0.3
    y = rng.integers(0, classes, rows)
    return centres[y] + rng.normal(size=(rows, columns)), y, rng


@pytest.mark.parametrize("classes", [2, 4])
def test_a_wide_fit_is_the_full_fit_at_its_optimum(classes):
    x, y, rng = _wide(classes=classes)
    test = rng.normal(size=(50, x.shape[1]))
    full = LogisticRegression(tol=1e-10, max_iter=5000).fit(x, y)
    row = RowSpaceLogisticRegression(tol=1e-10, max_iter=5000).fit(x, y)
    assert row.coef_.shape == full.coef_.shape
    np.testing.assert_allclose(row.coef_, full.coef_, atol=1e-6)
    np.testing.assert_allclose(row.intercept_, full.intercept_, atol=1e-6)
    np.testing.assert_allclose(row.predict_proba(test), full.predict_proba(test), atol=1e-6)
    assert row.n_features_in_ == x.shape[1]


def test_a_wide_fit_works_in_as_many_columns_as_rows(monkeypatch):
    x, y, _ = _wide(rows=30, columns=200)
    seen = []
    parent_fit = LogisticRegression.fit
    monkeypatch.setattr(LogisticRegression, "fit", lambda self, X, *a, **k: seen.append(X.shape) or parent_fit(self, X, *a, **k))
    RowSpaceLogisticRegression().fit(x, y)
    assert seen == [(30, 30)]


def test_a_tall_fit_is_the_parents_bit_for_bit():
    x, y, _ = _wide(rows=300, columns=20)
    full, row = LogisticRegression().fit(x, y), RowSpaceLogisticRegression().fit(x, y)
    assert np.array_equal(full.coef_, row.coef_) and np.array_equal(full.intercept_, row.intercept_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_another_penalty_fits_as_the_parent_does(monkeypatch):
    x, y, _ = _wide(rows=30, columns=200)
    seen = []
    parent_fit = LogisticRegression.fit
    monkeypatch.setattr(LogisticRegression, "fit", lambda self, X, *a, **k: seen.append(X.shape) or parent_fit(self, X, *a, **k))
    RowSpaceLogisticRegression(l1_ratio=1.0, solver="saga", max_iter=50).fit(x, y)
    assert seen == [(30, 200)]


def test_it_serves_in_a_pipeline_as_the_baselines_use_it():
    x, y, rng = _wide()
    model = make_pipeline(StandardScaler(), RowSpaceLogisticRegression(max_iter=2000)).fit(x, y)
    assert model.predict(rng.normal(size=(5, x.shape[1]))).shape == (5,)
