r"""Convex (semidefinite) programs for perturbation designs without a closed form.

All programs here lift the perturbation to :math:`Y = \begin{bmatrix} E & e\\ e^\top & 1\end{bmatrix}
\succeq 0` (Shor relaxation; :math:`E = ee^\top` when :math:`Y` has rank one), so
a quadratic :math:`e^\top M e + 2u^\top e + c` becomes the linear
:math:`\operatorname{tr}(ME) + 2u^\top e + c`. The relaxed optimum is an upper
bound on the design problem; a rounding step returns a feasible ``e`` and the
gap between the bound and the rounded objective is reported. With a single
quadratic and the norm constraint only, the relaxation is tight (S-lemma) and
certifies :func:`~modelprivacy.solvers.trust_region` independently.

Solvers: Clarabel by default, SCS as a fallback. A solver failure, an
infeasible or an unbounded program raises; it is never returned as a result.
"""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np

from .._memory import check_memory, sdp_memory_bytes
from .._validation import _as_float_array, check_generator, check_scalar, check_symmetric, check_vector
from ._quadratic import StealingQuadratic
from ._trust_region import trust_region

__all__ = [
    "DesignResult",
    "DesignSolverError",
    "UnreachableBudgetWarning",
    "sdp_relaxation",
    "constrained_design",
    "robust_design",
    "SOLVERS",
]

#: conic solvers, in order of preference
SOLVERS = ("CLARABEL", "SCS")
#: Clarabel's KKT system treats the PSD cone as a dense block of size ~n^2/2, so its
#: cost grows like n^6; above this size SCS (first order, eps 1e-8) is tried first
CLARABEL_MAX_N = 40


class DesignSolverError(RuntimeError):
    """Raised when no conic solver returns an optimal solution."""


class UnreachableBudgetWarning(UserWarning):
    """The response box or the cap keeps every feasible ``e`` below the utility budget.

    The design is still optimal over the feasible set, but it spends less
    utility than ``radius`` (or ``budget``) allows; ``DesignResult.budget_reachable``
    is then False and ``DesignResult.budget_used`` says how much was spent.
    """


class DesignResult:
    r"""Solution of a lifted (SDP) design problem.

    Attributes
    ----------
    e : ndarray of shape (n,)
        The rounded, exactly feasible perturbation.
    objective : float
        Design objective at ``e``: :math:`\min_k e^\top M_k e + 2u_k^\top e + c_k`.
    bound : float
        Optimal value of the SDP relaxation, an upper bound on the design
        problem's optimum (up to solver tolerance).
    gap : float
        ``bound - objective`` (>= 0 up to solver tolerance; 0 means ``e`` is
        optimal).
    relative_gap : float
        ``gap / max(|bound|, tiny)``.
    status : str
        cvxpy status of the relaxation (always ``'optimal'``: anything else raises).
    solver : str
        The conic solver that produced the relaxation.
    e_relaxed : ndarray of shape (n,)
        First-order part of the relaxed solution.
    E : ndarray of shape (n, n)
        Second-order part of the relaxed solution.
    rank : int
        Numerical rank of the lifted matrix (1 means the relaxation is exact).
    violations : dict
        Constraint violations of ``e`` (all 0 for box and cap constraints).
    budget_used : dict
        Fraction of each utility constraint that ``e`` spends:
        ``"radius"``: :math:`\|e\|^2/r^2`, ``"budget"``: :math:`e^\top We/b` (only the
        constraints that were given; a zero budget counts as fully used).
    budget_reachable : bool
        False when the box/cap constraints provably keep every feasible ``e``
        below a utility constraint (then an :class:`UnreachableBudgetWarning`
        was issued); True otherwise.
    """

    def __init__(self, e, objective, bound, status, solver, e_relaxed, E, rank, violations, info=None,
                 budget_used=None, budget_reachable=True):
        self.e = e
        self.objective = float(objective)
        self.bound = float(bound)
        self.gap = self.bound - self.objective
        self.relative_gap = self.gap / max(abs(self.bound), np.finfo(float).tiny)
        self.status = status
        self.solver = solver
        self.e_relaxed = e_relaxed
        self.E = E
        self.rank = rank
        self.violations = violations
        self.info = info or {}
        self.budget_used = budget_used or {}
        self.budget_reachable = bool(budget_reachable)

    def __repr__(self):
        return (f"DesignResult(objective={self.objective:.6g}, bound={self.bound:.6g}, "
                f"gap={self.gap:.3g}, status={self.status!r}, solver={self.solver!r}, rank={self.rank})")


