"""The stealing-error quadratic against the attackers' own fit/predict."""

import numpy as np
import pytest

from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression
from modelprivacy.solvers import kernel_ridge_smoother, stealing_quadratic


def _target(A):
    return np.sin(3 * A[:, 0]) + A[:, 0] ** 2


@pytest.mark.parametrize(
    "attacker",
    [
        KernelRidgeAttacker(kernel="rbf", gamma=1.0, alpha=1e-3),
        KernelRidgeAttacker(kernel="poly", degree=3, coef0=1.0, alpha=1e-2),
        OLSRegression(n_terms=4),
        PolynomialRegression(p_max=5),
    ],
    ids=["krr_rbf", "krr_poly", "ols", "poly_fixed_order"],
)
def test_quadratic_equals_refit_stealing_error(attacker):
    rng = np.random.default_rng(0)
    n, m = 40, 300
    X = rng.uniform(-1, 1, (n, 1)) if "Kernel" in type(attacker).__name__ else rng.beta(1, 3, (n, 1))
    Z = rng.uniform(X.min(), X.max(), (m, 1))
    y, fZ = _target(X), _target(Z)
    S = attacker.smoother_matrix(X, Z)
    q = stealing_quadratic(S, y, fZ)
    for _ in range(3):
        e = 0.3 * rng.standard_normal(n)
        fitted = OLSRegression(n_terms=5) if isinstance(attacker, PolynomialRegression) else attacker
        direct = np.mean((fitted.fit(X, y + e).predict(Z) - fZ) ** 2)
        assert q.value(e) == pytest.approx(direct, rel=1e-8)
    assert q.c == pytest.approx(np.mean((fitted.fit(X, y).predict(Z) - fZ) ** 2), rel=1e-8)
    # batch evaluation and the operator form agree with the dense form
    E = rng.standard_normal((n, 4))
    np.testing.assert_allclose(q.value(E), [q.value(E[:, k]) for k in range(4)], rtol=1e-12)
    qo = stealing_quadratic(S, y, fZ, as_operator=True)
    np.testing.assert_allclose(qo.M @ E, q.M @ E, rtol=1e-10, atol=1e-14)


def test_weights_are_a_quadrature():
    rng = np.random.default_rng(1)
    S = rng.standard_normal((10, 5))
    y, fZ, e = rng.standard_normal(5), rng.standard_normal(10), rng.standard_normal(5)
    w = rng.uniform(0, 1, 10)
    q = stealing_quadratic(S, y, fZ, weights=w)
    assert q.value(e) == pytest.approx(np.sum(w * (S @ (y + e) - fZ) ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="weights must be non-negative"):
        stealing_quadratic(S, y, fZ, weights=-w)
    with pytest.raises(ValueError, match="f_Z must have length 10"):
        stealing_quadratic(S, y, fZ[:3])


def test_regularisation_conventions():
    rng = np.random.default_rng(2)
    n = 30
    X, Z = rng.uniform(-1, 1, (n, 1)), rng.uniform(-1, 1, (50, 1))
    kw = dict(kernel="poly", degree=3, coef0=1.0)
    S_att = kernel_ridge_smoother(X, Z, alpha=1e-2, regularization="attacker", **kw)
    S_auth = kernel_ridge_smoother(X, Z, alpha=1e-2, regularization="authors", **kw)
    np.testing.assert_allclose(S_att, KernelRidgeAttacker(alpha=1e-2, **kw).smoother_matrix(X, Z),
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(S_auth, KernelRidgeAttacker(alpha=n * 1e-2, **kw).smoother_matrix(X, Z),
                               rtol=1e-8, atol=1e-10)
    assert not np.allclose(S_att, S_auth)


def test_kernel_smoother_bad_input():
    X = np.zeros((3, 1))
    with pytest.raises(ValueError, match="kernel 'gaussian' is not a scikit-learn pairwise kernel"):
        kernel_ridge_smoother(X, X, kernel="gaussian")
    with pytest.raises(ValueError, match="regularization must be one of"):
        kernel_ridge_smoother(X, X, regularization="n_alpha")
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        kernel_ridge_smoother(X, X, alpha=-1.0)
    with pytest.raises(ValueError, match="Z must have 1 feature"):
        kernel_ridge_smoother(X, np.zeros((3, 2)))
