r"""Exact (global) solution of the trust-region problem behind optimal perturbations.

.. math::

    \max_{e \in \mathbb{R}^n}\; e^\top M e + 2u^\top e
    \quad\text{subject to}\quad \|e\|_2 \le r .

Although the objective is not concave, this problem is solved *globally*:
:math:`e^\star` is optimal if and only if there is a multiplier
:math:`\lambda` with

.. math::

    (\lambda I - M)\,e^\star = u,\quad \lambda I - M \succeq 0,\quad
    \lambda \ge 0,\quad \|e^\star\| \le r,\quad \lambda\,(r^2 - \|e^\star\|^2) = 0

(Moré and Sorensen, 1983). With :math:`M = V\,\mathrm{diag}(d)\,V^\top` and
:math:`c = V^\top u`, :math:`e(\lambda) = V\,c/(\lambda - d)` and
:math:`\lambda` solves the secular equation
:math:`\phi(\lambda) = \sum_i c_i^2/(\lambda - d_i)^2 = r^2` on
:math:`\lambda > \max(d_{\max}, 0)`. In the *hard case* (``c`` vanishes on the
top eigenspace and :math:`\phi(d_{\max}) \le r^2`) the multiplier is
:math:`\lambda = d_{\max}` and a top-eigenvector component completes ``e`` to
the boundary.

References
----------
J. J. Moré and D. C. Sorensen, "Computing a trust region step", SIAM J. Sci.
Stat. Comput. 4(3), 1983.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg
from scipy.optimize import minimize
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

from .._memory import check_memory, memory_bytes
from .._validation import (
    check_int,
    check_generator,
    check_scalar,
    check_symmetric,
    check_vector,
)

__all__ = [
    "trust_region_eigen",
    "trust_region",
    "unit_sphere_slsqp",
    "TrustRegionResult",
    "TrustRegionCertificate",
    "exact_memory_bytes",
]

METHODS = ("exact", "lanczos")


def exact_memory_bytes(n):
    """Peak bytes the exact solve allocates on an ``n x n`` float64 matrix (``M`` itself not counted).

    Measured, not estimated: :math:`5.25 \\cdot 8 n^2` (the fit is 5.14; see
    ``modelprivacy._memory.MEMORY_DOUBLES`` and
    ``benchmarks/measure_memory.py``): the symmetry check's temporaries, the
    symmetrised copy, LAPACK's copy of it, the eigenvectors and ``syevd``'s
    workspace. A ``M`` that is not a float64 array costs one more :math:`8n^2`
    for its conversion.
    """
    n = check_int(n, "n", low=1)
    return memory_bytes("exact", n)


class TrustRegionCertificate:
    r"""Optimality certificate of a trust-region solution (the KKT conditions).

    ``e`` is a global maximiser of :math:`e^\top M e + 2u^\top e` over
    :math:`\|e\| \le r` if and only if all of the following hold:

    * feasibility :math:`\|e\| \le r`;
    * stationarity :math:`(\lambda I - M) e = u`;
    * dual feasibility :math:`\lambda \ge 0`;
    * second order :math:`\lambda I - M \succeq 0`, i.e.
      :math:`\lambda \ge \lambda_{\max}(M)`;
    * complementary slackness :math:`\lambda (r^2 - \|e\|^2) = 0`.

    Then the dual bound :math:`\lambda r^2 + u^\top e` equals the objective,
    so ``dual_bound`` is an upper bound on every feasible objective
    whenever the multiplier conditions hold.

    Parameters
    ----------
    M : ndarray of shape (n, n) or LinearOperator
    u : ndarray of shape (n,)
    radius : float
    e : ndarray of shape (n,)
    lam : float
    """

    def __init__(self, M, u, radius, e, lam):
        self.M = M
        self.u = u
        self.radius = radius
        self.e = e
        self.lam = lam

    def _lam_max(self):
        M = self.M
        n = self.u.shape[0]
        if isinstance(M, LinearOperator):
            if n <= 2:
                return float(np.max(np.linalg.eigvalsh(M @ np.eye(n))))
            return float(_top_eigenpairs(M, 1, np.random.default_rng(0).standard_normal(n), tol=1e-12)[0][0])
        return float(scipy.linalg.eigh(M, eigvals_only=True, subset_by_index=[n - 1, n - 1])[0])

    def residuals(self):
        """Relative violations of each KKT condition (0 means exactly satisfied).

        Returns
        -------
        dict
            ``feasibility``, ``stationarity``, ``multiplier``, ``second_order``,
            ``slackness``; each is scaled by the natural size of its terms.
            ``lambda_max`` is computed independently of the solver.
        """
        e, u, r, lam = self.e, self.u, self.radius, self.lam
        norm_e = float(np.linalg.norm(e))
        if r == 0.0:
            return {"feasibility": norm_e, "stationarity": 0.0, "multiplier": 0.0,
                    "second_order": 0.0, "slackness": 0.0, "lambda_max": np.nan}
        lam_max = self._lam_max()
        scale = max(abs(lam_max), abs(lam), float(np.linalg.norm(u)) / r, np.finfo(float).tiny)
        Me = self.M @ e
        stat = float(np.linalg.norm(lam * e - Me - u)) / (scale * r + float(np.linalg.norm(u)))
        return {
            "feasibility": max(0.0, norm_e - r) / r,
            "stationarity": stat,
            "multiplier": max(0.0, -lam) / scale,
            "second_order": max(0.0, lam_max - lam) / scale,
            "slackness": abs(lam) * abs(r * r - norm_e * norm_e) / (scale * r * r),
            "lambda_max": lam_max,
        }

    @property
    def dual_bound(self):
        r"""Dual value :math:`\lambda r^2 + u^\top e`, an upper bound on the optimum."""
        return float(self.lam * self.radius**2 + self.u @ self.e)

    def check(self, tol=1e-8):
        """Return True when every KKT residual is at most ``tol``."""
        tol = check_scalar(tol, "tol", low=0.0)
        if not isinstance(self.M, LinearOperator):
            n = self.u.shape[0]
            check_memory(memory_bytes("certificate", n), f"The certificate check (n={n})",
                         need=lambda k: memory_bytes("certificate", k))
        res = self.residuals()
        return all(v <= tol for k, v in res.items() if k != "lambda_max")

    def __repr__(self):
        return f"TrustRegionCertificate(radius={self.radius:.4g}, lam={self.lam:.6g})"


class TrustRegionResult:
    r"""Solution of :math:`\max_{\|e\|\le r} e^\top M e + 2u^\top e`.

    Attributes
    ----------
    e : ndarray of shape (n,)
        The maximiser.
    objective : float
        :math:`e^\top M e + 2u^\top e` (no constant term).
    lam : float
        Lagrange multiplier of the norm constraint (``inf`` when ``radius = 0``,
        where the feasible set is the single point 0 and no multiplier exists).
    hard_case : bool
        True when ``u`` is orthogonal to the top eigenspace and the solution
        needed a top-eigenvector component.
    certificate : TrustRegionCertificate
        ``certificate.check(tol)`` verifies global optimality.
    method : str
    n_iter : int
        Secular-equation (or optimiser) iterations.
    info : dict
        Solver diagnostics (eigenvalues used, timing, status).
    """

    def __init__(self, e, objective, lam, hard_case, certificate, method, n_iter, info=None):
        self.e = e
        self.objective = objective
        self.lam = lam
        self.hard_case = hard_case
        self.certificate = certificate
        self.method = method
        self.n_iter = n_iter
        self.info = info or {}

    def __repr__(self):
        return (f"TrustRegionResult(method={self.method!r}, objective={self.objective:.6g}, "
                f"lam={self.lam:.6g}, hard_case={self.hard_case}, n_iter={self.n_iter})")


def _secular(d, c, r, *, tol, hard_case_tol, max_iter):
    """Solve the problem in the eigenbasis: return (w, lam, hard_case, n_iter).

    ``d`` are the eigenvalues (any order), ``c`` the coordinates of ``u``.
    """
    n = d.shape[0]
    if r == 0.0:
        return np.zeros(n), np.inf, False, 0
    d_max = float(np.max(d))
    spec = max(float(np.max(np.abs(d))), np.finfo(float).tiny)
    norm_c = float(np.linalg.norm(c))
    # eigenvalues closer than this to d_max are numerically one eigenspace
    top = d >= d_max - 1e-12 * spec
    c_top = float(np.linalg.norm(c[top]))

    def phi(lam, mask=None):
        gap = lam - d if mask is None else lam - d[mask]
        cc = c if mask is None else c[mask]
        return float(np.sum((cc / gap) ** 2))

    lo = max(d_max, 0.0)
    if d_max < 0.0 and phi(0.0) <= r * r:
        return c / (0.0 - d), 0.0, False, 0          # interior maximiser (M negative definite)
    # u at round-off level: the root lam cannot be told apart from d_max in floating
    # point (lo + ||c||/r == lo), so the problem is numerically the hard case
    unresolved = norm_c / r <= 4 * np.finfo(float).eps * max(lo, spec)
    if d_max >= 0.0 and (c_top <= hard_case_tol * max(norm_c, np.finfo(float).tiny) or unresolved):
        rest = ~top
        if phi(d_max, rest) <= r * r:                 # hard case
            w = np.zeros(n)
            w[rest] = c[rest] / (d_max - d[rest])
            tau = np.sqrt(max(r * r - float(w @ w), 0.0))
            if c_top > 0.0:
                w[top] = tau * c[top] / c_top        # align with u's residual top part
            else:
                idx = np.flatnonzero(top)
                w[idx[np.argmax(d[idx])]] = tau
            return w, d_max, True, 0
    # easy case: root of 1/sqrt(phi) = 1/r on (lo, hi]; phi(hi) <= r^2 by construction
    hi = lo + norm_c / r
    # phi(lam) >= c_top^2 / (lam - d_max)^2 puts the root right of this point, where
    # Newton on the concave g below converges monotonically (Moré-Sorensen)
    lam = max(lo, d_max + c_top / r)
    if lam == d_max:
        lam = 0.5 * (lo + hi)
    if lam <= d_max:  # c_top / r below the resolution of d_max: start one ulp right of the pole
        lam = np.nextafter(d_max, np.inf)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        gap = lam - d
        ratio = c / gap
        ph = float(ratio @ ratio)
        norm_w = np.sqrt(ph)
        if abs(norm_w - r) <= tol * r:
            break
        if norm_w > r:
            lo = lam
        else:
            hi = lam
        # Newton on g(lam) = 1/||w(lam)|| - 1/r (nearly linear: Moré-Sorensen)
        dph = -2.0 * float(np.sum(ratio**2 / gap))
        g = 1.0 / norm_w - 1.0 / r
        dg = -0.5 * dph / (ph * norm_w)
        step = lam - g / dg if dg > 0 else np.nan
        if abs(step - lam) <= 4 * np.finfo(float).eps * max(abs(lam), spec):
            break                                      # lam is resolved to machine precision
        lam = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo <= 4 * np.finfo(float).eps * max(abs(hi), abs(lo), spec):
            lam = hi if lam == lo else lam
            break
    w = c / (lam - d)
    if lam > 0.0 and float(np.linalg.norm(w)) > 0.0:
        w = _land_on_sphere(w, c, d, lam, r, top)
    return w, float(lam), False, n_iter


def _land_on_sphere(w, c, d, lam, r, top):
    r"""Put the secular solution ``w`` exactly on the sphere, disturbing stationarity least.

    Two candidates: rescale the whole vector, or move only its top-eigenspace
    part (which absorbs the norm mismatch at the smallest cost in
    :math:`(\lambda - d)\Delta w` when :math:`\lambda` is close to
    :math:`d_{\max}`, the near-hard case). Near the hard case, rescaling the whole
    vector by :math:`1 + \delta` changes every coordinate by :math:`\delta w_i`
    and leaves a stationarity residual :math:`\delta\|c\|`, up to :math:`10^{-7}`
    relative when :math:`c_{\rm top} \approx 10^{-9}\|c\|`; moving only the top part leaves
    :math:`10^{-15}` (``tests/test_solvers_trust_region.py`` measures both on random
    near-hard instances). The rescaled vector is kept when its residual
    :math:`\|(\lambda - d)w - c\|` is negligible (below :math:`10^{-10}`
    of :math:`\max|\lambda - d|\,r + \|c\|`, a hundredth of the
    certificate's tolerance), so that results away from the hard case do not
    change in their last bits; otherwise the candidate with the smaller
    residual is returned.
    """
    scaled = w * (r / float(np.linalg.norm(w)))
    gap = lam - d
    res_scaled = float(np.linalg.norm(gap * scaled - c))
    if res_scaled <= 1e-10 * (float(np.max(np.abs(gap))) * r + float(np.linalg.norm(c))):
        return scaled
    norm_top = float(np.linalg.norm(w[top]))
    rest = float(w[~top] @ w[~top])
    if norm_top == 0.0 or rest >= r * r:
        return scaled
    moved = w.copy()
    moved[top] *= np.sqrt(r * r - rest) / norm_top
    if np.linalg.norm(gap * moved - c) <= res_scaled:
        return moved
    return scaled


def _top_eigenpairs(M, k, v0, tol=0.0):
    """The ``k`` largest eigenpairs of ``M`` by Lanczos (:func:`scipy.sparse.linalg.eigsh`).

    ARPACK stops with error -9 ("starting vector is zero") when ``M`` maps the
    start vector to zero, i.e. for the zero matrix (a smoother that ignores its
    answers): then every eigenvalue is 0, and ``(0, v0/||v0||)`` is returned
    as the one eigenpair that matters.
    """
    try:
        return eigsh(M, k=k, which="LA", v0=v0, tol=tol)
    except ArpackError:
        probe = np.random.default_rng(1).standard_normal(v0.shape[0])
        if np.any(M @ v0) or np.any(M @ probe):
            raise
        return np.zeros(1), (v0 / np.linalg.norm(v0))[:, None]


def trust_region_eigen(eigenvalues, c, radius, *, tol=1e-13, hard_case_tol=1e-10, max_iter=100):
    r"""Solve the trust-region problem given in an eigenbasis of ``M``.

    .. math::

        \max_w\; \sum_i d_i w_i^2 + 2c^\top w \quad\text{s.t.}\quad \|w\|_2 \le r,

    i.e. :func:`trust_region` with :math:`M = V\operatorname{diag}(d)V^\top`,
    :math:`c = V^\top u` and :math:`e = Vw`. Callers that already hold the
    eigendecomposition (a frontier over many budgets, a low-rank row space)
    skip the :math:`O(n^3)` step.

    Returns
    -------
    w : ndarray
        The maximiser in the eigenbasis (on the sphere whenever ``lam > 0``).
    lam : float
        Lagrange multiplier.
    hard_case : bool
    """
    d = check_vector(eigenvalues, "eigenvalues")
    if d.shape[0] == 0:
        raise ValueError("eigenvalues must not be empty.")
    c = check_vector(c, "c", n=d.shape[0])
    radius = check_scalar(radius, "radius", low=0.0)
    w, lam, hard, _ = _secular(d, c, radius, tol=tol, hard_case_tol=hard_case_tol, max_iter=max_iter)
    norm = float(np.linalg.norm(w))
    if radius > 0.0 and lam > 0.0 and norm > 0.0:
        w = w * (radius / norm)
    return w, float(lam), hard


def _check_solve_memory(M, method, max_memory):
    """Raise MemoryError before a dense ``M`` is copied when the solve cannot fit (measured factors)."""
    shape = getattr(M, "shape", None)
    if isinstance(M, LinearOperator) or shape is None or len(shape) != 2:
        return  # an operator needs O(n) memory; anything else is validated next
    n = int(shape[0])
    converts = not (isinstance(M, np.ndarray) and M.dtype == np.float64)
    kind = "exact" if method == "exact" else "lanczos_dense"

    def need(k):
        return memory_bytes(kind, k) + (8 * k * k if converts else 0)

    hint = ("Use method='lanczos' with M as a LinearOperator (stealing_quadratic(..., as_operator=True)), "
            "which needs O(n) memory.")
    check_memory(need(n), f"The {method} trust-region solve (n={n})", max_memory=max_memory, need=need,
                 hint=hint)


def _validate_problem(M, u, radius, allow_operator):
    radius = check_scalar(radius, "radius", low=0.0)
    if isinstance(M, LinearOperator):
        if not allow_operator:
            raise TypeError("M is a LinearOperator: the exact method needs a dense array; "
                            "use method='lanczos'.")
        if M.shape[0] != M.shape[1]:
            raise ValueError(f"M must be square, got shape {M.shape}.")
        n = M.shape[0]
    else:
        M = check_symmetric(M, "M")
        n = M.shape[0]
    if n == 0:
        raise ValueError("M must have at least one row.")
    u = check_vector(u, "u", n=n)
    return M, u, radius


def trust_region(M, u, radius, *, method="exact", n_components=20, tol=1e-13, hard_case_tol=1e-10,
                 max_iter=100, max_memory=None, random_state=0):
    r"""Globally solve the trust-region problem of an optimal perturbation.

    .. math::

        \max_{e \in \mathbb{R}^n}\; e^\top M e + 2u^\top e
        \quad\text{subject to}\quad \|e\|_2^2 \le r^2 .

    With :math:`M = S^\top S/m` and :math:`u` from
    :func:`stealing_quadratic`, this is the perturbation that maximises a
    linear-smoother attacker's stealing error at utility loss
    :math:`U_n = r^2/n` (take :math:`r = \sigma\sqrt n`).

    Parameters
    ----------
    M : array-like of shape (n, n) or scipy LinearOperator
        Symmetric matrix (need not be definite or full rank). A
        ``LinearOperator`` is accepted by ``method='lanczos'`` only.
    u : array-like of shape (n,)
    radius : float
        :math:`r \ge 0`.
    method : {'exact', 'lanczos'}
        ``'exact'``: one symmetric eigendecomposition plus a safeguarded
        Newton/bisection root of the secular equation, handling the hard case;
        global to machine precision. ``'lanczos'``: top ``n_components``
        eigenpairs by :func:`scipy.sparse.linalg.eigsh`, then the exact
        solution restricted to their span plus the residual direction of ``u``
        (exact when ``M`` has rank ``<= n_components``).
    n_components : int
        Eigenpairs used by ``'lanczos'``.
    tol : float
        Relative tolerance of :math:`\|e\| = r` in the secular iteration.
    hard_case_tol : float
        ``u`` counts as orthogonal to the top eigenspace when its component
        there is below ``hard_case_tol * ||u||``.
    max_iter : int
        Cap on secular iterations (Newton converges in a handful).
    max_memory : int, optional
        Memory budget in bytes; default: available memory. A :class:`MemoryError`
        is raised *before* allocating when the measured peak of a dense ``M``
        (:func:`exact_memory_bytes` for ``'exact'``, :math:`3.1 \cdot 8n^2` for
        ``'lanczos'``) exceeds it; its message says the largest ``n`` that fits. A
        ``LinearOperator`` with ``'lanczos'`` needs only :math:`O(n)` memory.
    random_state : int, Generator or None
        Start vector of the Lanczos iteration.

    Returns
    -------
    TrustRegionResult

    Raises
    ------
    ValueError
        If ``M`` is not symmetric or not finite, ``u`` has the wrong length or
        ``radius`` is negative.
    MemoryError
        If the exact eigendecomposition would not fit in memory.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    tol = check_scalar(tol, "tol", low=0.0)
    hard_case_tol = check_scalar(hard_case_tol, "hard_case_tol", low=0.0)
    max_iter = check_int(max_iter, "max_iter", low=1)
    _check_solve_memory(M, method, max_memory)
    M, u, radius = _validate_problem(M, u, radius, allow_operator=(method == "lanczos"))
    n = u.shape[0]
    t0 = time.perf_counter()
    if method == "lanczos":
        k = check_int(n_components, "n_components", low=1)
        if k >= n - 1:
            if isinstance(M, LinearOperator):
                M = M @ np.eye(n)
                M = 0.5 * (M + M.T)
            d, V = np.linalg.eigh(M)
        else:
            rng = check_generator(random_state, "random_state")
            dk, Vk = _top_eigenpairs(M, k, rng.standard_normal(n))
            # add the part of u outside the eigen-subspace, so the linear term is kept
            resid = u - Vk @ (Vk.T @ u)
            norm_res = float(np.linalg.norm(resid))
            if norm_res > 1e-12 * max(float(np.linalg.norm(u)), np.finfo(float).tiny):
                B = np.column_stack([Vk, resid / norm_res])
                H = B.T @ (M @ B)
                H = 0.5 * (H + H.T)
                dh, Vh = np.linalg.eigh(H)
                d, V = dh, B @ Vh
            else:
                d, V = dk, Vk
    else:
        d, V = np.linalg.eigh(M)
    c = V.T @ u
    w, lam, hard, n_iter = _secular(d, c, radius, tol=tol, hard_case_tol=hard_case_tol,
                                    max_iter=max_iter)
    e = V @ w
    if radius > 0.0 and lam > 0.0:
        e *= radius / max(float(np.linalg.norm(e)), np.finfo(float).tiny)
    objective = float(e @ (M @ e) + 2.0 * u @ e)
    info = {"eigenvalues": d, "seconds": time.perf_counter() - t0, "status": "optimal"}
    cert = TrustRegionCertificate(M, u, radius, e, lam)
    return TrustRegionResult(e, objective, lam, hard, cert, method, n_iter, info)


def unit_sphere_slsqp(M, u, radius, *, maxiter=1000):
    r"""The authors' Kernel Confusion solver: SLSQP on the unit sphere, then rescaling.

    Solves :math:`\max_{\|e\| = 1} e^\top M e + 2u^\top e` with
    :func:`scipy.optimize.minimize` (``method='SLSQP'``, analytic gradients,
    equality constraint :math:`\|e\|^2 = 1`) from the top eigenvector of ``M``,
    falls back to the start point when the optimiser returns NaN, and returns
    :math:`r\, e/\|e\|`. This is *not* the maximiser at radius ``r`` (the linear
    term is weighted by ``1/r`` relative to the quadratic one on the unit
    sphere); it is kept to reproduce and benchmark the authors' defense.

    Parameters
    ----------
    M, u, radius : as in :func:`trust_region`.
    maxiter : int
        SLSQP iteration cap (1000 in the authors' code).

    Returns
    -------
    TrustRegionResult
        ``lam`` is the least-squares multiplier estimate
        :math:`e^\top(Me + u)/\|e\|^2`; its certificate generally fails.
    """
    M, u, radius = _validate_problem(M, u, radius, allow_operator=False)
    maxiter = check_int(maxiter, "maxiter", low=1)
    t0 = time.perf_counter()
    d, V = np.linalg.eigh(M)
    x0 = V[:, -1].copy()

    def fun(e):
        Me = M @ e
        return -(e @ Me + 2.0 * u @ e), -2.0 * (Me + u)

    cons = {"type": "eq", "fun": lambda e: e @ e - 1.0, "jac": lambda e: 2.0 * e[None, :]}
    res = minimize(fun, x0, jac=True, method="SLSQP", constraints=[cons],
                   options={"maxiter": maxiter})
    e = res.x if np.all(np.isfinite(res.x)) else x0
    e = radius * e / max(float(np.linalg.norm(e)), np.finfo(float).tiny)
    Me = M @ e
    objective = float(e @ Me + 2.0 * u @ e)
    lam = float(e @ (Me + u)) / max(float(e @ e), np.finfo(float).tiny) if radius > 0 else np.inf
    info = {"seconds": time.perf_counter() - t0, "status": res.message, "success": bool(res.success)}
    cert = TrustRegionCertificate(M, u, radius, e, lam)
    return TrustRegionResult(e, objective, lam, False, cert, "slsqp_unit", int(res.nit), info)
