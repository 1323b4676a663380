"""Order Disguise, Kernel Confusion, Misleading Variable Projection: calibration, structure, simulation."""

import numpy as np
import pytest

from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression
from modelprivacy.defenses import make_defense
from modelprivacy.defenses.optimal import (
    KernelConfusion,
    MisleadingVariableProjection,
    OptimalLinearSmoother,
    OrderDisguise,
    order_disguise_direction,
)
from modelprivacy.solvers import stealing_quadratic, trust_region
from modelprivacy.games import krr_game, lasso_coef, poly_game
from modelprivacy.queries import UniformQueries
from modelprivacy.simulate import simulate
from modelprivacy.targets import CubicCosineTarget, LinearTarget, QuadraticTarget

F_POLY = QuadraticTarget()
F_KRR = CubicCosineTarget()


def _uniform(m, rng):
    return rng.uniform(-1, 1, (m, 1))


def _designs():
    return [
        OrderDisguise(sigma=0.3),
        OrderDisguise(sigma=0.3, p=3, basis="legendre"),
        KernelConfusion(sigma=0.3, gamma=1.0, n_emp=200),
        KernelConfusion.paper_surrogate(sigma=0.3, n_emp=200),
        KernelConfusion(sigma=0.3, gamma=1.0, n_emp=200, solver="slsqp_unit"),
        KernelConfusion(sigma=0.3, gamma=1.0, n_emp=200, solver="lanczos", n_components=5),
        OptimalLinearSmoother(sigma=0.3, attacker=OLSRegression(n_terms=3), n_emp=200),
    ]


@pytest.mark.parametrize("defense", _designs(), ids=repr)
@pytest.mark.parametrize("n", [8, 64])
def test_utility_loss_is_exactly_sigma_squared(defense, n):
    rng = np.random.default_rng(n)
    X = rng.uniform(0, 1, (n, 1))
    Y = defense.respond(X, F_POLY(X), rng=rng, target=F_POLY)
    assert np.mean((Y - F_POLY(X)) ** 2) == pytest.approx(0.09, rel=1e-12)


def test_misleading_variable_projection_is_calibrated_in_both_branches():
    rng = np.random.default_rng(0)
    beta = lasso_coef(20)
    X = rng.standard_normal((30, 20))
    for sigma in (0.05, 3.0):  # large noise is rescaled / small noise is completed along y_hat
        e = MisleadingVariableProjection(sigma=sigma, coef=beta).perturbation(X, X @ beta, rng=rng)
        assert np.mean(e**2) == pytest.approx(sigma**2, rel=1e-12)


def test_sigma_zero_is_no_perturbation():
    X = np.linspace(0, 1, 10)[:, None]
    for d in (OrderDisguise(sigma=0.0), KernelConfusion(sigma=0.0)):
        np.testing.assert_array_equal(d.perturbation(X, F_POLY(X), rng=np.random.default_rng(0),
                                                     target=F_POLY), 0.0)


# ----- Order Disguise -------------------------------------------------------------------
def test_order_disguise_direction_by_frisch_waugh_lovell():
    # the OLS top coefficient is r'y / r'r with r the residual of x^{p-1} on lower powers,
    # so e2 is proportional to r; build it with np.polyfit, independently of the code
    rng = np.random.default_rng(1)
    x = rng.beta(1, 3, 50)
    p = 4
    top = x ** (p - 1)
    lower = np.polynomial.polynomial.polyfit(x, top, p - 2)
    r = top - np.polynomial.polynomial.polyval(x, lower)
    e = top / np.linalg.norm(top) + r / np.linalg.norm(r)
    np.testing.assert_allclose(order_disguise_direction(x, p), e / np.linalg.norm(e), rtol=1e-7)
    # p = 1 is the constant shift
    d = OrderDisguise(sigma=0.5, p=1).perturbation(x[:, None], F_POLY(x[:, None]))
    np.testing.assert_allclose(d, 0.5, rtol=1e-12)


def test_order_disguise_default_order_is_floor_cube_root():
    x = np.random.default_rng(2).beta(1, 3, (125, 1))  # perfect cube: p = 5, not 4
    np.testing.assert_allclose(OrderDisguise(1.0).perturbation(x, F_POLY(x)),
                               OrderDisguise(1.0, p=5).perturbation(x, F_POLY(x)))


