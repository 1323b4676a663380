"""Defense-aware attackers: each advantage checked where it can be computed exactly."""

import numpy as np
import pytest
from scipy.linalg import toeplitz

from modelprivacy.attacks import (
    CrossValidatedAttacker,
    GLSKernelRidge,
    GLSRegression,
    KernelRidgeAttacker,
    KnownDefenseAttacker,
    OLSRegression,
    PolynomialRegression,
    RepeatAveraging,
    TruncatedPolynomialRegression,
    group_repeats,
    universal_kriging,
)
from modelprivacy.bounds import exact_privacy_level
from modelprivacy.defenses import (
    ConstantShift,
    GaussianProcessNoise,
    IIDNoise,
    KernelConfusion,
    LongRangeNoise,
    OrderDisguise,
    PerturbationModel,
    long_range_autocovariance,
)
from modelprivacy.features import basis_matrix
from modelprivacy.games import poly_game
from modelprivacy.queries import BetaQueries, OwnedPointQueries, RepeatedQueries, UniformQueries
from modelprivacy.targets import CubicCosineTarget, QuadraticTarget
from modelprivacy.threat import Server
from modelprivacy.verify import exact_bound, verify

F_POLY = QuadraticTarget()
F_KRR = CubicCosineTarget()


# ----------------------------------------------------------------------------- GLS
def test_gls_equals_aitkens_estimator_and_its_error_the_closed_form(rng):
    n, m, p, sigma = 60, 400, 3, 0.5
    X = rng.beta(1, 3, (n, 1))
    Z = rng.beta(1, 3, (m, 1))
    noise = LongRangeNoise(sigma, gamma=0.3)
    Sigma = sigma**2 * toeplitz(long_range_autocovariance(n, 0.3))  # independent of the defense's moments()
    B, BZ = basis_matrix(X, p), basis_matrix(Z, p)
    Y = F_POLY(X) + rng.multivariate_normal(np.zeros(n), Sigma)
    # Aitken's estimator by the normal equations
    Si = np.linalg.inv(Sigma)
    theta = np.linalg.solve(B.T @ Si @ B, B.T @ Si @ Y)
    gls = GLSRegression(p, noise=noise).fit(X, Y)
    np.testing.assert_allclose(gls.coef_, theta, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gls.predict(Z), BZ @ theta, rtol=1e-8, atol=1e-10)
    # f = 4(x - 1/2)^2 is in the span: PL = tr(B_Z (B' S^-1 B)^-1 B_Z') / m, and no larger than OLS's
    closed = np.trace(BZ @ np.linalg.solve(B.T @ Si @ B, BZ.T)) / m
    pl = exact_privacy_level(gls.smoother_matrix(X, Z), F_POLY(X), F_POLY(Z), cov=Sigma)
    assert pl.value == pytest.approx(closed, rel=1e-8)
    assert pl.approximation == pytest.approx(0.0, abs=1e-20)
    ols = exact_privacy_level(OLSRegression(p).smoother_matrix(X, Z), F_POLY(X), F_POLY(Z), cov=Sigma)
    assert pl.value <= ols.value
    # Monte Carlo of the stealing error over the noise (X, Z fixed)
    draws = rng.multivariate_normal(np.zeros(n), Sigma, size=3000)
    errs = np.array([np.mean((GLSRegression(p, noise=noise).fit(X, F_POLY(X) + e).predict(Z) - F_POLY(Z)) ** 2)
                     for e in draws[:300]])
    S = gls.smoother_matrix(X, Z)
    errs = np.concatenate([errs, np.mean((draws[300:] @ S.T) ** 2, axis=1)])
    assert abs(errs.mean() - closed) < 4 * errs.std() / np.sqrt(errs.size)


def test_gls_without_noise_or_with_a_deterministic_defense_is_ols(rng):
    X = rng.uniform(size=(30, 1))
    Y = F_POLY(X) + 0.1 * rng.standard_normal(30)
    ols = OLSRegression(3).fit(X, Y).predict(X)
    for noise in (None, ConstantShift(0.3), IIDNoise(0.4)):
        np.testing.assert_allclose(GLSRegression(3, noise=noise).fit(X, Y).predict(X), ols, atol=1e-10)


