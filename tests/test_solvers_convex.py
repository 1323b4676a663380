"""Constrained and robust designs: exact feasibility, brute-force optima, relaxation bounds, errors."""

import itertools

import numpy as np
import pytest

from modelprivacy.solvers import (
    DesignSolverError,
    constrained_design,
    robust_design,
    sdp_relaxation,
    trust_region,
)


def _psd(n, rank, rng, scale=1.0):
    S = rng.standard_normal((rank, n))
    return scale * S.T @ S / rank


def _q(M, u, e):
    return float(e @ M @ e + 2 * u @ e)


def test_box_constraints_hold_exactly_in_floating_point():
    rng = np.random.default_rng(0)
    n = 40
    M, u = _psd(n, 4, rng), 0.1 * rng.standard_normal(n)
    y = rng.uniform(0, 1, n)
    y[:3] = [0.0, 1.0, 0.3]  # answers on the edge of the box
    res = constrained_design(M, u, radius=3.0, y=y, lb=0.0, ub=1.0)
    Y = y + res.e
    assert np.all(Y >= 0.0) and np.all(Y <= 1.0)  # exact, no tolerance
    assert np.linalg.norm(res.e) <= 3.0 * (1 + 1e-12)
    assert res.violations["box"] == 0.0
    assert res.status == "optimal" and res.solver in ("CLARABEL", "SCS")
    assert res.objective <= res.bound * (1 + 1e-6)
    # the box binds: the unconstrained optimum leaves it
    tr = trust_region(M, u, 3.0)
    assert np.any((y + tr.e < 0) | (y + tr.e > 1))


def test_per_query_cap_holds_exactly_and_matches_brute_force():
    # max of a convex quadratic over a box sits at a vertex: enumerate all 2^12
    rng = np.random.default_rng(1)
    n, cap = 12, 0.4
    for _ in range(3):
        M, u = _psd(n, 3, rng), 0.3 * rng.standard_normal(n)
        res = constrained_design(M, u, cap=cap)
        assert np.max(np.abs(res.e)) <= cap  # exact
        V = cap * np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
        best = np.max(np.einsum("ij,jk,ik->i", V, M, V) + 2 * V @ u)
        assert res.objective == pytest.approx(best, rel=1e-9)
        assert res.bound >= best * (1 - 1e-6)


def test_vector_cap_and_radius_together():
    rng = np.random.default_rng(2)
    n = 30
    M, u = _psd(n, 5, rng), 0.1 * rng.standard_normal(n)
    cap = rng.uniform(0.05, 0.5, n)
    res = constrained_design(M, u, radius=1.0, cap=cap)
    assert np.all(np.abs(res.e) <= cap)
    assert np.linalg.norm(res.e) <= 1.0 * (1 + 1e-12)
    # never below 1000 random feasible points (clipped, then scaled into the ball)
    P = rng.uniform(-1, 1, (1000, n)) * cap
    P *= np.minimum(1.0, 1.0 / np.linalg.norm(P, axis=1))[:, None]
    vals = np.einsum("ij,jk,ik->i", P, M, P) + 2 * P @ u
    assert res.objective >= vals.max() - 1e-10


def test_ellipsoidal_benign_utility_constraint():
    rng = np.random.default_rng(3)
    n = 25
    M, u = _psd(n, 4, rng), 0.2 * rng.standard_normal(n)
    H = rng.standard_normal((60, n)) / np.sqrt(n)  # query perturbation -> 60 benign points
    W = H.T @ H / 60
    res = constrained_design(M, u, weight=W, budget=0.1)
    assert res.e @ W @ res.e <= 0.1 * (1 + 1e-12)
    # one quadratic + one ellipsoid: S-lemma tight, and equals the trust region in whitened
    # coordinates e = W^{-1/2} v, ||v||^2 <= budget
    w, V = np.linalg.eigh(W)
    Wih = V @ np.diag(w**-0.5) @ V.T
    ref = trust_region(Wih @ M @ Wih, Wih @ u, np.sqrt(0.1))
    assert res.objective == pytest.approx(ref.objective, rel=1e-6)
    assert res.bound == pytest.approx(ref.objective, rel=1e-6)


def test_constant_term_is_carried():
    rng = np.random.default_rng(4)
    M, u = _psd(8, 2, rng), rng.standard_normal(8)
    a = constrained_design(M, u, 0.0, radius=1.0)
    b = constrained_design(M, u, 2.5, radius=1.0)
    assert b.objective == pytest.approx(a.objective + 2.5, rel=1e-9)
    assert b.bound == pytest.approx(a.bound + 2.5, rel=1e-6)


