"""Tests of modelprivacy.symbolic: symbolic and numeric forms agree, and match independent numerics."""

import numpy as np
import pytest
import sympy as sp
from scipy.linalg import toeplitz

from modelprivacy import bounds
from modelprivacy import symbolic as Y
from modelprivacy.attacks import OLSRegression
from modelprivacy.defenses import long_range_autocovariance
from modelprivacy.defenses.postprocess import reverse_sigmoid_r


def _sympy_value(form, *values):
    return float(form.expr.subs(dict(zip(form.symbols, values))).evalf())


def test_expected_quadratic_matches_numpy_identity():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    A = A + A.T
    mu = rng.normal(size=3)
    L = rng.normal(size=(3, 2))
    got = Y.expected_quadratic(sp.Matrix(A), sp.Matrix(mu), sp.Matrix(L))
    assert float(got) == pytest.approx(mu @ A @ mu + np.trace(A @ L @ L.T), rel=1e-10)


@pytest.mark.parametrize("n,p", [(2, 1), (3, 2), (4, 2)])
def test_iid_least_squares_derivation_and_numeric(n, p):
    form = Y.iid_least_squares_privacy_level(n, p)
    assert sp.simplify(form.expr - Y.sigma**2 * Y.p_sym / Y.n_sym) == 0
    for s, pp, nn in [(0.5, 3, 100), (1.3, 7, 40)]:
        assert form(s, pp, nn) == pytest.approx(_sympy_value(form, s, pp, nn))
        # independent numeric: trace of an actual projection
        X = np.random.default_rng(nn).uniform(size=(nn, 1))
        Pi = OLSRegression(n_terms=pp).smoother_matrix(X, X)
        assert form(s, pp, nn) == pytest.approx(bounds.iid_privacy_level(Pi, s), rel=1e-9)


def test_constant_shift_symbolic_vs_direct_sum():
    form = Y.constant_shift_privacy_level(4)
    rng = np.random.default_rng(1)
    r = rng.normal(size=25)
    s = 0.37
    direct = np.mean((r + s) ** 2)
    assert form(np.mean(r**2), r.mean(), s) == pytest.approx(direct)
    assert form(c=np.mean(r**2), rbar=r.mean(), sigma=s) == pytest.approx(direct)
    assert _sympy_value(form, np.mean(r**2), r.mean(), s) == pytest.approx(direct)


@pytest.mark.parametrize("parity,ns", [("even", [4, 50, 200]), ("odd", [5, 51, 201])])
@pytest.mark.parametrize("gamma", [0.2, 0.5, 1.0])
def test_long_range_mean_variance_sum_vs_autocovariance(parity, ns, gamma):
    form = Y.long_range_mean_variance(parity)
    for n in ns:
        ref = toeplitz(long_range_autocovariance(n, gamma)).sum() / n**2
        assert form(n, gamma) == pytest.approx(ref, rel=1e-10)
        assert float(form.expr.subs({Y.n_sym: n, Y.gamma: gamma}).doit().evalf()) == pytest.approx(ref, rel=1e-10)
    with pytest.raises(ValueError, match="not"):
        form(ns[0] + 1, gamma)


def test_long_range_asymptotic_power_law():
    form = Y.long_range_mean_variance_asymptotic()
    assert sp.simplify(form.expr - Y.gamma * 2 ** (Y.gamma - 1) * Y.n_sym ** (-Y.gamma)) == 0
    refined = Y.long_range_mean_variance_asymptotic(refined=True)
    for g in (0.3, 0.7):
        r_small = bounds.long_range_mean_variance(100, g) / form(100, g)
        r_big = bounds.long_range_mean_variance(10**6, g) / form(10**6, g)
        assert abs(r_big - 1) < abs(r_small - 1) < 0.3
        # the zeta-corrected form is accurate already at small n
        for n in (100, 1000, 10**5):
            assert float(refined(n, g)) == pytest.approx(bounds.long_range_mean_variance(n, g), rel=1e-4)


def test_reverse_sigmoid_derivative_against_finite_differences_of_the_defense():
    rs = Y.reverse_sigmoid()
    y = np.linspace(0.02, 0.98, 49)
    h = 1e-6
    for beta, gamma in [(0.5, 0.2), (1.0, 0.1), (0.3, 2.0), (0.7, 1.0)]:
        f = lambda v: v - reverse_sigmoid_r(v, beta, gamma)  # noqa: E731 (the defense's own code)
        fd = (f(y + h) - f(y - h)) / (2 * h)
        assert np.allclose(rs["derivative"](y, beta, gamma), fd, atol=1e-5)
        assert np.allclose(rs["r"](y, beta, gamma), reverse_sigmoid_r(y, beta, gamma))
        t = np.log(y / (1 - y))
        assert np.allclose(rs["derivative_logit"](t, beta, gamma), fd, atol=1e-5)
        assert rs["derivative_at_half"](beta, gamma) == pytest.approx(1 - beta * gamma)
    assert sp.simplify(rs["derivative_at_half"].expr - (1 - Y.beta * Y.gamma)) == 0


@pytest.mark.parametrize("beta", [0.1, 0.5, 0.9, 1.0, 1.5])
@pytest.mark.parametrize("gamma", [0.2, 0.5, 0.9, 1.0, 1.01, 1.5, 3.0])
def test_reverse_sigmoid_monotone_region_by_brute_force(beta, gamma):
    t = np.linspace(-36, 36, 200001)  # logit grid: y within 2e-16 of 0 and 1
    y = 1 / (1 + np.exp(-t))
    fy = y - reverse_sigmoid_r(y, beta, gamma)
    # monotone iff no value falls below an earlier one (beyond rounding of values ~ beta/2)
    brute = bool(np.max(np.maximum.accumulate(fy) - fy) <= 1e-14)
    assert Y.reverse_sigmoid_monotone(beta, gamma) == brute
    if gamma < 1:
        assert not Y.reverse_sigmoid_monotone(beta, gamma)  # for every beta > 0


@pytest.mark.parametrize("beta,gamma,shape", [(0.5, 0.2, "tails"), (0.5, 3.0, "middle"), (2.0, 0.9, "all"),
                                              (0.2, 3.0, "none"), (0.5, 1.0, "none"), (1.5, 1.0, "all")])
def test_reverse_sigmoid_decreasing_set(beta, gamma, shape):
    kind, y_star = Y.reverse_sigmoid_decreasing_set(beta, gamma)
    assert kind == shape
    deriv = Y.reverse_sigmoid()["derivative"]
    if y_star is not None:
        assert deriv(y_star, beta, gamma) == pytest.approx(0.0, abs=1e-8)
        inside = y_star / 2 if kind == "tails" else 0.5
        outside = 0.5 if kind == "tails" else y_star / 2
        assert deriv(inside, beta, gamma) < 0 < deriv(outside, beta, gamma)


def test_bad_input():
    with pytest.raises(ValueError, match="beta"):
        Y.reverse_sigmoid_monotone(0.0, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        Y.reverse_sigmoid_decreasing_set(0.5, -1.0)
    with pytest.raises(ValueError, match="parity"):
        Y.long_range_mean_variance("both")
    with pytest.raises(ValueError, match="p"):
        Y.iid_least_squares_privacy_level(2, 3)
    with pytest.raises(TypeError, match="unknown argument"):
        Y.constant_shift_privacy_level()(c=1.0, rbar=0.0, s=1.0)