def _pl(results):
    err = np.asarray(results.column("stealing_error"), dtype=float)
    return err.mean(), err.std(ddof=1) / np.sqrt(err.size)


def test_order_disguise_privacy_level_matches_spec_table():
    # spec 5.1: n = 100, sigma = 0.5, AIC attacker, PL ~ 0.46 (R = 100 reference)
    pl, se = _pl(simulate(poly_game(n=100, defense=OrderDisguise(), sigma=0.5), reps=100, seed=11))
    assert abs(pl - 0.46) <= 3 * np.sqrt(2) * se
    # constant shift gives exactly sigma^2 = 0.25; Order Disguise exceeds the utility loss (P5)
    const, _ = _pl(simulate(poly_game(n=100, defense="constant", sigma=0.5), reps=5, seed=11))
    assert const == pytest.approx(0.25, rel=1e-6)
    assert pl > const + 3 * se


@pytest.mark.parametrize("sigma", [0.15, 1.0])
def test_order_disguise_privacy_per_utility_is_about_two(sigma):
    # spec 5.1: PL/U ~ 2 at n = 100 for every U ([S]: 1.8-2.3)
    pl, se = _pl(simulate(poly_game(n=100, defense=OrderDisguise(), sigma=sigma), reps=100, seed=12))
    ratio, se_ratio = pl / sigma**2, se / sigma**2
    assert 1.8 - 3 * se_ratio <= ratio <= 2.3 + 3 * se_ratio
    iid, _ = _pl(simulate(poly_game(n=100, defense="iid", sigma=sigma), reps=50, seed=12))
    assert ratio > 10 * iid / sigma**2  # IID is averaged out (PL/U ~ p/n)


# ----- Kernel Confusion -----------------------------------------------------------------
@pytest.mark.parametrize("n", [10, 20, 50, 100, 200])
def test_known_attacker_kernel_confusion_never_below_constant_shift(n):
    # the constant shift is feasible, so the exact optimum must do at least as well
    rng = np.random.default_rng(n)
    X = rng.uniform(-1, 1, (n, 1))
    y = F_KRR(X)
    d = KernelConfusion(sigma=0.5, kernel="rbf", gamma=1.0, alpha=1e-3, evaluation=_uniform,
                        n_emp=500, random_state=3)
    res, q = d.design(X, y, rng=rng, target=F_KRR)
    const = q.value(np.full(n, 0.5))
    assert q.value(res.e) >= const - 1e-12 * abs(const)
    assert q.value(res.e) >= q.value(-np.full(n, 0.5)) - 1e-12 * abs(const)
    assert res.certificate.check(1e-8)
    # the quadratic is the real attacker's error on the defender's points
    Z = d.evaluation_points(X, rng)
    att = KernelRidgeAttacker(kernel="rbf", gamma=1.0, alpha=1e-3).fit(X, y + res.e)
    assert np.mean((att.predict(Z) - F_KRR(Z)) ** 2) == pytest.approx(q.value(res.e), rel=1e-6)


def test_known_attacker_kernel_confusion_beats_constant_in_simulation():
    known = KernelConfusion(kernel="rbf", gamma=1.0, alpha=1e-3, evaluation=UniformQueries((-1, 1)), n_emp=500)
    pl, se = _pl(simulate(krr_game(n=50, defense=known, sigma=0.5), reps=20, seed=21))
    const, se_c = _pl(simulate(krr_game(n=50, defense="constant", sigma=0.5), reps=20, seed=21))
    assert pl > const + 2 * np.hypot(se, se_c)


@pytest.mark.parametrize("n,reference", [(20, 0.54), (50, 0.37), (100, 0.27)])
def test_surrogate_kernel_confusion_matches_spec_table(n, reference):
    # spec 5.2: cubic-kernel surrogate (alpha = 1e-2, K + n alpha I) against the RBF attacker
    d = KernelConfusion.paper_surrogate(evaluation=UniformQueries((-1, 1)))
    res = simulate(krr_game(n=n, defense=d, sigma=0.5), reps=20, seed=31)
    pl, se = _pl(res)
    err = np.asarray(res.column("stealing_error"))
    se_ref = err.std(ddof=1) / np.sqrt(10)  # the reference used R = 10
    assert abs(pl - reference) <= 3 * np.hypot(se, se_ref)