# ----- validation -------------------------------------------------------------------
def _as_quadratic(q, prefix="", n=None):
    """Validate a quadratic given as StealingQuadratic or (M, u[, c]); names start with ``prefix``."""
    if isinstance(q, StealingQuadratic):
        M, u, c = q.M, q.u, q.c
    else:
        try:
            parts = tuple(q)
        except TypeError as exc:
            raise TypeError(f"{prefix or 'quadratic'} must be a StealingQuadratic or a tuple (M, u[, c]).") from exc
        if len(parts) not in (2, 3):
            raise ValueError(f"{prefix or 'quadratic'} must be (M, u) or (M, u, c), got {len(parts)} items.")
        M, u = parts[0], parts[1]
        c = parts[2] if len(parts) == 3 else 0.0
    M = check_symmetric(M, f"{prefix}M")
    if n is not None and M.shape[0] != n:
        raise ValueError(f"{prefix}M has size {M.shape[0]}, expected {n} like the first quadratic.")
    u = check_vector(u, f"{prefix}u", n=M.shape[0])
    c = check_scalar(c, f"{prefix}c")
    return M, u, c


def _bounds(value, name, n):
    if value is None:
        return None
    arr = _as_float_array(value, name, allow_inf=True)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}.")
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} contains NaN.")
    return arr


