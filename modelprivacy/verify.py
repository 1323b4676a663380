r"""Check the bounds of :mod:`modelprivacy.bounds` against the simulator.

The pattern is always the same: run :func:`modelprivacy.simulate.simulate`
for a setting, evaluate the bound on the *same* queries and evaluation points
as each replication, and report the bound, the Monte Carlo estimate of
:math:`PL_n` with its interval, and whether the bound matches (exact formulas)
or holds (inequalities)::

    from modelprivacy.verify import verify, exact_bound
    report = verify(exact_bound(), [game_a, game_b, game_c], reps=200, seed=0)
    print(report.table()); report.plot()

Conditional bounds (functions of the queries ``X`` and evaluation points
``Z``) are evaluated on each replication's ``(X, Z)``, which the simulator
hands to a hook (:class:`~modelprivacy.threat.Draw`); the comparison
is then paired: :math:`d_r = \ell_r - b_r`, whose mean is 0 for an exact
formula and has the sign of the inequality for a bound. With a fixed design
(``GridQueries`` for queries and evaluation) ``b_r`` is constant and the
check reads "the bound lies in the 95% interval of :math:`PL_n`".

Rates are checked by fitted log-log slopes (:func:`fit_slope`,
:func:`check_slope`, :func:`verify_rate`); the minimax lower bound by
simulating both worlds of the two-point construction
(:func:`verify_two_point`).

References
----------
G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
Understanding Model Stealing Attacks and Defenses", arXiv:2502.15567.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from ._validation import _as_float_array, check_int, check_scalar, check_vector
from .bounds import (
    conditional_privacy_level,
    minimax_lower_bound,
    privacy_ceiling,
    privacy_frontier,
    two_point_games,
)
from .metrics import PrivacyLevel, mean_interval, privacy_level
from .simulate import simulate
from .threat import ThreatModel

__all__ = [
    "Bound",
    "exact_bound",
    "ceiling_bound",
    "frontier_bound",
    "verify",
    "Verification",
    "VerificationRow",
    "verify_two_point",
    "fit_slope",
    "check_slope",
    "verify_rate",
    "RateCheck",
    "defense_points",
    "plot_frontier",
]

KINDS = ("exact", "upper", "lower")


# --------------------------------------------------------------------------- bounds to verify
class Bound:
    r"""A bound on :math:`PL_n` to verify against simulation.

    Parameters
    ----------
    func : callable
        ``func(threat_model, X, Z) -> float`` when ``conditional`` (a bound on
        :math:`E[\ell \mid X, Z]`), else ``func(threat_model) -> float``.
    kind : {"exact", "upper", "lower"}
        An exact formula must *match* (0 in the interval of the paired
        difference); an upper (lower) bound must *hold*: the Monte Carlo mean
        of :math:`PL_n` at most (at least) the bound, up to ``rtol``.
    name : str, optional
    conditional : bool
    rtol : float
        Relative slack of the inequality check (rounding when a defense sits
        exactly on the bound, e.g. the optimal design on the frontier).
    """

    def __init__(self, func, kind="exact", name=None, conditional=True, rtol=1e-9):
        if not callable(func):
            raise TypeError(f"func must be callable, got {type(func).__name__}.")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
        self.func = func
        self.kind = kind
        self.name = name or getattr(func, "__name__", "bound")
        self.conditional = bool(conditional)
        self.rtol = check_scalar(rtol, "rtol", low=0.0)

    def get_params(self, deep=False):
        """What the bound is (its canonical description fingerprints the simulations that check it)."""
        return {"func": self.func, "kind": self.kind, "name": self.name, "conditional": self.conditional,
                "rtol": self.rtol}

    def evaluate(self, threat_model, X=None, Z=None):
        """The bound for one game (and one design when conditional)."""
        if self.conditional:
            if X is None or Z is None:
                raise ValueError(f"bound {self.name!r} is conditional: pass the queries X and points Z.")
            return float(self.func(threat_model, X, Z))
        return float(self.func(threat_model))

    def __repr__(self):
        return f"Bound({self.name!r}, kind={self.kind!r}, conditional={self.conditional})"


def _smoother_inputs(threat_model, X, Z):
    S = threat_model.attacker.smoother_matrix(X, Z)
    y = np.asarray(threat_model.target(X), dtype=float)
    f_Z = np.asarray(threat_model.target(Z), dtype=float)
    return S, y, f_Z


def _budget(threat_model, X):
    """Expected utility loss of the game's defense on queries ``X``."""
    try:
        return threat_model.defense.moments(X).expected_utility_loss()
    except NotImplementedError:  # query-dependent designs are calibrated exactly
        return float(threat_model.defense.sigma) ** 2