def test_surrogate_exact_solution_beats_authors_slsqp_on_defender_objective():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (80, 1))
    y = F_KRR(X)
    kw = dict(sigma=0.5, evaluation=_uniform, n_emp=400, random_state=0)
    exact, q = KernelConfusion.paper_surrogate(**kw).design(X, y, rng=rng, target=F_KRR)
    slsqp, _ = KernelConfusion.paper_surrogate(solver="slsqp_unit", **kw).design(X, y, rng=rng,
                                                                                  target=F_KRR)
    assert q.value(exact.e) > q.value(slsqp.e)


def test_optimal_linear_smoother_is_general():
    # against a fixed-order OLS attacker the optimum is the trust region on S'S/m
    rng = np.random.default_rng(5)
    X = rng.beta(1, 3, (40, 1))
    Z = rng.beta(1, 3, (300, 1))
    att = OLSRegression(n_terms=4)
    d = OptimalLinearSmoother(sigma=0.5, attacker=att, evaluation=Z)
    e = d.perturbation(X, F_POLY(X), rng=rng, target=F_POLY)
    q = stealing_quadratic(att.smoother_matrix(X, Z), F_POLY(X), F_POLY(Z))
    ref = trust_region(q.M, q.u, 0.5 * np.sqrt(40))
    assert q.value(e) == pytest.approx(ref.objective + q.c, rel=1e-10)
    # a fitted order-selecting attacker is cloned, not read at its last order
    fitted = PolynomialRegression(p_max=4).fit(X, F_POLY(X))
    e2 = OptimalLinearSmoother(sigma=0.5, attacker=fitted, evaluation=Z).perturbation(
        X, F_POLY(X), rng=rng, target=F_POLY)
    np.testing.assert_allclose(e2, e, rtol=1e-8, atol=1e-10)


# ----- Misleading Variable Projection -----------------------------------------------------
def test_misleading_variable_projection_structure():
    rng = np.random.default_rng(6)
    beta = lasso_coef(12)
    X = rng.standard_normal((40, 12))
    y = X @ beta
    sigma = 2.0  # below ||y_hat - y||/sqrt(n)? check both branches against lstsq
    zero = np.flatnonzero(beta == 0)
    XS = X[:, zero]
    y_hat = XS @ np.linalg.lstsq(XS, y, rcond=None)[0]
    noise = y_hat - y
    e = MisleadingVariableProjection(sigma=sigma, coef=beta, exclude_ratio=0.0).perturbation(X, y, rng=rng)
    r = sigma * np.sqrt(40)
    if np.linalg.norm(noise) > r:
        np.testing.assert_allclose(e, noise * r / np.linalg.norm(noise), rtol=1e-10)
    else:
        t = np.sqrt(r**2 - noise @ noise)
        np.testing.assert_allclose(e, noise + t * y_hat / np.linalg.norm(y_hat), rtol=1e-10)
    # with r = 1 all but one irrelevant variable is dropped: e lies in span(y, one column)
    e1 = MisleadingVariableProjection(sigma=0.1, coef=beta, exclude_ratio=1.0).perturbation(
        X, y, rng=rng, target=None)
    resid = [np.linalg.lstsq(np.column_stack([y, X[:, j]]), e1, rcond=None)[1] for j in zero]
    assert min(float(np.sum(r_)) for r_ in resid) < 1e-18 * (e1 @ e1 + 1)


def test_misleading_variable_projection_reads_target_coef():
    rng = np.random.default_rng(7)
    target = LinearTarget(lasso_coef(10))
    X = rng.standard_normal((20, 10))
    a = MisleadingVariableProjection(sigma=0.3).perturbation(X, target(X), rng=np.random.default_rng(1),
                                                           target=target)
    b = MisleadingVariableProjection(sigma=0.3, coef=lasso_coef(10)).perturbation(
        X, target(X), rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)


