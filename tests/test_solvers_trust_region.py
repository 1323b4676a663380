"""The exact trust-region solver against independent computations (cvxpy SDP, SLSQP, sampling)."""

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from modelprivacy.solvers import (
    exact_memory_bytes,
    sdp_relaxation,
    stealing_quadratic,
    kernel_ridge_smoother,
    trust_region,
    unit_sphere_slsqp,
)


def _orthogonal(n, rng):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def _instance(kind, n, rng):
    """Random problems of several kinds: (M, u, radius)."""
    if kind == "indefinite":
        A = rng.standard_normal((n, n))
        return (A + A.T) / 2, rng.standard_normal(n), 2.0
    if kind == "psd_low_rank":
        S = rng.standard_normal((3, n))
        return S.T @ S / 3, 0.3 * rng.standard_normal(n), 1.5
    if kind == "hard_case":
        # u orthogonal to a double top eigenspace, small enough for lam = lam_max
        d = np.sort(rng.uniform(-1, 1, n))
        d[-2:] = 2.0
        Q = _orthogonal(n, rng)
        u = Q[:, :-2] @ (0.05 * rng.standard_normal(n - 2))
        return Q @ np.diag(d) @ Q.T, u, 3.0
    if kind == "rank_deficient_hard":
        # rank-2 PSD M, u in its null space: top eigenspace orthogonal to u
        Q = _orthogonal(n, rng)
        M = Q[:, :2] @ np.diag([3.0, 1.0]) @ Q[:, :2].T
        return M, 0.2 * Q[:, 5], 2.0
    if kind == "negative_definite":
        A = rng.standard_normal((n, n))
        return -(A @ A.T) / n - np.eye(n), 0.1 * rng.standard_normal(n), 5.0
    raise ValueError(kind)


KINDS = ["indefinite", "psd_low_rank", "hard_case", "rank_deficient_hard", "negative_definite"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [6, 30, 100])
def test_exact_matches_sdp_relaxation(kind, n):
    rng = np.random.default_rng([n, KINDS.index(kind)])
    M, u, r = _instance(kind, n, rng)
    res = trust_region(M, u, r)
    sdp = sdp_relaxation(M, u, r)
    assert sdp.status == "optimal"
    scale = max(abs(sdp.bound), float(np.max(np.abs(np.linalg.eigvalsh(M)))) * r**2)
    assert abs(res.objective - sdp.bound) <= 1e-6 * scale
    # the rounded SDP point is feasible and cannot beat the exact optimum
    assert np.linalg.norm(sdp.e) <= r * (1 + 1e-12)
    assert sdp.objective <= res.objective + 1e-9 * scale
    assert res.certificate.check(1e-8)


@pytest.mark.parametrize("kind", ["hard_case", "rank_deficient_hard"])
def test_hard_case_is_flagged_and_on_boundary(kind):
    rng = np.random.default_rng(7)
    M, u, r = _instance(kind, 20, rng)
    res = trust_region(M, u, r)
    lam_max = np.linalg.eigvalsh(M)[-1]
    assert res.hard_case
    assert res.lam == pytest.approx(lam_max, rel=1e-12)
    assert np.linalg.norm(res.e) == pytest.approx(r, rel=1e-12)
    assert res.certificate.check(1e-10)


