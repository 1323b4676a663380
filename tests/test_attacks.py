import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression

from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression, make_attacker
from modelprivacy.features import basis_matrix, default_p_max


def test_default_p_max_matches_paper():
    assert [default_p_max(n) for n in (20, 50, 100, 200, 500)] == [2, 3, 4, 5, 7]
    assert default_p_max(125) == 5 and default_p_max(124) == 4 and default_p_max(1000) == 10


def _independent_scores(x, y, p_max, criterion):
    """Order-selection scores recomputed with numpy.polyfit (an independent fitter)."""
    n = len(x)
    out = []
    for i in range(p_max):
        if n - i - 1 <= 0:
            out.append(np.inf)
            continue
        fit = np.polyval(np.polyfit(x, y, i), x)
        mse = np.mean((y - fit) ** 2)
        if criterion == "AIC":
            out.append(mse * (1 + 2 * i / (n - i - 1)))
        elif criterion == "BIC":
            out.append(mse * (1 + np.log(n) * i / (n - i - 1)))
        else:
            out.append(np.log(mse) + 2 * sum(1 / j for j in range(1, i + 1)) * p_max / n)
    return np.array(out)


@pytest.mark.parametrize("criterion", ["AIC", "BIC", "BC"])
def test_order_selection_matches_independent_scores(criterion, rng):
    x = rng.beta(1, 3, 60)
    y = 4 * (x - 0.5) ** 2 + 0.3 * rng.standard_normal(60) + 0.5 * x**3
    m = PolynomialRegression(p_max=5, criterion=criterion).fit(x, y)
    ref = _independent_scores(x, y, 5, criterion)
    np.testing.assert_allclose(m.scores_, ref, rtol=1e-8)
    assert m.n_terms_ == int(np.argmin(ref)) + 1
    ref_pred = np.polyval(np.polyfit(x, y, m.n_terms_ - 1), x)
    np.testing.assert_allclose(m.predict(x), ref_pred, atol=1e-8)


def test_noise_free_quadratic_selects_order_two(rng):
    x = rng.beta(1, 3, 100)
    m = PolynomialRegression().fit(x, 4 * (x - 0.5) ** 2)
    assert m.n_terms_ == 3 and m.p_max_ == 4


def test_guard_against_nonpositive_degrees_of_freedom():
    x = np.array([0.1, 0.5, 0.9])
    m = PolynomialRegression(p_max=5).fit(x, x**2)
    assert np.all(np.isinf(m.scores_[2:]))  # n - i - 1 <= 0 for i >= 2


def test_legendre_and_monomial_bases_give_the_same_fit(rng):
    x = rng.uniform(0, 1, 40)
    y = np.sin(3 * x) + 0.1 * rng.standard_normal(40)
    z = np.linspace(0, 1, 11)
    a = OLSRegression(4, basis="monomial").fit(x, y).predict(z)
    b = OLSRegression(4, basis="legendre").fit(x, y).predict(z)
    np.testing.assert_allclose(a, b, atol=1e-10)
    # Legendre columns are orthogonal under the uniform measure on the interval
    B = basis_matrix(np.linspace(0, 1, 20001), 4, basis="legendre")
    G = B.T @ B / B.shape[0]
    np.testing.assert_allclose(G - np.diag(np.diag(G)), 0, atol=1e-3)


def test_ols_matches_sklearn_and_smoother(rng):
    x = rng.uniform(0, 1, 30)
    y = rng.standard_normal(30)
    m = OLSRegression(3).fit(x, y)
    lr = LinearRegression().fit(np.column_stack([x, x**2]), y)
    z = rng.uniform(0, 1, 7)
    np.testing.assert_allclose(m.predict(z), lr.predict(np.column_stack([z, z**2])), atol=1e-10)
    np.testing.assert_allclose(m.smoother_matrix(x, z) @ y, m.predict(z), atol=1e-10)


@pytest.mark.parametrize("kernel, params", [("rbf", {"gamma": 1.0}), ("poly", {"degree": 3, "coef0": 1.0}), ("laplacian", {})])
def test_kernel_ridge_matches_sklearn(kernel, params, rng):
    X = rng.uniform(-1, 1, (40, 1))
    y = np.cos(3 * X[:, 0]) + 0.1 * rng.standard_normal(40)
    Z = rng.uniform(-1, 1, (9, 1))
    ours = KernelRidgeAttacker(kernel=kernel, alpha=1e-2, solver="solve", **params).fit(X, y)
    ref = KernelRidge(kernel=kernel, alpha=1e-2, **params).fit(X, y)
    np.testing.assert_allclose(ours.predict(Z), ref.predict(Z), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.smoother_matrix(X, Z) @ y, ours.predict(Z), atol=1e-8)


def test_unknown_kernel_and_attacker_names():
    with pytest.raises(ValueError, match="'kernel' parameter of KernelRidgeAttacker"):
        KernelRidgeAttacker(kernel="gaussian").fit(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="unknown attacker 'svm'"):
        make_attacker("svm")
    with pytest.raises(ValueError, match="fit and predict"):
        make_attacker(object())


def test_attackers_reject_bad_arrays():
    with pytest.raises(ValueError, match="NaN"):
        PolynomialRegression().fit([0.1, np.nan, 0.3], [1, 2, 3])
    with pytest.raises(ValueError, match="length 3"):
        OLSRegression(2).fit([0.1, 0.2, 0.3], [1, 2])
    with pytest.raises(ValueError, match="1 feature"):
        PolynomialRegression().fit(np.zeros((5, 2)), np.zeros(5))


def test_kernel_ridge_cholesky_equals_pseudo_inverse(rng):
    X = rng.uniform(-1, 1, (60, 1))
    y = np.sin(4 * X[:, 0])
    Z = rng.uniform(-1, 1, (10, 1))
    a = KernelRidgeAttacker(alpha=1e-3, gamma=1.0, solver="solve").fit(X, y).predict(Z)
    b = KernelRidgeAttacker(alpha=1e-3, gamma=1.0, solver="pinv").fit(X, y).predict(Z)
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    # alpha = 0 with repeated queries: singular Gram matrix, falls back to the pseudo-inverse
    Xr = np.vstack([X[:5], X[:5]])
    c = KernelRidgeAttacker(alpha=0.0, solver="solve").fit(Xr, np.r_[y[:5], y[:5]]).predict(Z)
    d = KernelRidgeAttacker(alpha=0.0, solver="pinv").fit(Xr, np.r_[y[:5], y[:5]]).predict(Z)
    np.testing.assert_allclose(c, d, atol=1e-8)