def exact_bound():
    """:func:`~modelprivacy.bounds.conditional_privacy_level` as an exact formula to verify."""
    return Bound(lambda tm, X, Z: conditional_privacy_level(tm, X, Z).value, "exact", "exact PL_n")


def ceiling_bound():
    r"""The ceiling :math:`(\sqrt c + \|S\|_{op}\sqrt{nu/m})^2` at the defense's expected utility loss."""
    def ceiling(tm, X, Z):
        S, y, f_Z = _smoother_inputs(tm, X, Z)
        return privacy_ceiling(S, y, f_Z, max(_budget(tm, X), 1e-300))
    return Bound(ceiling, "upper", "ceiling")


def frontier_bound():
    r"""The frontier :math:`PL^*(u)` at the defense's expected utility loss (an upper bound)."""
    def frontier(tm, X, Z):
        S, y, f_Z = _smoother_inputs(tm, X, Z)
        return float(privacy_frontier(S, y, f_Z, max(_budget(tm, X), 1e-300)).privacy_level[0])
    return Bound(frontier, "upper", "frontier PL*(U_n)", rtol=1e-7)


@dataclass
class _BoundHook:
    """A simulator hook: the bound on each replication's own queries and evaluation points.

    The simulator hands every replication's draws to its hooks, so the bound
    is evaluated on exactly the design the simulator used; with a fixed
    design the value is computed once.
    """

    bound: "Bound"

    def __post_init__(self):
        self._cache = {}

    def __call__(self, draw):
        key = (draw.X.tobytes(), draw.Z.tobytes())
        if key not in self._cache:
            self._cache[key] = self.bound.evaluate(draw.game, draw.X, draw.Z)
        return self._cache[key]


# --------------------------------------------------------------------------- verification report
@dataclass(frozen=True)
class VerificationRow:
    """One setting of a verification.

    Attributes
    ----------
    label : str
    kind : str
    bound : float
        The bound (mean over replications for a conditional bound on a random design).
    estimate : PrivacyLevel
        Monte Carlo :math:`PL_n` with its interval.
    difference : PrivacyLevel
        Paired :math:`\\ell_r - b_r` with its interval.
    utility_loss : float
        Mean simulated utility loss.
    holds : bool
        Matches (exact) or holds (inequality).
    """

    label: str
    kind: str
    bound: float
    estimate: PrivacyLevel
    difference: PrivacyLevel
    utility_loss: float
    holds: bool

    @property
    def status(self):
        if self.kind == "exact":
            return "matches" if self.holds else "MISMATCH"
        return "holds" if self.holds else "VIOLATED"