class _Constraints:
    """Validated constraint set; ``e = 0`` must be feasible (clean answers are valid)."""

    def __init__(self, n, radius, weight, budget, y, lb, ub, cap):
        self.n = n
        self.radius = None if radius is None else check_scalar(radius, "radius", low=0.0)
        if (weight is None) != (budget is None):
            raise ValueError("weight and budget must be given together (constraint e'We <= budget).")
        self.W_definite = False
        if weight is not None:
            W = check_symmetric(weight, "weight")
            if W.shape != (n, n):
                raise ValueError(f"weight must have shape ({n}, {n}), got {W.shape}.")
            ev = np.linalg.eigvalsh(W)
            if ev[0] < -1e-10 * max(float(np.max(np.abs(W))), 1.0):
                raise ValueError(f"weight must be positive semi-definite; smallest eigenvalue {ev[0]:.3g}.")
            self.W = W
            # e'We <= budget bounds e only when W is definite
            self.W_definite = bool(ev[-1] > 0 and ev[0] > 1e-12 * ev[-1])
            self.budget = check_scalar(budget, "budget", low=0.0)
        else:
            self.W, self.budget = None, None
        lb = _bounds(lb, "lb", n)
        ub = _bounds(ub, "ub", n)
        if lb is not None or ub is not None:
            if y is None:
                raise ValueError("y (clean answers) is required with a response box lb <= y + e <= ub.")
            y = check_vector(y, "y", n=n)
            lb = np.full(n, -np.inf) if lb is None else lb
            ub = np.full(n, np.inf) if ub is None else ub
            if np.any(lb > ub):
                i = int(np.flatnonzero(lb > ub)[0])
                raise ValueError(f"infeasible constraint set: lb > ub at index {i} ({lb[i]} > {ub[i]}).")
            if np.any(y < lb) or np.any(y > ub):
                i = int(np.flatnonzero((y < lb) | (y > ub))[0])
                raise ValueError(
                    f"infeasible constraint set: clean answer y[{i}] = {y[i]} lies outside "
                    f"[lb, ub] = [{lb[i]}, {ub[i]}]; the designs require the clean answers to be valid "
                    "responses (e = 0 feasible)."
                )
        self.y, self.lb, self.ub = y, lb, ub
        if cap is not None:
            cap = _bounds(cap, "cap", n)
            if np.any(cap < 0):
                raise ValueError("infeasible constraint set: cap must be >= 0 (constraint |e_i| <= cap).")
        self.cap = cap
        # bounds on e itself (box shifted by y, intersected with the cap)
        lo = np.full(n, -np.inf)
        hi = np.full(n, np.inf)
        if self.lb is not None:
            lo = np.maximum(lo, self.lb - self.y)
            hi = np.minimum(hi, self.ub - self.y)
        if self.cap is not None:
            lo = np.maximum(lo, -self.cap)
            hi = np.minimum(hi, self.cap)
        if self.radius is not None:
            # |e_i| <= ||e|| <= r: a finite bound beyond the radius is redundant; cutting it keeps the
            # scaled program finite (a box of 1 with r = 1e-200 overflowed to lo*hi = 1e400)
            lo = np.where(np.isfinite(lo), np.maximum(lo, -self.radius), lo)
            hi = np.where(np.isfinite(hi), np.minimum(hi, self.radius), hi)
        self.lo, self.hi = lo, hi
        bounded = (self.radius is not None or self.W_definite
                   or (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))))
        if not bounded:
            singular = (" (weight is singular, so e'We <= budget leaves its null space unbounded)"
                        if self.W is not None else "")
            raise ValueError(
                f"the constraint set is unbounded{singular}: give radius, a positive definite "
                "weight with budget, or finite bounds (lb/ub or cap) on every coordinate."
            )

    # ----- lifting -------------------------------------------------------------------
    def scale(self):
        """A typical norm of a feasible ``e``; the program is solved in ``e / scale``."""
        if self.radius is not None and self.radius > 0:
            return self.radius
        ends = np.concatenate([np.abs(self.lo), np.abs(self.hi)])
        ends = ends[np.isfinite(ends) & (ends > 0)]
        if ends.size:
            return float(np.max(ends)) * np.sqrt(self.n)
        if self.W_definite and self.budget > 0:
            return float(np.sqrt(self.budget * self.n / np.trace(self.W)))
        return 1.0

    def cvxpy(self, E, e, rho=1.0):
        """Lifted constraints on the scaled variables ``E / rho^2``, ``e / rho``."""

        cons = []
        if self.radius is not None:
            cons.append(cp.trace(E) <= (self.radius / rho) ** 2)
        if self.W is not None:
            cons.append(cp.sum(cp.multiply(self.W, E)) <= self.budget / rho**2)
        lo, hi = self.lo / rho, self.hi / rho
        fl, fh = np.isfinite(lo), np.isfinite(hi)
        if fl.any():
            cons.append(e[np.flatnonzero(fl)] >= lo[fl])
        if fh.any():
            cons.append(e[np.flatnonzero(fh)] <= hi[fh])
        both = np.flatnonzero(fl & fh)
        if both.size:
            # (e_i - lo_i)(hi_i - e_i) >= 0 lifted: E_ii <= (lo_i + hi_i) e_i - lo_i hi_i
            lb, hb = lo[both], hi[both]
            cons.append(cp.diag(E)[both] <= cp.multiply(lb + hb, e[both]) - lb * hb)
        return cons

    # ----- exact feasibility ------------------------------------------------------------
    def max_step(self, x):
        """Largest ``t >= 0`` with ``t x`` feasible (the set is star-shaped about 0)."""
        t = np.inf
        if self.radius is not None:
            nx = float(np.linalg.norm(x))
            if nx > 0:
                t = min(t, self.radius / nx)
        if self.W is not None:
            qx = float(x @ self.W @ x)
            if qx > 0:
                t = min(t, np.sqrt(self.budget / qx))
        pos, neg = x > 0, x < 0
        if pos.any():
            t = min(t, float(np.min(self.hi[pos] / x[pos])))
        if neg.any():
            t = min(t, float(np.min(self.lo[neg] / x[neg])))
        return t

    def clip(self, x):
        return np.clip(x, self.lo, self.hi)

    def snap(self, x, rtol=1e-6):
        """Move coordinates that are within ``rtol`` of a finite bound onto it.

        Conic solvers stop short of active bounds; the optimum of a convex
        objective sits on them.
        """
        width = np.where(np.isfinite(self.hi - self.lo), self.hi - self.lo, 1.0)
        tol = rtol * np.maximum(width, np.finfo(float).tiny)
        x = np.where(np.isfinite(self.hi) & (np.abs(x - self.hi) <= tol), self.hi, x)
        x = np.where(np.isfinite(self.lo) & (np.abs(x - self.lo) <= tol), self.lo, x)
        return x

    def enforce(self, x):
        """Return ``x`` made exactly feasible: box and cap hold in floating point."""
        x = self.clip(x)
        # quadratic constraints: shrink toward 0, which keeps the box (0 is inside)
        s = 1.0
        if self.radius is not None:
            nx = float(np.linalg.norm(x))
            if nx > self.radius:
                s = min(s, self.radius / nx)
        if self.W is not None:
            qx = float(x @ self.W @ x)
            if qx > self.budget:
                s = min(s, np.sqrt(self.budget / qx))
        if s < 1.0:
            x = x * (s * (1.0 - 4 * np.finfo(float).eps))
        if self.lb is not None:
            # y + e must land in [lb, ub] after floating-point addition: nudge by ulps
            for _ in range(8):
                Y = self.y + x
                low, high = Y < self.lb, Y > self.ub
                if not (low.any() or high.any()):
                    break
                x = np.where(low, np.nextafter(x, np.inf), x)
                x = np.where(high, np.nextafter(x, -np.inf), x)
        return x

    def budget_used(self, x):
        """Fraction of each utility constraint spent by ``x`` (a zero budget counts as spent)."""
        used = {}
        if self.radius is not None:
            used["radius"] = (float(np.linalg.norm(x)) / self.radius) ** 2 if self.radius > 0 else 1.0
        if self.W is not None:
            used["budget"] = float(x @ self.W @ x) / self.budget if self.budget > 0 else 1.0
        return used

    def unreachable(self):
        r"""Messages for the utility constraints that the box and the cap keep out of reach.

        ``max ||e||^2`` over the box is :math:`\sum_i \max(lo_i^2, hi_i^2)` (exact);
        ``max e'We`` is bounded by :math:`a^\top|W|a`, :math:`a_i = \max(|lo_i|, |hi_i|)`
        (exact for a diagonal ``W``), so a budget is reported unreachable only when it
        provably is.
        """
        a = np.maximum(np.abs(self.lo), np.abs(self.hi))
        if not np.all(np.isfinite(a)):
            return []
        out = []
        if self.radius is not None:
            top = float(a @ a)
            if top < self.radius**2 * (1.0 - 1e-9):
                out.append(f"the box/cap allow at most ||e||^2 = {top:.6g} < radius^2 = {self.radius**2:.6g}")
        if self.W is not None:
            top = float(a @ np.abs(self.W) @ a)
            if top < self.budget * (1.0 - 1e-9):
                out.append(f"the box/cap allow at most e'We = {top:.6g} < budget = {self.budget:.6g}")
        return out

    def violations(self, x):
        v = {}
        if self.radius is not None:
            v["radius"] = max(0.0, float(np.linalg.norm(x)) - self.radius)
        if self.W is not None:
            v["budget"] = max(0.0, float(x @ self.W @ x) - self.budget)
        if self.lb is not None:
            Y = self.y + x
            v["box"] = float(max(0.0, np.max(self.lb - Y), np.max(Y - self.ub)))
        if self.cap is not None:
            v["cap"] = float(max(0.0, np.max(np.abs(x) - self.cap)))
        return v

    def verify(self, x):
        v = self.violations(x)
        if v.get("box", 0.0) > 0.0 or v.get("cap", 0.0) > 0.0:
            raise RuntimeError(f"rounded perturbation violates the box/cap constraints: {v}.")
        scale = max(self.radius or 0.0, 1.0)
        if v.get("radius", 0.0) > 1e-12 * scale or v.get("budget", 0.0) > 1e-12 * max(self.budget or 0, 1.0):
            raise RuntimeError(f"rounded perturbation violates the norm constraints: {v}.")
        return v


