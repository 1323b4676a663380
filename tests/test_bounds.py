"""Tests of modelprivacy.bounds against independent computations.

Exact formulas are compared with brute-force Monte Carlo over the defense's
own random draws and with direct fits of the attacker; inequalities with
brute-force searches; rates with fitted log-log slopes of exact values.
"""

import numpy as np
import pytest
import scipy.linalg
from scipy.linalg import toeplitz

from modelprivacy import bounds as B
from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression
from modelprivacy.features import basis_matrix
from modelprivacy.defenses import (
    ConstantShift,
    GaussianProcessNoise,
    IIDNoise,
    LongRangeNoise,
    NoDefense,
    long_range_autocovariance,
)
from modelprivacy.queries import GridQueries
from modelprivacy.targets import CubicCosineTarget, QuadraticTarget
from modelprivacy.threat import ThreatModel
from modelprivacy.verify import check_slope, fit_slope

F_POLY = QuadraticTarget()
F_KRR = CubicCosineTarget()


def _grid(lb, ub, k):
    return np.linspace(lb, ub, k)[:, None]


def _mc_privacy_level(attacker, X, y, Z, f_Z, defense, draws, seed):
    """Brute force: draw e from the defense, refit the attacker, score it."""
    rng = np.random.default_rng(seed)
    errs = np.empty(draws)
    for r in range(draws):
        Y = defense.respond(X, y, rng=rng)
        pred = attacker.fit(X, Y).predict(Z)
        errs[r] = np.mean((pred - f_Z) ** 2)
    return errs.mean(), errs.std(ddof=1) / np.sqrt(draws)


SETTINGS = [
    # (attacker, target, interval, n, m, defense)
    (OLSRegression(n_terms=3), F_POLY, (0.0, 1.0), 30, 200, IIDNoise(0.5)),
    (KernelRidgeAttacker(gamma=1.0, alpha=1e-3), F_KRR, (-1.0, 1.0), 40, 200, LongRangeNoise(0.3, gamma=0.5)),
    (KernelRidgeAttacker(gamma=1.0, alpha=1e-2), F_KRR, (-1.0, 1.0), 25, 150, IIDNoise(0.2)),
    (OLSRegression(n_terms=2), F_POLY, (0.0, 1.0), 40, 100, LongRangeNoise(0.4, gamma=None)),
    (OLSRegression(n_terms=4), F_POLY, (0.0, 1.0), 30, 100, GaussianProcessNoise(0.3, gamma=20.0)),
]


@pytest.mark.parametrize("attacker,target,interval,n,m,defense", SETTINGS)
def test_exact_privacy_level_matches_brute_force(attacker, target, interval, n, m, defense):
    X, Z = _grid(*interval, n), _grid(*interval, m)
    y, f_Z = target(X), target(Z)
    S = attacker.smoother_matrix(X, Z)
    exact = B.exact_privacy_level(S, y, f_Z, defense=defense, X=X)
    mean, se = _mc_privacy_level(attacker, X, y, Z, f_Z, defense, 1000, seed=n)
    assert abs(exact.value - mean) <= 3.5 * se
    assert exact.value == pytest.approx(exact.approximation + exact.shift + exact.variance)
    assert exact.utility_loss == pytest.approx(float(defense.sigma) ** 2)


def test_exact_privacy_level_explicit_moments_and_weights():
    rng = np.random.default_rng(3)
    m, n = 7, 5
    S, y, f_Z = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
    mu = rng.normal(size=n)
    L = rng.normal(size=(n, n))
    w = rng.uniform(0.1, 1.0, size=m)
    # brute force over draws e = mu + L z, z standard normal
    z = rng.standard_normal((200_000, n))
    E = mu + z @ L.T
    R = (S @ (y[:, None] + E.T)).T - f_Z
    mc = (R**2 @ w)
    exact = B.exact_privacy_level(S, y, f_Z, mean=mu, cov=L @ L.T, weights=w)
    assert abs(exact.value - mc.mean()) <= 4 * mc.std() / np.sqrt(mc.size)
    assert exact.utility_loss == pytest.approx(np.mean(np.sum(E**2, axis=1)) / n, rel=0.02)


def test_iid_least_squares_in_empirical_norm_is_sigma2_p_over_n():
    for n, p, sigma in [(20, 2, 0.3), (57, 4, 1.0), (200, 6, 0.5)]:
        X = np.random.default_rng(n).beta(1, 3, size=(n, 1))
        Pi = OLSRegression(n_terms=p).smoother_matrix(X, X)  # evaluation on the queries
        assert B.iid_privacy_level(Pi, sigma) == pytest.approx(B.least_squares_rate(sigma, p, n), rel=1e-9)


