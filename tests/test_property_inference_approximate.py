"""The Newton / influence step against exact retraining, with the error its theory predicts."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from modelprivacy.property_inference.approximate import (
    approximate_fits,
    exact_fits,
    hessian_lipschitz_bound,
    newton_error_bound,
    newton_step,
)
from modelprivacy.property_inference.datasets import SyntheticCredit
from modelprivacy.property_inference.models import LogisticFamily, MLPFamily


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _exact(X, y, w, C):
    """Independent exact retraining: scikit-learn with tight tolerance."""
    est = LogisticRegression(C=C, tol=1e-13, max_iter=100000).fit(X, y, sample_weight=w)
    return np.concatenate([est.coef_[0], est.intercept_])


@pytest.fixture(scope="module")
def problem():
    X, y = SyntheticCredit(4, separation=1.0).sample(150, 0.3, 7)
    return X, y, LogisticFamily(4, C=1.0)


def test_one_newton_step_errs_quadratically_in_the_property_shift(problem):
    X, y, fam = problem
    C = fam.C
    theta0 = _exact(X, y, np.ones(y.size), C)
    errors, bounds = [], []
    deltas = [0.4, 0.2, 0.1, 0.05]
    for d in deltas:
        w = 1.0 + d * y  # the default rate shifted by re-weighting the defaulters
        # scikit-learn's objective is invariant to rescaling the weights (it divides by their sum)
        exact = _exact(X, y, w, C)
        step = newton_step(fam, theta0, X, y, sample_weight=w)
        errors.append(np.linalg.norm(step - exact))
        bounds.append(newton_error_bound(fam, theta0, exact, X, y, sample_weight=w))
    errors = np.array(errors)
    # theory: ||step - exact|| <= L/(2 mu) ||theta0 - exact||^2, and ||theta0 - exact|| = O(delta)
    assert np.all(errors <= np.array(bounds))
    assert np.isfinite(bounds[-1])  # the bound covers the smallest shift (it is not vacuously infinite)
    slope = np.polyfit(np.log(deltas), np.log(errors), 1)[0]
    assert 1.8 < slope < 2.2
    # the step is far better than not moving at all
    assert errors[-1] < 0.05 * np.linalg.norm(theta0 - _exact(X, y, 1.0 + deltas[-1] * y, C))


def test_influence_step_with_frozen_hessian_is_first_order_accurate(problem):
    X, y, fam = problem
    theta0 = _exact(X, y, np.ones(y.size), fam.C)
    H0 = fam.hessian(theta0, X, y)
    errs = []
    for d in (0.2, 0.1, 0.05):
        w = 1.0 + d * y
        exact = _exact(X, y, w, fam.C)
        # the Hessian frozen at the unweighted optimum (Koh and Liang's influence function)
        errs.append(np.linalg.norm(newton_step(fam, theta0, X, y, sample_weight=w, hessian=H0) - exact))
    assert np.polyfit(np.log([0.2, 0.1, 0.05]), np.log(errs), 1)[0] > 1.7


def test_hessian_lipschitz_bound_holds(problem, rng):
    X, y, fam = problem
    L = hessian_lipschitz_bound(X)
    for _ in range(20):
        a, b = rng.standard_normal((2, fam.n_params))
        gap = np.linalg.norm(fam.hessian(a, X, y) - fam.hessian(b, X, y), 2)
        assert gap <= L * np.linalg.norm(a - b) + 1e-12


def test_exact_and_approximate_fits(problem):
    pop = SyntheticCredit(4, separation=1.0)
    data = [pop.sample(150, r, s) for s, r in enumerate([0.2, 0.2, 0.2, 0.4, 0.4])]
    groups = [0, 0, 0, 1, 1]
    fam = LogisticFamily(4)
    exact, _, n_exact = exact_fits(fam, data)
    for (X, y), th in zip(data, exact):
        assert np.allclose(th, _exact(X, y, np.ones(y.size), 1.0), atol=1e-6)
    approx, _, n_approx = approximate_fits(fam, data, groups, n_newton_steps=3)
    assert np.allclose(approx[[0, 3]], exact[[0, 3]])  # references are exact
    assert np.max(np.abs(approx - exact)) < 1e-3
    assert n_approx < n_exact
    mlp = MLPFamily(4, (3,), alpha=1e-3)
    th, _, _ = approximate_fits(mlp, data, groups, warm_iter=5, random_state=0)
    assert th.shape == (5, mlp.n_params) and np.all(np.isfinite(th))
    with pytest.raises(ValueError, match="logistic regression"):
        newton_step(mlp, th[0], *data[0])