# ----- solving --------------------------------------------------------------------
def _solve(problem, solver, n):

    if solver is None:
        order = SOLVERS if n <= CLARABEL_MAX_N else SOLVERS[::-1]
    else:
        if solver not in SOLVERS:
            raise ValueError(f"solver must be None or one of {SOLVERS}, got {solver!r}.")
        order = (solver,)
    errors = []
    for name in order:
        if name not in cp.installed_solvers():
            errors.append(f"{name}: not installed")
            continue
        opts = {}
        if name == "SCS":
            opts = {"eps_abs": 1e-8, "eps_rel": 1e-8, "max_iters": 100_000}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem.solve(solver=name, **opts)
        except cp.error.SolverError as exc:
            errors.append(f"{name}: {exc}")
            continue
        status = problem.status
        if status == cp.OPTIMAL:
            return status, name
        if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
            raise ValueError(f"infeasible constraint set (solver {name} status {status!r}).")
        if status in (cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
            raise ValueError(f"the design problem is unbounded (solver {name} status {status!r}); "
                             "add radius, weight/budget or finite bounds.")
        errors.append(f"{name}: status {status!r}")
    raise DesignSolverError("no conic solver returned an optimal solution: " + "; ".join(errors))


def _objective(quads, x):
    return min(float(x @ M @ x + 2.0 * u @ x + c) for M, u, c in quads)


def _round(quads, cons, Yv, n, rng, n_samples, extra):
    """Feasible candidates from the relaxed solution; return the best and its objective."""
    e_bar = Yv[:n, n].copy()
    E_bar = Yv[:n, :n]
    cands = [np.zeros(n), e_bar] + list(extra)   # e = 0 is feasible by construction
    w, V = np.linalg.eigh(Yv)
    for j in range(1, min(4, n + 1) + 1):
        v = V[:, -j] * np.sqrt(max(w[-j], 0.0))
        if abs(v[n]) > 1e-9:
            cands.append(v[:n] / v[n])
        cands.extend([v[:n], -v[:n]])
    # Goemans-Williamson style: e ~ N(e_bar, E - e_bar e_bar')
    C = E_bar - np.outer(e_bar, e_bar)
    cw, cV = np.linalg.eigh(0.5 * (C + C.T))
    L = cV * np.sqrt(np.clip(cw, 0.0, None))
    draws = e_bar[:, None] + L @ rng.standard_normal((n, n_samples))
    cands.extend(draws.T)
    best, best_val = None, -np.inf
    for x in cands:
        if not np.all(np.isfinite(x)):
            continue
        for z in (x, cons.clip(x)):
            t = cons.max_step(z)
            if not np.isfinite(t):
                if np.any(z):
                    continue
                t = 1.0   # z = 0
            for s in {t, min(t, 1.0)}:
                cand = cons.enforce(s * z)
                val = _objective(quads, cand)
                if val > best_val:
                    best, best_val = cand, val
    return best, best_val


def _ascend(quads, cons, e0, val0, max_iter):
    r"""Minorise-maximise from ``e0``: each step maximises the linearisation of every (convex) q_k.

    For PSD :math:`M_k`, :math:`q_k(e) \ge q_k(e_j) + \nabla q_k(e_j)^\top(e - e_j)`, so the
    step's optimum never lowers :math:`\min_k q_k`; the result stays exactly feasible.
    """

    n = cons.n
    e = cp.Variable(n)
    t = cp.Variable()
    K = len(quads)
    G = cp.Parameter((K, n))
    h = cp.Parameter(K)
    rho = cons.scale()
    constraints = [t <= G @ e + h]
    if cons.radius is not None:
        constraints.append(cp.norm(e) <= cons.radius / rho)
    if cons.W is not None:
        w, V = np.linalg.eigh(cons.W)
        L = V * np.sqrt(np.clip(w, 0.0, None))
        constraints.append(cp.norm(L.T @ e) <= np.sqrt(cons.budget) / rho)
    lo, hi = cons.lo / rho, cons.hi / rho
    fl, fh = np.isfinite(lo), np.isfinite(hi)
    if fl.any():
        constraints.append(e[np.flatnonzero(fl)] >= lo[fl])
    if fh.any():
        constraints.append(e[np.flatnonzero(fh)] <= hi[fh])
    problem = cp.Problem(cp.Maximize(t), constraints)
    best, best_val = e0, val0
    for _ in range(max_iter):
        grads = np.array([2.0 * (M @ best + u) for M, u, _ in quads])
        vals = np.array([float(best @ M @ best + 2.0 * u @ best + c) for M, u, c in quads])
        scale = max(float(np.max(np.abs(grads))) * rho, float(np.max(np.abs(vals))), np.finfo(float).tiny)
        G.value = grads * rho / scale
        h.value = (vals - grads @ best) / scale
        try:
            status, _ = _solve(problem, "CLARABEL", 0)
        except (DesignSolverError, ValueError):
            break
        cands = [cons.enforce(rho * e.value), cons.enforce(cons.snap(rho * e.value))]
        vals = [_objective(quads, x) for x in cands]
        cand, val = cands[int(np.argmax(vals))], max(vals)
        if not val > best_val * (1.0 + 1e-12) + 1e-300:
            break
        best, best_val = cand, val
    return best, best_val


def _lifted(quads, cons, *, solver, random_state, n_samples, extra=(), refine=20, max_memory=None):

    n = cons.n
    first = solver or (SOLVERS[0] if n <= CLARABEL_MAX_N else SOLVERS[1])
    if first in SOLVERS:
        check_memory(sdp_memory_bytes(first, n), f"The SDP relaxation with {first} (n={n})",
                     max_memory=max_memory, need=lambda k: sdp_memory_bytes(first, k),
                     hint="For a single quadratic with only a radius, trust_region solves it exactly "
                          "(method='lanczos' with a LinearOperator needs O(n) memory).")
    # solve in e/rho with the objective divided by s: SCS's tolerances are absolute
    rho = cons.scale()
    s = max(max(rho**2 * float(np.max(np.sum(np.abs(M), axis=1))), 2.0 * rho * float(np.linalg.norm(u)),
                abs(c)) for M, u, c in quads)
    s = s if s > 0 else 1.0
    Y = cp.Variable((n + 1, n + 1), symmetric=True)
    E, e = Y[:n, :n], Y[:n, n]
    constraints = [Y >> 0, Y[n, n] == 1] + cons.cvxpy(E, e, rho)
    values = [cp.sum(cp.multiply(M * (rho**2 / s), E)) + (2.0 * rho / s) * u @ e + c / s
              for M, u, c in quads]
    if len(values) == 1:
        problem = cp.Problem(cp.Maximize(values[0]), constraints)
    else:
        t = cp.Variable()
        problem = cp.Problem(cp.Maximize(t), constraints + [t <= v for v in values])
    status, used = _solve(problem, solver, n)
    Yv = 0.5 * (Y.value + Y.value.T)
    Yv[:n, :n] *= rho**2
    Yv[:n, n] *= rho
    Yv[n, :n] *= rho
    bound = float(problem.value) * s
    rng = check_generator(random_state, "random_state")
    e_round, val = _round(quads, cons, Yv, n, rng, n_samples, extra)
    if e_round is None:
        raise DesignSolverError("rounding found no feasible candidate.")
    convex = all(float(np.linalg.eigvalsh(M)[0]) >= -1e-10 * max(float(np.max(np.abs(M))), 1e-300)
                 for M, _, _ in quads)
    if refine and convex:
        e_round, val = _ascend(quads, cons, e_round, val, refine)
    viol = cons.verify(e_round)
    ev = np.linalg.eigvalsh(Yv)
    rank = int(np.sum(ev > 1e-6 * max(ev[-1], np.finfo(float).tiny)))
    info = {"solve_seconds": problem.solver_stats.solve_time if problem.solver_stats else None}
    unreachable = cons.unreachable()
    if unreachable:
        warnings.warn("the utility budget cannot be used up: " + "; ".join(unreachable)
                      + ". The design is optimal over the box but spends less utility (see "
                      "DesignResult.budget_used).", UnreachableBudgetWarning, stacklevel=3)
    return DesignResult(e_round, val, bound, status, used, Yv[:n, n].copy(), Yv[:n, :n].copy(),
                        rank, viol, info, budget_used=cons.budget_used(e_round),
                        budget_reachable=not unreachable)


def sdp_relaxation(M, u, radius, *, solver=None, random_state=0, n_samples=50, max_memory=None):
    r"""SDP relaxation of the trust-region problem (tight by the S-lemma).

    .. math::

        \max_{E, e}\; \operatorname{tr}(ME) + 2u^\top e
        \quad\text{s.t.}\quad
        \begin{bmatrix} E & e\\ e^\top & 1\end{bmatrix} \succeq 0,\;\;
        \operatorname{tr}(E) \le r^2 .

    Its value equals :math:`\max_{\|e\|\le r} e^\top Me + 2u^\top e`, so it
    certifies :func:`~modelprivacy.solvers.trust_region` with an independent
    (interior-point) computation.

    Parameters
    ----------
    M : array-like of shape (n, n), symmetric
    u : array-like of shape (n,)
    radius : float
    solver : {None, 'CLARABEL', 'SCS'}
        ``None`` tries Clarabel then SCS.
    random_state : int or Generator
        Randomised rounding.
    n_samples : int
        Randomised rounding draws.
    max_memory : int, optional
        Memory budget in bytes (default: available memory); a :class:`MemoryError`
        is raised before solving when the solver's measured peak would not fit.

    Returns
    -------
    DesignResult
        ``bound`` is the relaxation value; ``e`` a rounded feasible point.
    """
    quad = _as_quadratic((M, u, 0.0))
    cons = _Constraints(quad[0].shape[0], radius, None, None, None, None, None, None)
    return _lifted([quad], cons, solver=solver, random_state=random_state, n_samples=n_samples,
                   max_memory=max_memory)


def constrained_design(M, u, c=0.0, *, radius=None, weight=None, budget=None, y=None, lb=None,
                       ub=None, cap=None, solver=None, random_state=0, n_samples=100, max_memory=None):
    r"""Optimal perturbation under extra constraints, by SDP relaxation and rounding.

    .. math::

        \max_e\; e^\top M e + 2u^\top e + c \quad\text{s.t.}\quad
        \|e\| \le r,\;\; e^\top W e \le b,\;\; lb \le y + e \le ub,\;\; |e_i| \le c_i,

    each constraint optional (at least one must bound the set). Relaxation:
    :math:`Y = [[E, e], [e^\top, 1]] \succeq 0`, :math:`\operatorname{tr}E \le r^2`,
    :math:`\operatorname{tr}(WE) \le b`, the linear box/cap constraints on
    ``e`` and their lifted products :math:`E_{ii} \le (l_i + h_i)e_i - l_i h_i`.

    Parameters
    ----------
    M, u, c : the quadratic (e.g. from :func:`stealing_quadratic`).
    radius : float, optional
        Utility on the queries, :math:`\frac1n\|e\|^2 \le r^2/n`.
    weight : array-like (n, n), optional
        PSD matrix ``W`` of a utility loss measured on a *benign* distribution
        instead of on the queries: if the server's perturbation at benign points
        :math:`B` (``m_b`` of them) is :math:`H e` -- ``H`` maps the query
        perturbation to the perturbation function it induces there, e.g. a
        kernel interpolant :math:`H = k(B, X)(K + \epsilon I)^{-1}` -- then
        :math:`U = \frac{1}{m_b}\|He\|^2 = e^\top W e` with
        :math:`W = H^\top H/m_b`. ``W = I/n`` recovers the query utility loss.
    budget : float, optional
        Bound ``b`` on :math:`e^\top W e` (with ``weight``).
    y : array-like (n,), optional
        Clean answers, needed with ``lb``/``ub``; they must lie in the box.
    lb, ub : float or array-like (n,), optional
        Valid response range, :math:`lb \le y + e \le ub` (e.g. [0, 1]).
    cap : float or array-like (n,), optional
        Per-query cap :math:`|e_i| \le c_i`.
    solver : {None, 'CLARABEL', 'SCS'}
    random_state : int or Generator
        Randomised rounding.
    n_samples : int
        Randomised rounding draws.
    max_memory : int, optional
        Memory budget in bytes, as in :func:`sdp_relaxation`.

    Returns
    -------
    DesignResult
        ``e`` satisfies the box and cap constraints exactly (in floating point)
        and the norm constraints to within rounding; ``gap`` bounds its
        sub-optimality.

    Raises
    ------
    ValueError
        Infeasible constraint set (``lb > ub``, clean answers outside the box,
        negative cap or budget), unbounded set, bad shapes.
    DesignSolverError
        No solver returned an optimal solution.
    """
    quad = _as_quadratic((M, u, c))
    n = quad[0].shape[0]
    cons = _Constraints(n, radius, weight, budget, y, lb, ub, cap)
    return _lifted([quad], cons, solver=solver, random_state=random_state, n_samples=n_samples,
                   max_memory=max_memory)


def robust_design(quadratics, *, radius=None, weight=None, budget=None, y=None, lb=None, ub=None,
                  cap=None, solver=None, random_state=0, n_samples=200, max_memory=None):
    r"""Perturbation maximising the worst stealing error over candidate attackers.

    .. math::

        \max_e\; \min_{k=1..K}\; e^\top M_k e + 2u_k^\top e + c_k
        \quad\text{s.t.}\quad \|e\| \le r \;(\text{and the constraints of }
        :func:`constrained_design`),

    relaxed to :math:`\max t` s.t. :math:`t \le \operatorname{tr}(M_kE) + 2u_k^\top e + c_k`
    for every ``k`` with :math:`[[E, e],[e^\top, 1]] \succeq 0`. The relaxation
    value (``bound``) is an upper bound on the robust optimum; the returned
    ``e`` is the best feasible rounding (candidates: the relaxed solution, the
    top eigenvectors of the lifted matrix, Gaussian randomisation, and each
    attacker's own trust-region optimum when only ``radius`` is given) and
    ``gap = bound - objective``.

    Parameters
    ----------
    quadratics : sequence of StealingQuadratic or (M, u, c) tuples
        One quadratic per candidate attacker (same ``n``).
    radius, weight, budget, y, lb, ub, cap, solver, random_state, n_samples, max_memory
        As in :func:`constrained_design`.

    Returns
    -------
    DesignResult
    """
    if isinstance(quadratics, (StealingQuadratic, str)) or not hasattr(quadratics, "__len__"):
        raise TypeError(f"quadratics must be a sequence of quadratics, got {type(quadratics).__name__}.")
    if len(quadratics) == 0:
        raise ValueError("quadratics must be a non-empty sequence of quadratics.")
    quads = []
    for k, q in enumerate(quadratics):
        quads.append(_as_quadratic(q, f"quadratics[{k}].", None if not quads else quads[0][0].shape[0]))
    n = quads[0][0].shape[0]
    cons = _Constraints(n, radius, weight, budget, y, lb, ub, cap)
    extra = []
    if radius is not None:

        for M, u, _ in quads:
            extra.append(trust_region(M, u, cons.radius).e)
    return _lifted(quads, cons, solver=solver, random_state=random_state, n_samples=n_samples,
                   extra=extra, max_memory=max_memory)