def test_constant_shift_is_sigma_squared_when_attacker_reproduces_constants_and_f():
    X, Z = np.random.default_rng(1).uniform(0, 1, (37, 1)), _grid(0, 1, 300)
    S = OLSRegression(n_terms=3).smoother_matrix(X, Z)
    for sigma in (0.1, 0.5, 2.0):
        v = B.constant_shift_privacy_level(S, sigma, F_POLY(X), F_POLY(Z))
        assert v == pytest.approx(sigma**2, rel=1e-9)
    # a direct fit agrees for an attacker that does not reproduce f (KRR)
    krr = KernelRidgeAttacker(gamma=1.0, alpha=1e-2)
    S = krr.smoother_matrix(X, Z)
    direct = np.mean((krr.fit(X, F_KRR(X) + 0.3).predict(Z) - F_KRR(Z)) ** 2)
    assert B.constant_shift_privacy_level(S, 0.3, F_KRR(X), F_KRR(Z)) == pytest.approx(direct)


def test_specialised_formulas_agree_with_the_general_one():
    X, Z = _grid(-1, 1, 30), _grid(-1, 1, 90)
    S = KernelRidgeAttacker(gamma=1.0).smoother_matrix(X, Z)
    y, f_Z = F_KRR(X), F_KRR(Z)
    n = 30
    # moments written out by hand, not taken from the defenses
    assert B.iid_privacy_level(S, 0.4, y, f_Z) == pytest.approx(
        B.exact_privacy_level(S, y, f_Z, cov=0.16 * np.eye(n)).value)
    assert B.constant_shift_privacy_level(S, 0.4, y, f_Z) == pytest.approx(
        B.exact_privacy_level(S, y, f_Z, mean=np.full(n, 0.4)).value)
    C = toeplitz(long_range_autocovariance(n, 0.6))
    assert B.long_range_privacy_level(S, 0.4, 0.6, y, f_Z) == pytest.approx(
        B.exact_privacy_level(S, y, f_Z, cov=0.16 * C).value)
    # the sorted series permutes the covariance
    Xs = np.random.default_rng(0).permutation(X[:, 0])[:, None]
    Ss = KernelRidgeAttacker(gamma=1.0).smoother_matrix(Xs, Z)
    rank = np.argsort(np.argsort(Xs[:, 0]))
    got = B.long_range_privacy_level(Ss, 0.4, 0.6, F_KRR(Xs), f_Z, X=Xs, sort=True)
    assert got == pytest.approx(B.exact_privacy_level(Ss, F_KRR(Xs), f_Z,
                                                      cov=0.16 * C[np.ix_(rank, rank)]).value)


def test_conditional_privacy_level_uses_the_game():
    g = GridQueries((0, 1))
    tm = ThreatModel(F_POLY, g, 25, IIDNoise(0.3), OLSRegression(n_terms=3), g, 50)
    X, Z = _grid(0, 1, 25), _grid(0, 1, 50)
    S = OLSRegression(n_terms=3).smoother_matrix(X, Z)
    assert B.conditional_privacy_level(tm, X, Z).value == pytest.approx(B.iid_privacy_level(S, 0.3))
    with pytest.raises(TypeError, match="PolynomialRegression"):
        B.conditional_privacy_level(tm.replace(attacker="poly_aic"), X, Z)


# ----------------------------------------------------------------- long-range variance of the mean
@pytest.mark.parametrize("n", [2, 3, 10, 51, 100, 257])
@pytest.mark.parametrize("gamma", [None, 0.2, 0.5, 1.0])
def test_long_range_mean_variance_equals_sum_of_autocovariance(n, gamma):
    C = toeplitz(long_range_autocovariance(n, gamma))
    assert B.long_range_mean_variance(n, gamma) == pytest.approx(C.sum() / n**2, rel=1e-10)


def test_long_range_mean_variance_monte_carlo_and_limits():
    rng = np.random.default_rng(7)
    d = LongRangeNoise(sigma=1.0, gamma=0.4)
    X = np.zeros((64, 1))
    means = np.array([d.perturbation(X, np.zeros(64), rng=rng).mean() for _ in range(6000)])
    v = B.long_range_mean_variance(64, 0.4)
    assert abs(means.var() - v) <= 4 * v * np.sqrt(2 / 6000)
    assert B.long_range_mean_variance(100, 1.0) == pytest.approx(1 / 100)  # white noise
    big = 10**6
    ratio = B.long_range_rate(1.0, big, 0.5) / B.long_range_rate(1.0, big, 0.5, asymptotic=True)
    assert ratio == pytest.approx(1.0, abs=0.01)


