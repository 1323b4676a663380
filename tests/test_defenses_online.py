"""The online perturbation-function design: budget, repeat consistency, optimality, sequential = batch."""

import numpy as np
import pytest
from scipy import integrate, stats

from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression
from modelprivacy.defenses import PerturbationFunctionDesign
from modelprivacy.games import krr_game
from modelprivacy.queries import BetaQueries, SequentialQueries, UniformQueries
from modelprivacy.simulate import simulate
from modelprivacy.targets import CubicCosineTarget, QuadraticTarget
from modelprivacy.threat import Server

F_KRR = CubicCosineTarget()
F_POLY = QuadraticTarget()


def _kernel_design(**kw):
    params = dict(queries=UniformQueries((-1.0, 1.0)), n_design=40, n_mc=6, n_emp=200, n_terms=8)
    params.update(kw)
    return PerturbationFunctionDesign(0.5, **params)


@pytest.fixture(scope="module")
def kernel_design():
    return _kernel_design().fit(F_KRR)


@pytest.mark.parametrize("queries, density, support", [
    (UniformQueries((-1.0, 1.0)), stats.uniform(-1, 2).pdf, (-1.0, 1.0)),
    (BetaQueries(1.0, b=3.0), stats.beta(1, 3).pdf, (0.0, 1.0)),
])
def test_expected_utility_loss_is_sigma_squared(queries, density, support):
    """E g(X)^2 = sigma^2 under the query distribution, by an independent adaptive quadrature."""
    d = PerturbationFunctionDesign(0.5, attacker=OLSRegression(3), queries=queries, n_design=30, n_mc=4,
                                   n_emp=100, n_terms=6).fit(F_POLY)
    value, err = integrate.quad(lambda x: d.perturbation_function([[x]])[0] ** 2 * density(x), *support,
                                limit=200)
    assert value == pytest.approx(0.25, rel=1e-7)
    assert float(d.coef_ @ d.gram_ @ d.coef_) == pytest.approx(0.25, rel=1e-10)


def test_mean_utility_loss_over_query_sets_is_sigma_squared(kernel_design):
    rng = np.random.default_rng(0)
    u = []
    for _ in range(400):
        X = rng.uniform(-1, 1, (50, 1))
        u.append(np.mean(kernel_design.perturbation(X, F_KRR(X), target=F_KRR) ** 2))
    u = np.array(u)
    assert abs(u.mean() - 0.25) < 4 * u.std() / np.sqrt(u.size)


def test_repeated_query_gets_the_same_answer_and_sequential_equals_batch(kernel_design):
    server = Server(F_KRR, kernel_design, rng=0)
    a = server.answer([[0.3], [-0.7]])
    b = server.answer([[-0.7], [0.3], [0.3]])
    np.testing.assert_array_equal(b, a[[1, 0, 0]])
    # one query at a time, as a real server answers, gives the batch answers
    Xs, Ys = SequentialQueries(UniformQueries((-1.0, 1.0))).collect(20, Server(F_KRR, kernel_design, rng=1), rng=2)
    np.testing.assert_array_equal(Ys, kernel_design.respond(Xs, F_KRR(Xs), rng=3, target=F_KRR))


def test_the_design_is_the_optimum_of_its_objective(kernel_design):
    d = kernel_design
    assert d.design_.certificate.check(1e-8)
    q = d.quadratic_
    best = q.value(d.coef_)
    assert best == pytest.approx(d.expected_privacy_level_, rel=1e-10)
    # brute force: random points of the ellipsoid theta' G theta = sigma^2 never do better
    rng = np.random.default_rng(1)
    L = np.linalg.cholesky(d.gram_)
    V = rng.standard_normal((d.coef_.size, 5000))
    thetas = np.linalg.solve(L.T, 0.5 * V / np.linalg.norm(V, axis=0))
    assert np.max(q.value(thetas)) <= best * (1 + 1e-12)


def test_the_design_is_fixed_by_its_seed_and_refitted_for_another_target():
    a = _kernel_design().fit(F_KRR)
    b = _kernel_design().fit(F_KRR)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    key = a.target_key_
    a.perturbation([[0.1]], [0.0], target=QuadraticTarget(0.0, scale=2.0))
    assert a.target_key_ != key
    assert not np.array_equal(a.coef_, b.coef_)


def test_moments_and_perturbation_model_after_fitting(kernel_design):
    X = np.linspace(-1, 1, 7)[:, None]
    mom = kernel_design.moments(X)
    np.testing.assert_array_equal(mom.mean, kernel_design.perturbation_function(X))
    assert not np.any(mom.cov)
    D = kernel_design.perturbation_model(X).directions
    g = kernel_design.perturbation_function(X)
    assert np.linalg.norm(g - D @ (D.T @ g)) < 1e-10 * np.linalg.norm(g)  # g lies in the basis span
    with pytest.raises(ValueError, match="not designed yet"):
        _kernel_design().perturbation_function(X)


def test_simulated_privacy_level_is_about_sigma_squared_in_the_kernel_game():
    """A function of x cannot exploit the sample: its PL_n is close to U_n = sigma^2 (module docstring)."""
    d = PerturbationFunctionDesign(0.5, queries=UniformQueries((-1.0, 1.0)), n_design=60, n_mc=8, n_emp=300)
    res = simulate(krr_game(n=60, defense=d, attacker=KernelRidgeAttacker("rbf", gamma=1.0, alpha=1e-3)),
                   reps=40, seed=0)
    pl = res.column("stealing_error").mean()
    assert 0.2 < pl < 0.32
    assert abs(res.column("utility_loss").mean() - 0.25) < 0.03


def test_population_utility_of_a_function_in_the_class_is_its_integral(kernel_design):
    """e = h(X) for a cubic h in the basis span: share 1 and E h(X)^2 by an independent quadrature."""
    h = lambda x: 0.3 - x + 0.8 * x**3  # noqa: E731
    X = UniformQueries((-1.0, 1.0)).sample(50, np.random.default_rng(4))
    utility, share = kernel_design.population_utility(X, h(X[:, 0]))
    value, _ = integrate.quad(lambda x: h(x) ** 2 / 2.0, -1.0, 1.0)
    assert share == pytest.approx(1.0, abs=1e-12)
    assert utility == pytest.approx(value, rel=1e-9)
    # the design's own answers: its budget sigma^2, all explained
    assert kernel_design.population_utility(X, kernel_design.perturbation_function(X)) == pytest.approx((0.25, 1.0))
    # independent noise is mostly outside a smooth class
    noise = np.random.default_rng(5).standard_normal(50)
    assert kernel_design.population_utility(X, noise)[1] < 0.5


def test_population_utility_argument_errors(kernel_design):
    X = np.linspace(-1, 1, 5)[:, None]
    with pytest.raises(ValueError, match="not designed yet"):
        _kernel_design().population_utility(X, np.ones(5))
    with pytest.raises(ValueError, match="e must not be all zero"):
        kernel_design.population_utility(X, np.zeros(5))
    with pytest.raises(ValueError, match="e must have length 5"):
        kernel_design.population_utility(X, np.ones(4))
