"""Defenses: analytic derivatives of the attacker penalty and constraints, the constrained solver, noise."""

import numpy as np
import pytest
from scipy import optimize
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from modelprivacy.property_inference.attacks import MetaClassifierAttack
from modelprivacy.property_inference.datasets import SyntheticCredit
from modelprivacy.property_inference.defenses import (
    OutputNoise,
    ParameterNoise,
    PoolPenaltyDefense,
    PropertyUnlearning,
    _pool_entries,
    _attacker_constraints,
    _attacker_penalty,
    _kkt_step,
    _solve_defended,
)
from modelprivacy.property_inference.models import LogisticFamily, MLPFamily, ModelSet, train_model

POP = SyntheticCredit(3, separation=1.5)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _models(values, per_class, seed, n=80):
    rng = np.random.default_rng(seed)
    thetas, labels, vals, data = [], [], [], []
    for c, v in enumerate(values):
        for _ in range(per_class):
            X, y = POP.sample(n, v, rng)
            thetas.append(train_model(LogisticRegression(tol=1e-10, max_iter=10000), X, y))
            labels += [c]
            vals += [v]
            data.append((X, y))
    return ModelSet(LogisticFamily(3), np.array(thetas), np.array(labels), np.array(vals), data)


@pytest.fixture(scope="module")
def setting():
    shadows = _models((0.2, 0.35, 0.5), 12, 0)
    Q = POP.sample(20, 0.35, 1)[0]
    attacks = [MetaClassifierAttack("logistic", access="white").fit(shadows),
               MetaClassifierAttack("logistic", access="black").fit(shadows, queries=Q),
               MetaClassifierAttack("mlp", access="black", random_state=0).fit(shadows, queries=Q)]
    return shadows, Q, attacks


def _fd(fun, theta, eps=1e-6):
    return np.column_stack([(fun(theta + e) - fun(theta - e)) / (2 * eps) for e in np.eye(theta.size) * eps])


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_penalty_gradient_and_hessian_match_finite_differences(setting, aggregate):
    shadows, Q, attacks = setting
    fam = shadows.family
    entries = _pool_entries(attacks[:2])
    theta = shadows.thetas[3] + 0.1
    f, g, H = _attacker_penalty(theta, fam, entries, aggregate=aggregate, hessian=True)
    assert np.allclose(g, _fd(lambda t: np.array([_attacker_penalty(t, fam, entries, aggregate=aggregate)[0]]),
                              theta)[0], atol=1e-6)
    assert np.allclose(H, _fd(lambda t: _attacker_penalty(t, fam, entries, aggregate=aggregate)[1], theta), atol=1e-5)


def test_constraint_jacobian_and_curvature(setting, rng):
    shadows, Q, attacks = setting
    fam = shadows.family
    entries = _pool_entries(attacks)
    theta = shadows.thetas[5]
    C, J, _ = _attacker_constraints(theta, fam, entries)
    assert np.allclose(J, _fd(lambda t: _attacker_constraints(t, fam, entries)[0], theta), atol=1e-6)
    nu = rng.standard_normal(C.size)
    _, _, K = _attacker_constraints(theta, fam, entries, nu)
    # the MLP meta-classifier is piecewise affine: its curvature term is zero, the sigmoid's is not
    assert np.allclose(K, _fd(lambda t: _attacker_constraints(t, fam, entries)[1].T @ nu, theta), atol=1e-5)