def test_long_range_pink_noise_decays_logarithmically():
    # gamma = 1/n: Var(mean) ~ 1/(1 + 2 H_{n/2} - 2/n), not the spec's 1/(4 ln(n/2))
    for n in (100, 1000):
        H = np.sum(1.0 / np.arange(1, n // 2 + 1))
        assert B.long_range_mean_variance(n) == pytest.approx(1 / (1 + 2 * H - 2 / n), rel=0.03)  # k^(1/n) ~ 1


# ----------------------------------------------------------------- rates by log-log slopes
NS = np.array([50, 100, 200, 500, 1000, 2000])


def test_least_squares_rate_slope_from_exact_formula():
    Z = _grid(0, 1, 400)
    vals = [B.iid_privacy_level(OLSRegression(n_terms=4).smoother_matrix(_grid(0, 1, n), Z), 0.5) for n in NS]
    check = check_slope(NS, vals, -1.0)
    assert check.holds, str(check)
    assert np.allclose(np.array(vals) / B.least_squares_rate(0.5, 4, NS), 1.0, atol=0.15)


@pytest.mark.parametrize("s", [1.0, 2.0])
@pytest.mark.parametrize("sigma", [1.0, 0.3])
def test_nonparametric_rate_slope_of_tuned_series_attacker(s, sigma):
    vals = [B.tuned_series_privacy_level(n, sigma, s, n_eval=500)[0] for n in NS]
    check = check_slope(NS, vals, -2 * s / (2 * s + 1))
    assert check.holds, str(check)
    rate_slope = fit_slope(NS, B.nonparametric_rate(sigma, NS, s))[0]
    assert rate_slope == pytest.approx(-2 * s / (2 * s + 1))


@pytest.mark.parametrize("gamma", [0.3, 0.5, 0.8])
def test_long_range_rate_slopes(gamma):
    check = check_slope(NS, B.long_range_rate(1.0, NS, gamma), -gamma)
    assert check.holds, str(check)
    # least squares with an intercept, evaluated on the queries: PL >= sigma^2 Var(mean), same slope
    ns = np.array([50, 100, 200, 400, 800])
    pls = []
    for n in ns:
        X = _grid(0, 1, n)
        pl = B.long_range_privacy_level(OLSRegression(n_terms=3).smoother_matrix(X, X), 1.0, gamma)
        assert pl >= B.long_range_rate(1.0, n, gamma)
        pls.append(pl)
    check = check_slope(ns, pls, -gamma)
    assert check.holds, str(check)


# ----------------------------------------------------------------- ceiling and frontier
def _game(kind, n=12, m=40):
    if kind == "ols":
        X, Z = np.random.default_rng(2).beta(1, 3, (n, 1)), _grid(0, 1, m)
        return OLSRegression(n_terms=3).smoother_matrix(X, Z), F_POLY(X), F_POLY(Z) + 0.05 * Z[:, 0]
    X, Z = _grid(-1, 1, n), _grid(-1, 1, m)
    return KernelRidgeAttacker(gamma=1.0, alpha=1e-2).smoother_matrix(X, Z), F_KRR(X), F_KRR(Z)


@pytest.mark.parametrize("kind", ["ols", "krr"])
def test_frontier_beats_random_search_and_respects_ceiling(kind):
    S, y, f_Z = _game(kind)
    m, n = S.shape
    budgets = np.array([0.01, 0.1, 0.5])
    fr = B.privacy_frontier(S, y, f_Z, budgets)
    ceil = B.privacy_ceiling(S, y, f_Z, budgets)
    assert fr.certified.all()
    assert np.all(fr.privacy_level <= ceil * (1 + 1e-10))
    rng = np.random.default_rng(0)
    D = rng.standard_normal((n, 20000))
    D /= np.linalg.norm(D, axis=0)
    for u, pl, e in zip(budgets, fr.privacy_level, fr.designs.T):
        E = np.sqrt(n * u) * D
        vals = np.mean((S @ (y[:, None] + E) - f_Z[:, None]) ** 2, axis=0)
        assert vals.max() <= pl * (1 + 1e-10)
        assert np.mean((S @ (y + e) - f_Z) ** 2) == pytest.approx(pl)
        assert np.sum(e**2) / n <= u * (1 + 1e-9)


def test_frontier_exact_in_two_dimensions_by_grid_search():
    rng = np.random.default_rng(5)
    S, y, f_Z = rng.normal(size=(6, 2)), rng.normal(size=2), rng.normal(size=6)
    u = 0.7
    fr = B.privacy_frontier(S, y, f_Z, u)
    r = np.sqrt(2 * u)
    th = np.linspace(0, 2 * np.pi, 200001)
    E = r * np.vstack([np.cos(th), np.sin(th)])
    best = np.max(np.mean((S @ (y[:, None] + E) - f_Z[:, None]) ** 2, axis=0))
    assert fr.privacy_level[0] == pytest.approx(best, rel=1e-8)


def test_frontier_dominates_every_defense_at_its_expected_utility_loss():
    S, y, f_Z = _game("krr", n=30, m=80)
    X = _grid(-1, 1, 30)
    for d in [IIDNoise(0.3), ConstantShift(0.3), LongRangeNoise(0.3, gamma=0.5), LongRangeNoise(0.3)]:
        pl = B.exact_privacy_level(S, y, f_Z, defense=d, X=X)
        assert pl.value <= B.privacy_frontier(S, y, f_Z, pl.utility_loss).privacy_level[0]
        assert pl.value <= B.privacy_ceiling(S, y, f_Z, pl.utility_loss)


def test_frontier_is_concave_nondecreasing_and_meets_the_minimax_bound_for_projections():
    S, y, f_Z = _game("krr")
    u = np.linspace(0.01, 1.0, 25)
    v = B.privacy_frontier(S, y, f_Z, u).privacy_level
    assert np.all(np.diff(v) >= -1e-12)
    assert np.all(np.diff(v, 2) <= 1e-10)
    # least squares evaluated on its queries, f in the span: PL*(u) = u = ceiling = minimax bound
    X = _grid(0, 1, 15)
    Pi = OLSRegression(n_terms=3).smoother_matrix(X, X)
    fr = B.privacy_frontier(Pi, F_POLY(X), F_POLY(X), u)
    assert np.allclose(fr.privacy_level, u, rtol=1e-9)
    assert np.allclose(B.privacy_ceiling(Pi, F_POLY(X), F_POLY(X), u), u, rtol=1e-9)
    assert np.allclose(B.minimax_lower_bound(u), u)


# ----------------------------------------------------------------- minimax lower bound
def test_minimax_constant_with_a_basis_is_the_generalised_eigenvalue():
    X = np.random.default_rng(4).beta(1, 3, (40, 1))
    Z = _grid(0, 1, 500)
    basis = lambda P: basis_matrix(P, 4)  # noqa: E731
    BX, BZ = basis(X), basis(Z)
    ref = scipy.linalg.eigh(BZ.T @ BZ / 500, BX.T @ BX / 40, eigvals_only=True).max()
    assert B.minimax_lower_bound(0.2, basis=basis, X=X, Z=Z) == pytest.approx(0.2 * ref, rel=1e-8)
    assert ref > 1  # Beta(1, 3) queries under-sample the right end: P5
    # direction invisible to the queries: unbounded
    X0 = np.full((10, 1), 0.3)
    assert B.minimax_lower_bound(0.2, basis=lambda P: basis_matrix(P, 2), X=X0, Z=Z) == np.inf


def test_two_point_worlds_give_identical_answers_and_average_error_at_least_u():
    g = GridQueries((0, 1))
    tm = ThreatModel(F_POLY, g, 20, NoDefense(), KernelRidgeAttacker(gamma=1.0), g, 60)
    X, Z = _grid(0, 1, 20), _grid(0, 1, 60)
    direction = lambda P: P[:, 0] ** 2  # noqa: E731
    for dirn in (None, direction):
        tm0, tm1 = B.two_point_games(tm, 0.3, direction=dirn, X=X)
        Y0 = tm0.defense.respond(X, tm0.target(X))
        Y1 = tm1.defense.respond(X, tm1.target(X))
        assert np.allclose(Y0, Y1)
        assert np.mean((Y0 - tm0.target(X)) ** 2) == pytest.approx(0.3)
        pred = KernelRidgeAttacker(gamma=1.0).fit(X, Y0).predict(Z)
        avg = 0.5 * (np.mean((pred - tm0.target(Z)) ** 2) + np.mean((pred - tm1.target(Z)) ** 2))
        g_X = np.ones(20) if dirn is None else direction(X)
        g_Z = np.ones(60) if dirn is None else direction(Z)
        assert avg >= 0.3 * np.mean(g_Z**2) / np.mean(g_X**2) * (1 - 1e-12)


# ----------------------------------------------------------------- bad input
def test_bad_input_names_the_argument():
    S, y, f_Z = _game("krr")
    n = S.shape[1]
    with pytest.raises(ValueError, match="budgets"):
        B.privacy_frontier(S, y, f_Z, [0.1, 0.0])
    with pytest.raises(ValueError, match="budgets"):
        B.privacy_ceiling(S, y, f_Z, -1.0)
    with pytest.raises(ValueError, match="budgets"):
        B.minimax_lower_bound(0.0)
    with pytest.raises(ValueError, match="smoothness"):
        B.nonparametric_rate(0.5, 100, 0.0)
    with pytest.raises(ValueError, match="gamma"):
        B.long_range_rate(0.5, 100, 1.5)
    with pytest.raises(ValueError, match="gamma"):
        B.long_range_mean_variance(100, 0.0)
    with pytest.raises(ValueError, match="gamma"):
        B.long_range_privacy_level(S, 0.5, -0.2)
    with pytest.raises(ValueError, match="y"):
        B.exact_privacy_level(S, y[:-1], f_Z)
    with pytest.raises(ValueError, match="f_Z"):
        B.privacy_frontier(S, y, f_Z[:-1], 0.1)
    with pytest.raises(ValueError, match="mean"):
        B.exact_privacy_level(S, y, f_Z, mean=np.zeros(n + 1))
    with pytest.raises(ValueError, match="cov"):
        B.exact_privacy_level(S, y, f_Z, cov=np.zeros((n, n - 1)))
    with pytest.raises(ValueError, match="X"):
        B.exact_privacy_level(S, y, f_Z, defense=IIDNoise(0.1), X=np.zeros((n + 2, 1)))
    with pytest.raises(ValueError, match="either defense"):
        B.exact_privacy_level(S, y, f_Z, defense=IIDNoise(0.1), X=np.zeros((n, 1)), mean=np.zeros(n))
    with pytest.raises(ValueError, match="f_Z"):
        B.iid_privacy_level(S, 0.1, y=y)
    with pytest.raises(ValueError, match="n"):
        B.least_squares_rate(0.5, 5, 3)
    with pytest.raises(ValueError, match="sigma"):
        B.iid_privacy_level(S, -0.1)
    with pytest.raises(ValueError, match="budget"):
        B.two_point_games(ThreatModel(F_POLY, GridQueries((0, 1)), 10, NoDefense(), "ols"), 0.0)


def test_frontier_equals_the_sdp_relaxation():
    pytest.importorskip("cvxpy")
    from modelprivacy.solvers import sdp_relaxation, stealing_quadratic

    S, y, f_Z = _game("krr", n=8, m=30)
    q = stealing_quadratic(S, y, f_Z)
    for u in (0.05, 0.5):
        sdp = sdp_relaxation(q.M, q.u, np.sqrt(8 * u))
        assert B.privacy_frontier(S, y, f_Z, u).privacy_level[0] == pytest.approx(sdp.bound + q.c, rel=1e-5)


def test_frontier_in_the_row_space_equals_the_full_trust_region_solve():
    from modelprivacy.solvers import stealing_quadratic, trust_region

    for kind in ("ols", "krr"):
        S, y, f_Z = _game(kind, n=30, m=50)
        q = stealing_quadratic(S, y, f_Z)
        for u in (0.02, 0.4):
            full = trust_region(q.M, q.u, np.sqrt(30 * u))
            assert full.certificate.check(1e-7)
            got = B.privacy_frontier(S, y, f_Z, u)
            assert got.privacy_level[0] == pytest.approx(full.objective + q.c, rel=1e-9)


@pytest.mark.parametrize("s", [1.0, 2.0])
def test_nonparametric_rate_in_the_noise_level(s):
    # at fixed n the tuned privacy level grows like (sigma^2)^(2s/(2s+1)): IID noise acts as a noise level
    sig = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
    vals = [B.tuned_series_privacy_level(500, x, s, n_eval=500)[0] for x in sig]
    assert check_slope(sig**2, vals, 2 * s / (2 * s + 1)).holds