def test_interior_solution_for_negative_definite():
    rng = np.random.default_rng(3)
    M, u, r = _instance("negative_definite", 15, rng)
    res = trust_region(M, u, r)
    # unconstrained maximiser of a concave quadratic: M e = -u
    np.testing.assert_allclose(res.e, np.linalg.solve(M, -u), rtol=1e-10, atol=1e-12)
    assert res.lam == 0.0
    assert res.certificate.check(1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_never_below_slsqp_nor_random_feasible_points(seed):
    rng = np.random.default_rng(100 + seed)
    kind = KINDS[seed % len(KINDS)]
    M, u, r = _instance(kind, 25, rng)
    res = trust_region(M, u, r)
    slsqp = unit_sphere_slsqp(M, u, r)
    f = lambda e: e @ M @ e + 2 * u @ e  # noqa: E731
    tol = 1e-10 * max(1.0, abs(res.objective))
    assert res.objective >= f(slsqp.e) - tol
    # 1000 random feasible points: half on the sphere, half uniform in the ball
    G = rng.standard_normal((1000, 25))
    G /= np.linalg.norm(G, axis=1, keepdims=True)
    radii = np.where(np.arange(1000) < 500, r, r * rng.random(1000) ** (1 / 25))
    P = G * radii[:, None]
    vals = np.einsum("ij,jk,ik->i", P, M, P) + 2 * P @ u
    assert res.objective >= vals.max() - tol


def test_certificate_rejects_a_suboptimal_point():
    rng = np.random.default_rng(11)
    M, u, r = _instance("indefinite", 20, rng)
    res = trust_region(M, u, r)
    assert res.certificate.check(1e-10)
    from modelprivacy.solvers import TrustRegionCertificate

    bad = TrustRegionCertificate(M, u, r, res.e + 1e-3 * rng.standard_normal(20), res.lam)
    assert not bad.check(1e-8)
    worse = TrustRegionCertificate(M, u, r, res.e, res.lam - 0.5)  # lam I - M not PSD
    assert not worse.check(1e-8)
    # the dual bound equals the objective at a certified optimum
    assert res.certificate.dual_bound == pytest.approx(res.objective, rel=1e-10)


def test_slsqp_unit_variant_fails_its_certificate_on_the_kernel_problem():
    # the authors' unit-sphere-then-rescale is not the maximiser at radius sigma*sqrt(n)
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (60, 1))
    Z = rng.uniform(-1, 1, (300, 1))
    f = lambda A: np.sin(3 * A[:, 0])  # noqa: E731
    S = kernel_ridge_smoother(X, Z, kernel="poly", alpha=1e-2, regularization="authors")
    q = stealing_quadratic(S, f(X), f(Z))
    r = 0.5 * np.sqrt(60)
    exact = trust_region(q.M, q.u, r)
    slsqp = unit_sphere_slsqp(q.M, q.u, r)
    assert exact.objective > slsqp.objective
    assert exact.certificate.check(1e-8)
    assert not slsqp.certificate.check(1e-8)


def test_zero_radius_and_zero_matrix():
    res = trust_region(np.eye(3), np.ones(3), 0.0)
    np.testing.assert_array_equal(res.e, 0.0)
    assert res.certificate.check()
    u = np.array([3.0, 4.0, 0.0])
    res = trust_region(np.zeros((3, 3)), u, 2.0)  # linear objective: e = r u/||u||
    np.testing.assert_allclose(res.e, 2.0 * u / 5.0, rtol=1e-14)
    assert res.lam == pytest.approx(5.0 / 2.0)
    res = trust_region(np.diag([1.0, 3.0, 3.0]), np.zeros(3), 2.0)  # u = 0: top eigenvector
    assert res.hard_case and res.objective == pytest.approx(12.0)


def test_lanczos_is_exact_on_low_rank_and_close_on_kernel_problems():
    rng = np.random.default_rng(9)
    n = 400
    S = rng.standard_normal((5, n))
    M, u = S.T @ S / 5, 0.1 * rng.standard_normal(n)
    exact = trust_region(M, u, 3.0)
    approx = trust_region(M, u, 3.0, method="lanczos", n_components=8)
    assert approx.objective == pytest.approx(exact.objective, rel=1e-10)
    # operator input (no dense M) gives the same answer
    op = trust_region(aslinearoperator(S.T) @ aslinearoperator(S) / 5, u, 3.0, method="lanczos",
                      n_components=8)
    assert op.objective == pytest.approx(exact.objective, rel=1e-10)
    # full-rank kernel problem: the top-20 subspace loses little
    X = rng.uniform(-1, 1, (n, 1))
    Z = rng.uniform(-1, 1, (500, 1))
    f = lambda A: np.cos(2 * A[:, 0])  # noqa: E731
    q = stealing_quadratic(kernel_ridge_smoother(X, Z, kernel="rbf", gamma=1.0, alpha=1e-3), f(X), f(Z))
    r = 0.5 * np.sqrt(n)
    exact = trust_region(q.M, q.u, r)
    approx = trust_region(q.M, q.u, r, method="lanczos", n_components=20)
    assert np.linalg.norm(approx.e) == pytest.approx(r, rel=1e-12)
    assert approx.objective <= exact.objective * (1 + 1e-12)
    assert approx.objective >= exact.objective * (1 - 1e-3)