def test_gls_kernel_ridge_is_kernel_ridge_under_iid_noise_and_the_gp_mean_otherwise(rng):
    X = rng.uniform(-1, 1, (40, 1))
    Z = rng.uniform(-1, 1, (25, 1))
    Y = F_KRR(X) + 0.2 * rng.standard_normal(40)
    a = 0.05
    krr = KernelRidgeAttacker("rbf", gamma=1.0, alpha=a).fit(X, Y).predict(Z)
    gls = GLSKernelRidge("rbf", gamma=1.0, alpha=a, noise=IIDNoise(0.7)).fit(X, Y).predict(Z)
    np.testing.assert_allclose(gls, krr, rtol=1e-9, atol=1e-12)
    # Gaussian-process posterior mean with prior scale tau^2 = (mean noise variance) / alpha
    noise = LongRangeNoise(0.5, gamma=0.5)
    Sigma = 0.25 * toeplitz(long_range_autocovariance(40, 0.5))
    tau2 = np.trace(Sigma) / 40 / a
    K = np.exp(-((X - X.T) ** 2))
    KZ = np.exp(-((Z - X.T) ** 2))
    gp = tau2 * KZ @ np.linalg.solve(tau2 * K + Sigma, Y)
    gls = GLSKernelRidge("rbf", gamma=1.0, alpha=a, noise=noise)
    np.testing.assert_allclose(gls.fit(X, Y).predict(Z), gp, rtol=1e-7, atol=1e-9)
    # the simulator's batched fits and the smoother go through the same solve
    np.testing.assert_allclose(gls.fit_predict_many(X, Y, Z)[:, 0], gp, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gls.smoother_matrix(X, Z) @ Y, gp, rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------------------- repetition
@pytest.mark.parametrize("k", [2, 5])
def test_averaging_k_repeats_divides_iid_noise_variance_by_k(k, rng):
    m, sigma = 12, 0.4
    U = rng.uniform(size=(m, 1))
    X = np.tile(U, (k, 1))
    Z = rng.uniform(size=(300, 1))
    att = RepeatAveraging(OLSRegression(3))
    # exact: the averaged answers have covariance sigma^2/k I, so the variance term is (sigma^2/k) tr(S_U'S_U)/m
    S_U = OLSRegression(3).smoother_matrix(U, Z)
    pl = exact_privacy_level(att.smoother_matrix(X, Z), F_POLY(X), F_POLY(Z), defense=IIDNoise(sigma), X=X)
    assert pl.variance == pytest.approx(sigma**2 / k * np.sum(S_U**2) / 300, rel=1e-10)
    # Monte Carlo through a server: the mean of k answers to one point has variance sigma^2 / k
    q = RepeatedQueries(UniformQueries(), repeats=k)
    means = []
    for s in range(400):
        Xq, Yq = q.collect(m * k, Server(F_POLY, IIDNoise(sigma), rng=s), rng=s)
        fitted = RepeatAveraging(OLSRegression(1)).fit(Xq, Yq)
        assert fitted.n_distinct_ == m
        _, mean, _, _ = group_repeats(Xq, Yq - F_POLY(Xq))
        means.append(mean)
    v = np.var(np.concatenate(means))
    assert v == pytest.approx(sigma**2 / k, rel=4 * np.sqrt(2 / (400 * m)))


def test_repetition_simulated_matches_the_exact_privacy_level():
    """The batch schedule through the simulator against the exact formula (queries regenerated)."""
    tm = poly_game(n=60, defense=IIDNoise(0.5), attacker=RepeatAveraging(OLSRegression(3)))
    tm = tm.replace(queries=RepeatedQueries(BetaQueries(1, b=3), repeats=3, schedule="batch"))
    report = verify(exact_bound(), tm, reps=300, seed=1)
    assert report.all_hold, report


@pytest.mark.parametrize("defense, same", [
    (IIDNoise(0.5), False),
    (LongRangeNoise(0.5), False),
    (ConstantShift(0.5), True),
    (OrderDisguise(0.5, p=3), True),
    (GaussianProcessNoise(0.5, gamma=2.0), True),
])
def test_which_defenses_answer_a_repeated_query_identically(defense, same):
    q = RepeatedQueries(UniformQueries(), repeats=3)
    X, Y = q.collect(30, Server(F_POLY, defense, rng=0), rng=0)
    spread = RepeatAveraging(OLSRegression(2)).fit(X, Y).repeat_spread_
    if same:
        assert spread == pytest.approx(0.0, abs=1e-12)
    else:
        assert spread > 0.1


# ----------------------------------------------------------------------------- model choice
def test_closed_form_leave_one_out_equals_refitting(rng):
    X = rng.uniform(-1, 1, (25, 1))
    Y = F_KRR(X) + 0.3 * rng.standard_normal(25)
    cands = [OLSRegression(3), OLSRegression(6), KernelRidgeAttacker("rbf", gamma=2.0, alpha=0.1)]
    scores = CrossValidatedAttacker(cands, cv="loo").fit(X, Y).cv_scores_
    brute = []
    for c in cands:
        r = [c.fit(np.delete(X, i, 0), np.delete(Y, i)).predict(X[i:i + 1])[0] - Y[i] for i in range(25)]
        brute.append(np.mean(np.square(r)))
    np.testing.assert_allclose(scores, brute, rtol=1e-8)


def test_cross_validation_finds_the_order_and_falls_into_order_disguise(rng):
    X = rng.beta(1, 3, (100, 1))
    cands = [(f"ols{p}", OLSRegression(p, basis="legendre")) for p in range(1, 7)]
    att = CrossValidatedAttacker(cands, cv=5, random_state=0).fit(X, F_POLY(X) + 0.05 * rng.standard_normal(100))
    assert att.best_name_ in ("ols3", "ols4")
    # Order Disguise makes the answers an exact polynomial with 4 columns: the validation error is 0 there
    Y = OrderDisguise(0.5, p=4).respond(X, F_POLY(X))
    att = CrossValidatedAttacker(cands, cv="loo").fit(X, Y)
    assert att.best_name_ == "ols4" and att.cv_scores_[3] < 1e-20 < att.cv_scores_[2]


def test_cross_validation_rejects_loo_without_smoothers():
    att = CrossValidatedAttacker(cv="loo")  # the default family holds Lasso pipelines
    with pytest.raises(ValueError, match="cv='loo' needs linear smoothers"):
        att.fit(np.linspace(0, 1, 20)[:, None], np.zeros(20))


# ----------------------------------------------------------------------------- refusing orders
def test_refusing_the_top_order_drops_order_disguises_top_coefficient_direction(rng):
    n = 64  # p_max = 4
    X = rng.beta(1, 3, (n, 1))
    y = F_POLY(X)
    e = OrderDisguise(0.5).perturbation(X, y)
    att = TruncatedPolynomialRegression(refuse=1, basis="legendre").fit(X, y + e)
    assert att.p_max_ == 3 and att.scores_.shape == (3,)
    # e = a e1/|e1| + a e2/|e2|; e2 is orthogonal to the first 3 columns, so it cannot enter the copy
    B = basis_matrix(X, 4)
    e2 = B @ np.linalg.pinv(B.T @ B)[:, 3]
    assert np.max(np.abs(basis_matrix(X, 3).T @ e2)) < 1e-8 * np.linalg.norm(e2)
    e_without_e2 = e - (e @ e2) / (e2 @ e2) * e2
    Z = rng.beta(1, 3, (200, 1))
    ref = OLSRegression(att.n_terms_, basis="legendre").fit(X, y + e_without_e2).predict(Z)
    np.testing.assert_allclose(att.predict(Z), ref, atol=1e-9)
    # the simulator's batched fits refuse the same orders
    np.testing.assert_allclose(att.fit_predict_many(X, (y + e)[:, None], Z)[:, 0], ref, atol=1e-9)


# ----------------------------------------------------------------------------- known defense
def test_one_owned_point_removes_a_constant_shift_and_order_disguise_exactly(rng):
    n = 60
    owned = np.array([[0.3]])
    X = OwnedPointQueries(BetaQueries(1, b=3), points=owned).sample(n, rng)
    Z = rng.beta(1, 3, (300, 1))
    clean = PolynomialRegression().fit(X, F_POLY(X)).predict(Z)
    for defense in (ConstantShift(0.5), OrderDisguise(0.5)):
        e = defense.perturbation(X, F_POLY(X))
        att = KnownDefenseAttacker(PolynomialRegression(), defense=defense.set_params(sigma=3.0),  # sigma unknown
                                   owned_X=owned, owned_y=F_POLY(owned)).fit(X, F_POLY(X) + e)
        assert att.n_owned_ == 1
        np.testing.assert_allclose(att.perturbation_, e, atol=1e-10)
        np.testing.assert_allclose(att.predict(Z), clean, atol=1e-8)


def test_universal_kriging_is_unbiased_whatever_the_coefficients(rng):
    n, o = 40, np.array([0, 9, 20, 31, 39])
    C = toeplitz(long_range_autocovariance(n, 0.4))
    D = np.linalg.qr(np.column_stack([np.ones(n), np.linspace(-1, 1, n)]))[0]
    model = PerturbationModel(D, C)
    L = np.linalg.cholesky(C)
    errs, errs_shifted = [], []
    for _ in range(200):
        eps = L @ rng.standard_normal(n)
        c = 50 * rng.standard_normal(2)
        for e, out in ((eps, errs), (D @ c + eps, errs_shifted)):
            e_hat, _ = universal_kriging(e[o], o, model, n)
            out.append(e_hat - e)
    # the prediction error does not depend on the unknown coefficients (exact unbiasedness)
    np.testing.assert_allclose(errs_shifted, errs, atol=1e-8)
    errs = np.array(errs)
    assert np.all(errs[:, o] == 0)
    # and it beats predicting the random part by zero (Monte Carlo)
    assert np.mean(errs**2) < np.mean(np.square([L @ rng.standard_normal(n) for _ in range(200)]))


def test_simple_kriging_is_the_gaussian_conditional_mean(rng):
    """Monte Carlo: regressing the unobserved noise on the observed noise gives Sigma_ro Sigma_oo^-1."""
    n, o = 12, np.array([1, 6, 10])
    C = toeplitz(long_range_autocovariance(n, 0.5))
    E = rng.multivariate_normal(np.zeros(n), C, size=40000)
    beta = np.linalg.lstsq(E[:, o], E, rcond=None)[0]  # (3, n) regression coefficients
    for j in range(3):
        basis = np.zeros(3)
        basis[j] = 1.0
        e_hat, _ = universal_kriging(basis, o, PerturbationModel(None, C), n)
        np.testing.assert_allclose(e_hat, beta[j], atol=0.03)


def test_owned_points_estimate_kernel_confusion_from_its_top_curvature_directions(rng):
    owned = UniformQueries((-1, 1)).sample(5, 7)
    kc = KernelConfusion.paper_surrogate(0.5, evaluation=UniformQueries((-1, 1)), n_emp=500)
    X = OwnedPointQueries(UniformQueries((-1, 1)), points=owned).sample(80, rng)
    e = kc.perturbation(X, F_KRR(X), rng=1, target=F_KRR)
    krr = KernelRidgeAttacker("rbf", gamma=1.0, alpha=1e-3)
    att = KnownDefenseAttacker(krr, defense=kc, owned_X=owned, owned_y=F_KRR(owned), random_state=2)
    att.fit(X, F_KRR(X) + e)
    assert att.n_owned_ == 5 and att.coef_.shape == (3,)
    assert np.linalg.norm(att.perturbation_ - e) < 0.2 * np.linalg.norm(e)
    Z = rng.uniform(-1, 1, (500, 1))
    naive = np.mean((krr.fit(X, F_KRR(X) + e).predict(Z) - F_KRR(Z)) ** 2)
    aware = np.mean((att.predict(Z) - F_KRR(Z)) ** 2)
    assert aware < 0.2 * naive


def test_known_defense_attacker_needs_its_owned_points_among_the_queries():
    att = KnownDefenseAttacker(OLSRegression(2), defense=ConstantShift(0.2), owned_X=[[0.123]], owned_y=[0.0])
    X = np.linspace(0, 1, 10)[:, None]
    with pytest.raises(ValueError, match="none of the owned points is among the queries"):
        att.fit(X, F_POLY(X))
    with pytest.raises(ValueError, match="owned_X and owned_y must be given together"):
        KnownDefenseAttacker(owned_X=[[0.1]]).fit(X, F_POLY(X))