# ----- errors and registry ------------------------------------------------------------------
def test_design_errors_name_the_argument():
    X = np.linspace(-1, 1, 10)[:, None]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="target"):
        KernelConfusion(sigma=0.1).perturbation(X, F_KRR(X), rng=rng)
    with pytest.raises(ValueError, match="'kernel' parameter of KernelConfusion"):
        KernelConfusion(kernel="gauss").respond(X, F_KRR(X), rng=rng, target=F_KRR)
    with pytest.raises(ValueError, match="'regularization' parameter of KernelConfusion"):
        KernelConfusion(regularization="n_alpha").respond(X, F_KRR(X), rng=rng, target=F_KRR)
    with pytest.raises(ValueError, match="'solver' parameter of KernelConfusion"):
        KernelConfusion(solver="bfgs").respond(X, F_KRR(X), rng=rng, target=F_KRR)
    with pytest.raises(ValueError, match="'sigma' parameter of"):
        OrderDisguise(sigma=-1.0).respond(X, F_POLY(X), rng=rng)
    with pytest.raises(ValueError, match="'p' parameter of OrderDisguise"):
        OrderDisguise(p=0).respond(X, F_POLY(X), rng=rng)
    with pytest.raises(ValueError, match="X must have 1 feature"):
        OrderDisguise().respond(np.zeros((5, 2)), np.zeros(5), rng=rng)
    with pytest.raises(TypeError, match="'attacker' parameter of OptimalLinearSmoother must be an object implementing 'smoother_matrix'"):
        OptimalLinearSmoother(attacker=object()).respond(X, F_POLY(X), rng=rng, target=F_POLY)
    with pytest.raises(ValueError, match="needs the true coefficients"):
        MisleadingVariableProjection().respond(X, F_POLY(X), rng=rng)
    with pytest.raises(ValueError, match="coef has no zero entries"):
        MisleadingVariableProjection(coef=[1.0]).respond(X, F_POLY(X), rng=rng)
    with pytest.raises(ValueError, match="'exclude_ratio' parameter of MisleadingVariableProjection"):
        MisleadingVariableProjection(exclude_ratio=2.0).respond(X, F_POLY(X), rng=rng)


def test_registered_by_name():
    for name, cls in (("order_disguise", OrderDisguise), ("kernel_confusion", KernelConfusion),
                      ("misleading_variable_projection", MisleadingVariableProjection)):
        d = make_defense(name, sigma=0.2)
        assert type(d).__name__ == cls.__name__ and d.sigma == 0.2 and d.query_dependent


def test_robust_linear_smoother_protects_the_worst_attacker():
    from modelprivacy.defenses.optimal import RobustLinearSmoother

    rng = np.random.default_rng(8)
    n = 25
    X = rng.uniform(-1, 1, (n, 1))
    y = F_KRR(X)
    attackers = [KernelRidgeAttacker(kernel="rbf", gamma=g, alpha=a) for g, a in ((0.5, 1e-3), (3.0, 1e-2))]
    d = RobustLinearSmoother(0.5, attackers=attackers, n_emp=200, random_state=2)
    res, quads = d.design(X, y, rng=np.random.default_rng(0), target=F_KRR)
    e = d.perturbation(X, y, rng=np.random.default_rng(0), target=F_KRR)
    assert np.mean(e**2) == pytest.approx(0.25, rel=1e-12)
    worst = lambda v: min(q.value(v) for q in quads)  # noqa: E731
    # at least as good, in the worst case, as the design against either single attacker
    for q in quads:
        single = trust_region(q.M, q.u, 0.5 * np.sqrt(n)).e
        assert worst(e) >= worst(single) - 1e-10
    assert worst(e) <= res.bound + 1e-6 * abs(res.bound)
    with pytest.raises(ValueError, match="attackers must be a non-empty"):
        RobustLinearSmoother(0.5).respond(X, y, rng=rng, target=F_KRR)


def test_misleading_variable_projection_beats_iid_against_lasso():
    # spec 5.3 (kind 7): no reference numbers, but the design must not be averaged out like IID
    from modelprivacy.games import lasso_game

    mvp, se = _pl(simulate(lasso_game(n=50, defense=MisleadingVariableProjection(), sigma=0.5), reps=6, seed=3))
    iid, se_i = _pl(simulate(lasso_game(n=50, defense="iid", sigma=0.5), reps=6, seed=3))
    assert mvp > iid + 3 * np.hypot(se, se_i)