def test_robust_design_bounds_and_beats_sampling():
    rng = np.random.default_rng(5)
    n, r = 20, 2.0
    quads = [(_psd(n, 3, rng), 0.2 * rng.standard_normal(n), float(rng.uniform(0, 0.1)))
             for _ in range(3)]
    res = robust_design(quads, radius=r)
    worst = lambda e: min(_q(M, u, e) + c for M, u, c in quads)  # noqa: E731
    assert res.objective == pytest.approx(worst(res.e), rel=1e-12)
    assert np.linalg.norm(res.e) <= r * (1 + 1e-12)
    assert res.objective <= res.bound * (1 + 1e-6) + 1e-9
    assert res.gap == pytest.approx(res.bound - res.objective)
    # the max-min value is no larger than any single attacker's optimum
    for M, u, c in quads:
        assert res.bound <= trust_region(M, u, r).objective + c + 1e-6
    # and at least as good as 1000 random boundary points and each attacker's own optimum
    G = rng.standard_normal((1000, n))
    G *= r / np.linalg.norm(G, axis=1, keepdims=True)
    assert res.objective >= max(worst(g) for g in G) - 1e-10
    assert res.objective >= max(worst(trust_region(M, u, r).e) for M, u, _ in quads) - 1e-10


def test_robust_design_with_one_attacker_is_the_trust_region():
    rng = np.random.default_rng(6)
    M, u = _psd(15, 15, rng), rng.standard_normal(15)
    res = robust_design([(M, u, 0.0)], radius=1.5)
    assert res.objective == pytest.approx(trust_region(M, u, 1.5).objective, rel=1e-9)
    assert res.relative_gap < 1e-6


def test_scs_and_clarabel_agree():
    rng = np.random.default_rng(7)
    M, u = _psd(12, 12, rng), rng.standard_normal(12)
    a = sdp_relaxation(M, u, 1.0, solver="CLARABEL")
    b = sdp_relaxation(M, u, 1.0, solver="SCS")
    assert a.solver == "CLARABEL" and b.solver == "SCS"
    assert a.bound == pytest.approx(b.bound, rel=1e-6)


# ----- bad input ------------------------------------------------------------------------
def test_infeasible_and_unbounded_sets_raise():
    M, u, y = np.eye(4), np.ones(4), np.full(4, 0.5)
    with pytest.raises(ValueError, match="infeasible constraint set: lb > ub"):
        constrained_design(M, u, radius=1.0, y=y, lb=1.0, ub=0.0)
    with pytest.raises(ValueError, match=r"infeasible constraint set: clean answer y\[0\]"):
        constrained_design(M, u, radius=1.0, y=y, lb=0.6, ub=1.0)
    with pytest.raises(ValueError, match="infeasible constraint set: cap"):
        constrained_design(M, u, cap=-0.1)
    with pytest.raises(ValueError, match="budget must be >= 0"):
        constrained_design(M, u, weight=np.eye(4), budget=-1.0)
    with pytest.raises(ValueError, match="unbounded"):
        constrained_design(M, u, y=y, lb=0.0)
    with pytest.raises(ValueError, match="weight must be positive semi-definite"):
        constrained_design(M, u, weight=-np.eye(4), budget=1.0)
    with pytest.raises(ValueError, match="weight and budget must be given together"):
        constrained_design(M, u, weight=np.eye(4))
    with pytest.raises(ValueError, match="y .clean answers. is required"):
        constrained_design(M, u, radius=1.0, lb=0.0)
    with pytest.raises(ValueError, match="lb must be a scalar or have shape"):
        constrained_design(M, u, radius=1.0, y=y, lb=np.zeros(3))
    with pytest.raises(ValueError, match=r"quadratics\[1\].M has size 3"):
        robust_design([(M, u), (np.eye(3), np.ones(3))], radius=1.0)
    with pytest.raises(ValueError, match=r"quadratics\[0\].M must be symmetric"):
        robust_design([(np.triu(np.ones((4, 4))), u)], radius=1.0)
    with pytest.raises(ValueError, match="solver must be None or one of"):
        sdp_relaxation(M, u, 1.0, solver="MOSEK_PLUS")


def test_unbounded_program_reported_by_solver_raises():
    # singular W leaves a direction free: the solver's 'unbounded' is an error, not a result
    M, u = np.eye(3), np.ones(3)
    W = np.diag([1.0, 1.0, 0.0])
    with pytest.raises((ValueError, DesignSolverError)):
        constrained_design(M, u, weight=W, budget=1.0)