# ----- bad input ------------------------------------------------------------------------
def test_bad_inputs_name_the_argument():
    M = np.eye(3)
    with pytest.raises(ValueError, match="M must be symmetric"):
        trust_region(np.triu(np.ones((3, 3))), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="M contains NaN"):
        trust_region(np.full((3, 3), np.nan), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="M contains NaN or infinite"):
        trust_region(np.diag([1.0, np.inf, 1.0]), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        trust_region(M, np.ones(3), -1.0)
    with pytest.raises(ValueError, match="u must have length 3"):
        trust_region(M, np.ones(4), 1.0)
    with pytest.raises(ValueError, match="M must be square"):
        trust_region(np.ones((3, 4)), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="method must be one of"):
        trust_region(M, np.ones(3), 1.0, method="newton")
    with pytest.raises(TypeError, match="radius must be a real number"):
        trust_region(M, np.ones(3), "1")
    with pytest.raises(ValueError, match="M must be symmetric"):
        sdp_relaxation(np.triu(np.ones((3, 3))), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        sdp_relaxation(M, np.ones(3), -0.5)


def test_memory_error_before_allocating():
    # a 200000 x 200000 zero-copy view: any allocation would be 320 GB
    n = 200_000
    M = np.broadcast_to(np.zeros(1), (n, n))
    with pytest.raises(MemoryError, match="method='lanczos'"):
        trust_region(M, np.zeros(n), 1.0)
    with pytest.raises(MemoryError, match="max_memory"):
        trust_region(np.eye(50), np.ones(50), 1.0, max_memory=exact_memory_bytes(50) - 1)
    # within budget it runs
    trust_region(np.eye(50), np.ones(50), 1.0, max_memory=exact_memory_bytes(50))
    with pytest.raises(MemoryError):
        stealing_quadratic(np.ones((2, 3000)), np.zeros(3000), np.zeros(2), max_memory=1e6)
    with pytest.raises(MemoryError, match="kernel ridge smoother"):
        kernel_ridge_smoother(np.zeros((1000, 1)), np.zeros((10, 1)), max_memory=1e6)


def test_round_off_linear_term_is_solved_as_the_hard_case():
    """u at round-off level used to give NaN (the secular root is not separable from lam_max)."""
    M = np.diag([1.0, 0.5])
    for u in (np.array([1e-17, 1e-17]), np.array([0.0, 1e-300]), np.array([1e-300, 0.0])):
        res = trust_region(M, u, 1.0)
        assert np.isfinite(res.objective) and np.all(np.isfinite(res.e))
        # the optimum is the top eigenvalue times r^2 (u contributes nothing visible)
        assert res.objective == pytest.approx(1.0, rel=1e-12)
        assert res.certificate.check(1e-8)
    # |u|/r just above half an ulp of lam_max, its top part below: the root sat on the pole (divide by zero)
    M = np.diag([0.0172, 0.0115])
    res = trust_region(M, np.array([4.8e-18, 8.0e-18]), 5.0)
    assert res.objective == pytest.approx(0.0172 * 25, rel=1e-12) and res.certificate.check(1e-8)


def test_eigenbasis_solver_equals_the_full_solver():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((30, 30))
    M = A @ A.T / 30
    u = rng.standard_normal(30)
    d, V = np.linalg.eigh(M)
    from modelprivacy.solvers import trust_region_eigen

    for r in (0.1, 1.0, 10.0):
        w, lam, _ = trust_region_eigen(d, V.T @ u, r)
        full = trust_region(M, u, r)
        e = V @ w
        assert e @ M @ e + 2 * u @ e == pytest.approx(full.objective, rel=1e-10)
        assert lam == pytest.approx(full.lam, rel=1e-8)
    with pytest.raises(ValueError, match="c must have length 30"):
        trust_region_eigen(d, u[:5], 1.0)