@dataclass
class Verification:
    """Per-setting results of :func:`verify` (or :func:`verify_two_point`)."""

    name: str
    rows: list = field(default_factory=list)

    @property
    def all_hold(self):
        """True when every setting matches or holds."""
        return all(r.holds for r in self.rows)

    def table(self):
        """A text table: setting, U_n, bound, MC PL_n [95% interval], paired difference, status."""
        head = ["setting", "kind", "U_n", "bound", "PL_n (MC)", "95% interval", "PL_n - bound", "status"]
        body = []
        for r in self.rows:
            e, d = r.estimate, r.difference
            body.append([r.label, r.kind, f"{r.utility_loss:.4g}", f"{r.bound:.5g}", f"{e.mean:.5g}",
                         f"[{e.low:.5g}, {e.high:.5g}]", f"{d.mean:+.3g} ± {(d.high - d.low) / 2:.2g}",
                         r.status])
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
        lines = [f"{self.name}", "  ".join(h.ljust(w) for h, w in zip(head, widths)),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)) for b in body]
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def plot(self, ax=None):
        """Bound (cross) against the Monte Carlo estimate (dot with 95% interval), per setting."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(self.rows) + 2), 3.2))
        x = np.arange(len(self.rows))
        est = np.array([r.estimate.mean for r in self.rows])
        lo = np.array([r.estimate.low for r in self.rows])
        hi = np.array([r.estimate.high for r in self.rows])
        ax.errorbar(x, est, yerr=[est - lo, hi - est], fmt="o", capsize=3, label="simulated $PL_n$ (95% CI)")
        ax.plot(x, [r.bound for r in self.rows], "x", ms=9, mew=2, label="bound")
        for xi, r in zip(x, self.rows):
            if not r.holds:
                ax.annotate("!", (xi, r.bound), color="red", ha="center", va="bottom")
        ax.set_xticks(x)
        ax.set_xticklabels([r.label for r in self.rows], rotation=30, ha="right", fontsize=8)
        if np.all(est > 0) and np.all(np.array([r.bound for r in self.rows]) > 0):
            ax.set_yscale("log")
        ax.set_ylabel("Privacy level $PL_n$")
        ax.set_title(self.name, fontsize=10)
        ax.legend(fontsize=8)
        return ax


def _row(label, kind, bound_values, errors, utility, confidence, rtol):
    b = np.asarray(bound_values, dtype=float)
    est = privacy_level(errors, confidence)
    diff = mean_interval(np.asarray(errors) - b, confidence)
    bound = float(b.mean())
    slack = rtol * abs(bound) + 1e-14
    if kind == "exact":
        holds = diff.low - slack <= 0.0 <= diff.high + slack
    elif kind == "upper":
        holds = diff.mean <= slack
    else:
        holds = diff.mean >= -slack
    return VerificationRow(label, kind, bound, est, diff, float(np.mean(utility)), bool(holds))


def _label(tm):
    d = tm.defense
    sigma = d.get_params().get("sigma")
    s = f", sigma={sigma:.3g}" if isinstance(sigma, (int, float)) else ""
    return f"{type(d).__name__}{s} | {type(tm.attacker).__name__} | n={tm.n}"


def verify(bound, threat_models, reps=200, seed=0, *, labels=None, confidence=0.95, n_jobs=1):
    r"""Verify a bound against the simulator on several settings.

    For each threat model, run ``reps`` replications
    (:func:`~modelprivacy.simulate.simulate` with ``seed``), evaluate the
    bound on each replication's queries and evaluation points (conditional
    bounds; evaluated once when the design is fixed) and compare:

    * ``kind="exact"``: matches when 0 lies in the ``confidence`` interval of
      the paired difference :math:`\bar d = \overline{\ell_r - b_r}`; with a
      fixed design, when the bound lies in the interval of :math:`PL_n`;
    * ``kind="upper"`` / ``"lower"``: holds when :math:`\bar\ell \le \bar b`
      (resp. :math:`\ge`), up to the bound's ``rtol``.

    Parameters
    ----------
    bound : Bound
    threat_models : ThreatModel or list of ThreatModel
    reps : int
    seed : int
    labels : list of str, optional
        One per threat model (default: defense, noise level, attacker, n).
    confidence : float
    n_jobs : int
        Workers of the simulator.

    Returns
    -------
    Verification
    """
    if not isinstance(bound, Bound):
        raise TypeError(f"bound must be a Bound, got {type(bound).__name__}.")
    if isinstance(threat_models, ThreatModel):
        threat_models = [threat_models]
    threat_models = list(threat_models)
    if not threat_models:
        raise ValueError("threat_models must not be empty.")
    for i, tm in enumerate(threat_models):
        if not isinstance(tm, ThreatModel):
            raise TypeError(f"threat_models[{i}] must be a ThreatModel, got {type(tm).__name__}.")
    if labels is None:
        labels = [_label(tm) for tm in threat_models]
    elif len(labels) != len(threat_models):
        raise ValueError(f"labels has {len(labels)} entries for {len(threat_models)} threat models.")
    reps = check_int(reps, "reps", low=2)
    seed = check_int(seed, "seed", low=0)
    report = Verification(f"{bound.name} ({bound.kind})")
    for label, tm in zip(labels, threat_models):
        hooks = {"bound": _BoundHook(bound)} if bound.conditional else None
        res = simulate(tm, reps, seed, n_jobs=n_jobs, hooks=hooks)
        errors = res.column("stealing_error")
        utility = res.column("utility_loss")
        values = res.column("bound") if bound.conditional else [bound.evaluate(tm)] * len(errors)
        report.rows.append(_row(label, bound.kind, values, errors, utility, confidence, bound.rtol))
    return report


def verify_two_point(threat_models, budgets, reps=100, seed=0, *, labels=None, confidence=0.95):
    r"""Simulate the two-point construction and check :math:`PL^*_n(u) \ge u`.

    For each game (its attacker and queries) and budget ``u``, both worlds of
    :func:`~modelprivacy.bounds.two_point_games` (constant direction) are
    simulated with the same seed, hence the same queries and evaluation
    points. The reported estimate is the per-replication average
    :math:`\frac12(\ell_{0,r} + \ell_{1,r})`, a lower estimate of
    :math:`\max_j PL_n(f_j)`; the bound :math:`u` must hold for it (and it
    holds on every single replication, which is also checked).

    Parameters
    ----------
    threat_models : ThreatModel or list of ThreatModel
    budgets : float or list of float
    reps, seed, labels, confidence : as in :func:`verify`.

    Returns
    -------
    Verification
    """
    if isinstance(threat_models, ThreatModel):
        threat_models = [threat_models]
    budgets = [budgets] if np.ndim(budgets) == 0 else list(budgets)
    reps = check_int(reps, "reps", low=2)
    report = Verification("two-point minimax lower bound u (lower)")
    k = 0
    for tm in threat_models:
        for u in budgets:
            tm0, tm1 = two_point_games(tm, u)
            e0 = simulate(tm0, reps, seed).column("stealing_error")
            r1 = simulate(tm1, reps, seed)
            avg = 0.5 * (e0 + r1.column("stealing_error"))
            lb = float(minimax_lower_bound(u))
            label = labels[k] if labels is not None else f"{type(tm.attacker).__name__} | n={tm.n} | u={u:g}"
            row = _row(label, "lower", [lb] * reps, avg, r1.column("utility_loss"), confidence, 1e-9)
            every = bool(np.all(avg >= lb * (1 - 1e-9)))
            report.rows.append(VerificationRow(row.label, row.kind, row.bound, row.estimate, row.difference,
                                               row.utility_loss, row.holds and every))
            k += 1
    return report


# --------------------------------------------------------------------------- rates
def fit_slope(n, values):
    r"""Least-squares slope of :math:`\log` ``values`` on :math:`\log n`, with its standard error.

    Returns
    -------
    (float, float, float)
        Slope, intercept and the slope's standard error (NaN with two points).
    """
    n = check_vector(n, "n")
    v = check_vector(values, "values", n=n.shape[0])
    if n.shape[0] < 2:
        raise ValueError("fit_slope needs at least two points.")
    if np.any(n <= 0) or np.any(v <= 0):
        raise ValueError("fit_slope needs positive n and values (log-log fit).")
    x, y = np.log(n), np.log(v)
    A = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    if n.shape[0] > 2:
        resid = y - A @ coef
        s2 = float(resid @ resid) / (n.shape[0] - 2)
        se = math.sqrt(s2 / float(((x - x.mean()) ** 2).sum()))
    else:
        se = math.nan
    return float(coef[0]), float(coef[1]), se


@dataclass(frozen=True)
class RateCheck:
    """A fitted log-log slope against its theoretical value.

    Attributes
    ----------
    label : str
    n : ndarray
    values : ndarray
        Privacy levels (exact or Monte Carlo means) at each ``n``.
    low, high : ndarray
        Their intervals (equal to ``values`` for exact formulas).
    slope, slope_se : float
    theory_slope : float
    tol : float
    holds : bool
        ``|slope - theory_slope| <= tol``.
    """

    label: str
    n: np.ndarray
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    slope: float
    slope_se: float
    theory_slope: float
    tol: float
    holds: bool

    def __str__(self):
        status = "holds" if self.holds else "FAILS"
        return (f"{self.label}: slope {self.slope:.3f} (theory {self.theory_slope:.3f}, "
                f"|diff| {abs(self.slope - self.theory_slope):.3f} <= {self.tol}) {status}")

    def plot(self, ax=None, rate=None):
        """Log-log plot of the values with the fitted line (and an optional rate curve)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 3))
        ax.errorbar(self.n, self.values, yerr=[self.values - self.low, self.high - self.values],
                    fmt="o", capsize=3, label=f"{self.label} (slope {self.slope:.2f})")
        if rate is not None:
            ax.plot(self.n, rate, "--", label=f"theory (slope {self.theory_slope:.2f})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Sample size $n$")
        ax.set_ylabel("Privacy level $PL_n$")
        ax.legend(fontsize=7)
        return ax