def test_kkt_step_solves_an_equality_constrained_quadratic(rng):
    A = rng.standard_normal((6, 6))
    H = A @ A.T + np.eye(6)
    g = rng.standard_normal(6)
    J = rng.standard_normal((2, 6))
    C = rng.standard_normal(2)
    d, _ = _kkt_step(H, g, C, J)
    ref = optimize.minimize(lambda x: g @ x + 0.5 * x @ H @ x, np.zeros(6), jac=lambda x: g + H @ x,
                            constraints=[{"type": "eq", "fun": lambda x: C + J @ x, "jac": lambda x: J}],
                            method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    assert np.allclose(d, ref.x, atol=1e-6)


def test_constrained_retraining_against_an_independent_solver(setting):
    shadows, Q, attacks = setting
    fam = shadows.family
    X, y = shadows.data[0]
    for pool in (attacks[:1], attacks[1:2]):
        entries = _pool_entries(pool)
        theta, steps = _solve_defended(fam, X, y, entries)
        C, _, _ = _attacker_constraints(theta, fam, entries)
        assert np.max(np.abs(C)) < 1e-7
        ref = optimize.minimize(lambda t: fam.loss_grad(t, X, y)[0], np.zeros(fam.n_params),
                                jac=lambda t: fam.loss_grad(t, X, y)[1], method="SLSQP",
                                constraints=[{"type": "eq", "fun": lambda t: _attacker_constraints(t, fam, entries)[0],
                                              "jac": lambda t: _attacker_constraints(t, fam, entries)[1]}],
                                options={"ftol": 1e-14, "maxiter": 1000})
        assert fam.loss_grad(theta, X, y)[0] <= ref.fun + 1e-8
        assert np.allclose(theta, ref.x, atol=1e-4)
        assert all(a.predict_proba(shadows.subset([0]).with_thetas(theta[None, :]))[0] == pytest.approx(1 / 3)
                   for a in pool)


def test_empty_pool_is_plain_retraining(setting):
    shadows, _, _ = setting
    out = PoolPenaltyDefense([]).apply(shadows.subset(range(4)))
    assert np.allclose(out.thetas, shadows.thetas[:4], atol=1e-6)


def test_kl_penalty_flattens_the_pool_posterior(setting):
    shadows, Q, attacks = setting
    sub = shadows.subset(range(0, 36, 6))
    kl = lambda P: np.mean(np.sum(P * np.log(P), axis=1) + np.log(3))
    before = kl(attacks[0].predict_proba(sub))
    after = kl(attacks[0].predict_proba(PoolPenaltyDefense([attacks[0]], penalty="kl", lam=100.0).apply(sub)))
    assert after < 0.01 * before


def test_property_unlearning_defeats_its_meta_classifier(setting):
    shadows, Q, attacks = setting
    sub = shadows.subset(range(0, 36, 3))
    for att in attacks[:2]:
        out = PropertyUnlearning(att).apply(sub)
        P = att.predict_proba(out)
        assert np.max(np.abs(P - 1 / 3)) < 1e-8
        # the least change: no feasible point is closer (checked against an independent solver)
        fam = sub.family
        entries = _pool_entries([att])
        t0 = sub.thetas[0]
        ref = optimize.minimize(lambda t: 0.5 * np.sum((t - t0) ** 2), t0, jac=lambda t: t - t0, method="SLSQP",
                                constraints=[{"type": "eq", "fun": lambda t: _attacker_constraints(t, fam, entries)[0],
                                              "jac": lambda t: _attacker_constraints(t, fam, entries)[1]}],
                                options={"ftol": 1e-14, "maxiter": 500})
        assert np.linalg.norm(out.thetas[0] - t0) <= np.linalg.norm(ref.x - t0) + 1e-6


def test_noise_defenses(setting, rng):
    shadows, Q, _ = setting
    noisy = OutputNoise(0.05).apply(shadows, random_state=0)
    F = noisy.features("black", Q)
    clean = shadows.features("black", Q)
    inside = (clean > 0.2) & (clean < 0.8)
    assert np.std((F - clean)[inside]) == pytest.approx(0.05, rel=0.1)
    assert np.array_equal(F, noisy.features("black", Q)) and F.min() >= 0 and F.max() <= 1
    assert np.array_equal(noisy.features("white"), shadows.features("white"))
    pn = ParameterNoise(0.2).apply(shadows, random_state=0)
    assert np.std(pn.thetas - shadows.thetas) == pytest.approx(0.2, rel=0.1)


def test_unsupported_targets_and_attackers_are_refused(setting):
    shadows, Q, attacks = setting
    X, y = shadows.data[0]
    mlp = MLPClassifier((3,), max_iter=5)
    theta = train_model(mlp, X, y, 0)
    mlp_set = ModelSet(MLPFamily(3, (3,), alpha=mlp.alpha), theta[None, :], np.array([0]), np.array([0.2]),
                       [(X, y)])
    with pytest.raises(ValueError, match="does not support 'mlp' targets"):
        PoolPenaltyDefense(attacks[:1]).apply(mlp_set)
    with pytest.raises(ValueError, match="another target type"):
        PoolPenaltyDefense(attacks[:1], penalty="kl").apply(mlp_set)
    assert PoolPenaltyDefense(attacks[1:2], penalty="kl").apply(mlp_set).thetas.shape == theta[None, :].shape
    rf = MetaClassifierAttack("random_forest", random_state=0).fit(shadows)
    with pytest.raises(ValueError, match="not differentiable"):
        PropertyUnlearning(rf).apply(shadows)
    with pytest.raises(ValueError, match="needs the fitted attack"):
        PropertyUnlearning().apply(shadows)
    with pytest.raises(ValueError, match="training set"):
        PoolPenaltyDefense([]).apply(shadows.with_thetas(shadows.thetas, data=[]))
    with pytest.raises(ValueError, match="warm starts"):
        PoolPenaltyDefense([], strategy="approximate").apply(shadows)
    with pytest.raises(TypeError, match="ModelSet"):
        OutputNoise().apply(np.zeros(3))
    with pytest.raises(ValueError, match="scale"):
        OutputNoise(-1.0).apply(shadows)