def check_slope(n, values, theory_slope, *, tol=0.1, label="rate", low=None, high=None):
    """Fit the log-log slope of ``values`` over ``n`` and compare it with ``theory_slope``.

    Returns
    -------
    RateCheck
    """
    tol = check_scalar(tol, "tol", low=0.0, low_inclusive=False)
    theory_slope = check_scalar(theory_slope, "theory_slope")
    n = check_vector(n, "n")
    v = check_vector(values, "values", n=n.shape[0])
    slope, _, se = fit_slope(n, v)
    low = v if low is None else _interval_end(low, "low", n.shape[0])
    high = v if high is None else _interval_end(high, "high", n.shape[0])
    return RateCheck(label, n, v, low, high, slope, se, theory_slope, tol, abs(slope - theory_slope) <= tol)


def _interval_end(a, name, n):
    """An interval end per budget: no NaN, infinite allowed (a Monte Carlo interval of fewer than 3 reps)."""
    a = _as_float_array(a, name, allow_inf=True)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {a.shape}.")
    return a


def verify_rate(threat_model, ns, theory_slope, reps=200, seed=0, *, tol=0.1, label=None, n_jobs=1):
    r"""Simulate a game at several budgets ``n`` and check the fitted slope of :math:`PL_n`.

    Parameters
    ----------
    threat_model : ThreatModel
        The game; its ``n`` is replaced by each entry of ``ns``.
    ns : list of int
    theory_slope : float
        E.g. ``-1`` for :math:`\sigma^2p/n`, ``-2s/(2s+1)``, ``-gamma``.
    reps, seed, tol, n_jobs : see :func:`verify` and :func:`check_slope`.

    Returns
    -------
    RateCheck
    """
    ns = [check_int(v, "ns", low=1) for v in ns]
    if len(ns) < 2:
        raise ValueError("ns must hold at least two budgets.")
    est = [privacy_level(simulate(threat_model.replace(n=v), reps, seed, n_jobs=n_jobs).column("stealing_error"))
           for v in ns]
    label = label or f"{type(threat_model.defense).__name__} | {type(threat_model.attacker).__name__}"
    return check_slope(np.array(ns, float), np.array([e.mean for e in est]), theory_slope, tol=tol, label=label,
                       low=np.array([e.low for e in est]), high=np.array([e.high for e in est]))


# --------------------------------------------------------------------------- frontier picture
def defense_points(threat_model, defenses, reps=200, seed=0, *, n_jobs=1):
    """Simulated ``(U_n, PL_n)`` of several defenses against the game's attacker and queries.

    Parameters
    ----------
    threat_model : ThreatModel
    defenses : dict
        Display name -> Defense.

    Returns
    -------
    dict
        Name -> ``(mean utility loss, PrivacyLevel)``.
    """
    out = {}
    for name, d in defenses.items():
        res = simulate(threat_model.replace(defense=d), reps, seed, n_jobs=n_jobs)
        out[name] = (float(res.column("utility_loss").mean()), privacy_level(res.column("stealing_error")))
    return out


def plot_frontier(frontier, *, ceiling=None, lower=None, points=None, ax=None):
    r"""Plot the frontier :math:`PL^*(u)`, the ceiling, the minimax lower bound and defenses.

    Parameters
    ----------
    frontier : Frontier
    ceiling : array-like, optional
        Ceiling at ``frontier.budgets``.
    lower : array-like, optional
        Lower bound at ``frontier.budgets`` (e.g. :func:`minimax_lower_bound`).
    points : dict, optional
        Name -> ``(U_n, PL_n)`` with ``PL_n`` a float or a ``PrivacyLevel``.
    ax : matplotlib Axes, optional
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.8))
    u = frontier.budgets
    ax.plot(u, frontier.privacy_level, "-", lw=2, label="frontier $PL^*(u)$ (exact)")
    if ceiling is not None:
        ax.plot(u, ceiling, "--", label=r"ceiling $(\sqrt{c}+\|S\|\sqrt{nu/m})^2$")
    if lower is not None:
        ax.plot(u, lower, ":", label="minimax lower bound $c\\,u$")
    markers = "osD^vP*X"
    for i, (name, (uu, pl)) in enumerate((points or {}).items()):
        if isinstance(pl, PrivacyLevel):
            ax.errorbar([uu], [pl.mean], yerr=[[pl.mean - pl.low], [pl.high - pl.mean]],
                        fmt=markers[i % len(markers)], capsize=3, label=name)
        else:
            ax.plot([uu], [pl], markers[i % len(markers)], label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Utility loss $U_n$")
    ax.set_ylabel("Privacy level $PL_n$")
    ax.legend(fontsize=7)
    return ax
