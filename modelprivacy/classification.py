r"""Stealing classifiers: metrics and experiment runners.

Metrics
-------
Stealing (privacy) is scored on the victim's test split:

* :func:`agreement` -- fidelity :math:`\frac1m\sum_j 1[\arg\max \hat f(z_j) = \arg\max f(z_j)]`
  (the Fashion-MNIST privacy level of [1] is its complement, the disagreement);
* :func:`stolen_accuracy`, and :func:`auc_f1` against the true labels (the
  hate-speech case study of [1]);
* :func:`queries_to_target`, :func:`query_multiplier` and :func:`degradation`
  (Lee et al. [2]: "up to 64x more queries", "at least 20% degradation").

Utility loss of a defense on the victim's answers (:func:`utility_report`):
KL divergence per query in nats in both directions, L1 distance and the
top-1 flip rate.

Runners
-------
:func:`run_agreement_vs_budget`
    Agreement and stolen accuracy of each (defense, attacker) on a ``2^k``
    budget grid.
:func:`run_classification_table`
    The paper's classification table: defenses calibrated to utility losses
    ``u`` x {accuracy, F1, AUC} x budgets (:func:`format_table`).
:func:`run_equation_solving`
    The equation-solving attack on a logistic-regression victim, undefended
    and under each defense.
:func:`reverse_sigmoid_utility`
    KL nats per query, L1 and flip rate of ReverseSigmoid on a grid.

Every runner seeds replication ``r`` with ``SeedSequence(seed, spawn_key=(r,))``
(the convention of :mod:`modelprivacy.simulate`), so numbers do not depend on
the number of workers or on resuming; all defenses of one replication answer
the *same* queries (common random numbers). Given ``csv_path`` the rows are
appended to a CSV as replications finish and a rerun skips those present.

References
----------
* [1] G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
  Understanding Model Stealing Attacks and Defenses", arXiv:2502.15567.
* [2] T. Lee, B. Edwards, I. Molloy and D. Su, "Defending Against Machine
  Learning Model Stealing Attacks Using Deceptive Perturbations",
  arXiv:1806.00054.
* [3] F. Tramer et al., "Stealing Machine Learning Models via Prediction
  APIs", USENIX Security 2016.
"""

from __future__ import annotations

import csv
import math
import os
import time

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from ._validation import check_int, check_scalar
from .attacks.classification import (
    EquationSolvingAttack,
    LabelOnlyAttacker,
    ReverseSigmoidAwareAttacker,
    SoftLabelLogisticRegression,
    SoftmaxMLP,
    equation_solving_queries,
)
from .defenses.postprocess import (
    AdaptiveMisinformation,
    MisleadingShift,
    NoPostprocessing,
    Postprocessor,
    RandomShuffle,
    ReverseSigmoid,
)
from .metrics import (
    agreement,
    auc_f1,
    budget_grid,
    degradation,
    flip_rate,
    queries_to_target,
    query_multiplier,
    stolen_accuracy,
    utility_report,
)
from .victims import Victim

__all__ = [
    "default_attackers",
    "run_agreement_vs_budget",
    "summarise_budget_curves",
    "run_classification_table",
    "format_table",
    "run_equation_solving",
    "reverse_sigmoid_utility",
    "UTILITY_LEVELS",
    "RS_GRID",
]

#: utility-loss levels (top-1 flip rates) of the paper's classification table
UTILITY_LEVELS = (0.01, 0.02, 0.05, 0.10, 0.15)
#: ReverseSigmoid grid of the Model Privacy experiments (gamma = 0.2) and ART's default
RS_GRID = tuple((b, 0.2) for b in (0.1, 0.2, 0.3, 0.4, 0.5)) + ((1.0, 0.1),)


# --------------------------------------------------------------------------------------
# CSV log with resume
# --------------------------------------------------------------------------------------
class _CsvLog:
    """Rows kept in memory and appended to ``path``; a rerun skips the rows present.

    Rows carry a ``tag`` describing the setting (victim, pool, ...): a CSV
    written for another setting is discarded rather than mixed in.
    """

    def __init__(self, path, key_fields, tag=""):
        self.path = path
        self.key_fields = key_fields
        self.tag = str(tag)
        self.rows = []
        if path is not None and os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path, newline="") as fh:
                text = fh.read()
            if not text.endswith("\n"):  # a write cut by a kill: drop the partial line
                text = text[: text.rfind("\n") + 1]
                with open(path, "w", newline="") as fh:
                    fh.write(text)
            with open(path, newline="") as fh:
                self.rows = [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(fh)]
            if any(str(r.get("tag", "")) != self.tag for r in self.rows):
                self.rows = []
                os.remove(path)
        self.fields = list(self.rows[0].keys()) if self.rows else None

    def key(self, row):
        return tuple(str(row[k]) for k in self.key_fields)

    def done(self):
        return {self.key(r) for r in self.rows}

    def append(self, rows):
        if not rows:
            return
        rows = [{"tag": self.tag, **r} for r in rows]
        self.rows.extend(rows)
        if self.path is None:
            return
        new = self.fields is None
        if new:
            self.fields = list(rows[0].keys())
        with open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=self.fields)
            if new:
                w.writeheader()
            for r in rows:
                w.writerow(r)


def _parse(v):
    for cast in (int, float):
        try:
            return cast(v)
        except (TypeError, ValueError):
            pass
    return v


def _streams(seed, rep, k=3):
    return np.random.SeedSequence(seed, spawn_key=(rep,)).spawn(k)


def _single_threaded(func, *args):
    # the problems are small: multi-threaded BLAS only thrashes on shared cores
    with threadpool_limits(limits=1):
        return func(*args)


def _parallel(func, jobs, n_jobs):
    """Yield func(*job) results as they finish (joblib when n_jobs != 1)."""
    if n_jobs == 1 or len(jobs) <= 1:
        for job in jobs:
            yield _single_threaded(func, *job)
        return
    yield from Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_single_threaded)(func, *j) for j in jobs)


# --------------------------------------------------------------------------------------
# agreement vs budget
# --------------------------------------------------------------------------------------
def default_attackers(*, C=10.0, mlp=True, tol=1e-4):
    """Attacker factories ``name -> f(defense) -> estimator or None``.

    ``"soft"``: :class:`SoftLabelLogisticRegression`; ``"labels"``: labels
    only; ``"mlp"``: :class:`SoftmaxMLP`; ``"aware"``: the
    ReverseSigmoid-aware attacker (only against :class:`ReverseSigmoid`).
    """
    def soft(defense):
        return SoftLabelLogisticRegression(C=C, solver="lbfgs", tol=tol)

    def labels(defense):
        return LabelOnlyAttacker(SoftLabelLogisticRegression(C=C, solver="lbfgs", tol=tol))

    def mlp_(defense):
        return SoftmaxMLP(hidden=32, alpha=1e-3, max_iter=150, random_state=0)

    def aware(defense):
        if isinstance(defense, ReverseSigmoid):
            return ReverseSigmoidAwareAttacker(defense.beta, gamma=defense.gamma,
                                               estimator=SoftLabelLogisticRegression(C=C, solver="lbfgs", tol=tol))
        return None

    out = {"soft": soft, "labels": labels}
    if mlp:
        out["mlp"] = mlp_
    out["aware"] = aware
    return out


def _budget_rep(victim, defenses, attackers, budgets, pool, seed, rep, done):
    s_q, s_d, _ = _streams(seed, rep)
    X_pool = victim.task.pools[pool]
    if budgets[-1] > len(X_pool):
        raise ValueError(f"budget {budgets[-1]} exceeds the size {len(X_pool)} of pool {pool!r}.")
    order = np.random.default_rng(s_q).permutation(len(X_pool))
    X_test = victim.task.X_test
    c_test = victim.predict(X_test)
    y_test = victim.task.y_test
    rows = []
    d_seeds = s_d.spawn(len(defenses))
    for (dname, defense), d_seed in zip(defenses.items(), d_seeds):
        b_seeds = d_seed.spawn(len(budgets))
        for b, b_seed in zip(budgets, b_seeds):
            X = X_pool[order[:b]]  # nested query sets across budgets
            P = victim.predict_proba(X)
            P_hat = defense.respond(P, rng=np.random.default_rng(b_seed))
            util = utility_report(P, P_hat)
            for aname, factory in attackers.items():
                if (dname, aname, str(b), str(rep)) in done:
                    continue
                est = factory(defense)
                if est is None:
                    continue
                t0 = time.perf_counter()
                est.fit(X, P_hat)
                Q = est.predict_proba(X_test)
                rows.append({
                    "defense": dname, "attacker": aname, "budget": b, "rep": rep,
                    "agreement": agreement(c_test, Q),
                    "stolen_acc": stolen_accuracy(y_test, Q),
                    "kl_fwd": util["kl_fwd"], "kl_bwd": util["kl_bwd"],
                    "flip_queries": util["flip_rate"],
                    "seconds": time.perf_counter() - t0,
                })
    return rows


def run_agreement_vs_budget(victim, defenses, attackers=None, budgets=None, *, pool="in",
                            reps=3, seed=0, csv_path=None, n_jobs=1, tag=""):
    """Agreement and stolen accuracy vs query budget for each defense and attacker.

    Parameters
    ----------
    victim : Victim
    defenses : dict of str -> Postprocessor
    attackers : dict of str -> callable(defense) -> estimator or None
        Default :func:`default_attackers`. A factory returning None skips the
        pair (e.g. the ReverseSigmoid-aware attacker against other defenses).
    budgets : increasing list of int
        Default ``2^4 .. 2^9``. Query sets are nested across budgets within a
        replication and shared by all defenses.
    pool : str
        Query pool of the victim's task.
    reps : int
    seed : int
    csv_path : str, optional
        Rows are appended as replications finish; rows already present are
        not recomputed.
    n_jobs : int
        Replications in parallel (joblib).
    tag : str
        Label of the setting stored in every row; a CSV with another tag is
        discarded instead of resumed.

    Returns
    -------
    list of dict
        One row per (defense, attacker, budget, rep): ``agreement``,
        ``stolen_acc``, the defense's KL on the attack queries
        (``kl_fwd``, ``kl_bwd``), its flip rate there and fit ``seconds``.
    """
    if not isinstance(victim, Victim):
        raise TypeError(f"victim must be a Victim, got {type(victim).__name__}.")
    _check_defenses(defenses)
    attackers = default_attackers() if attackers is None else attackers
    budgets = budget_grid(4, 9) if budgets is None else [check_int(b, "budgets", low=1) for b in budgets]
    if any(b2 <= b1 for b1, b2 in zip(budgets, budgets[1:])):
        raise ValueError("budgets must be strictly increasing.")
    reps = check_int(reps, "reps", low=1)
    log = _CsvLog(csv_path, ("defense", "attacker", "budget", "rep"), tag)
    done = log.done()
    jobs = [(victim, defenses, attackers, budgets, pool, seed, r, done) for r in range(reps)]
    for rows in _parallel(_budget_rep, jobs, n_jobs):
        log.append(rows)
    keep = {(d, a) for d in defenses for a in attackers}
    return [r for r in log.rows if (r["defense"], r["attacker"]) in keep and int(r["rep"]) < reps
            and int(r["budget"]) in budgets]


def _check_defenses(defenses):
    if not isinstance(defenses, dict) or not defenses:
        raise TypeError("defenses must be a non-empty dict name -> Postprocessor.")
    for k, d in defenses.items():
        if not isinstance(d, Postprocessor):
            raise TypeError(f"defenses[{k!r}] must be a Postprocessor, got {type(d).__name__}.")


def summarise_budget_curves(rows, *, target=None, metric="agreement", baseline="none"):
    """Mean curves, queries-to-target, query multiplier and degradation.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`run_agreement_vs_budget`.
    target : float, optional
        Target score for :func:`queries_to_target`; default: 0.9 times the
        best mean score of the baseline defense.
    metric : {"agreement", "stolen_acc"}
    baseline : str
        Name of the undefended setting.

    Returns
    -------
    list of dict
        One per (defense, attacker): ``budgets``, ``mean`` (per budget),
        ``queries_to_target``, ``multiplier`` (vs the baseline defense with
        the same attacker, and ``multiplier_vs_soft`` vs the undefended
        ``"soft"`` attacker) and ``degradation_abs`` / ``degradation_rel``
        at the largest budget (vs the same attacker undefended).
    """
    curves = {}
    for r in rows:
        curves.setdefault((r["defense"], r["attacker"]), {}).setdefault(int(r["budget"]), []).append(
            float(r[metric]))
    if not curves:
        return []
    budgets = sorted({b for c in curves.values() for b in c})
    means = {k: np.array([np.mean(c.get(b, [np.nan])) for b in budgets]) for k, c in curves.items()}
    if target is None:
        base = [m for (d, _), m in means.items() if d == baseline]
        target = 0.9 * float(np.nanmax(np.concatenate(base))) if base else 0.8
    q = {k: queries_to_target(budgets, np.nan_to_num(m, nan=-np.inf), target) for k, m in means.items()}
    out = []
    for (d, a), m in means.items():
        qb = q.get((baseline, a), math.nan)
        qs = q.get((baseline, "soft"), math.nan)
        ref = means.get((baseline, a))
        deg = degradation(ref[-1], m[-1]) if ref is not None else (math.nan, math.nan)
        out.append({
            "defense": d, "attacker": a, "budgets": budgets, "mean": m.tolist(),
            "target": target, "queries_to_target": q[(d, a)],
            "multiplier": query_multiplier(q[(d, a)], qb) if not math.isnan(qb) else math.nan,
            "multiplier_vs_soft": query_multiplier(q[(d, a)], qs) if not math.isnan(qs) else math.nan,
            "degradation_abs": deg[0], "degradation_rel": deg[1],
        })
    return out


# --------------------------------------------------------------------------------------
# the classification table
# --------------------------------------------------------------------------------------
def _table_defenses(P_benign, utilities, rng_seed):
    """Defenses of the table, calibrated on benign answers to each utility level."""
    out = []
    for i, u in enumerate(utilities):
        for name, proto in (("Random Shuffle", RandomShuffle()), ("Adaptive Misinformation",
                            AdaptiveMisinformation()), ("Misleading Shift", MisleadingShift())):
            try:
                d = proto.calibrate(P_benign, u, rng=rng_seed)
            except ValueError:
                continue  # unreachable on these benign answers: the cell stays empty
            out.append((name, u, d, d.calibrated_flip_rate_, getattr(d, d._strength)))
        # ReverseSigmoid ("Deceptive Perturbation") is not calibrated to a flip rate: the
        # paper's beta grid at gamma = 0.2 stands for the five levels, as in its code
        beta = (0.1, 0.2, 0.3, 0.4, 0.5)[i % 5]
        d = ReverseSigmoid(beta=beta, gamma=0.2)
        out.append(("Deceptive Perturbation", u, d, flip_rate(P_benign, d(P_benign)), beta))
    return out


def _table_rep(victim, calibrated, budgets, pool, attacker, seed, rep, done):
    s_q, s_d, _ = _streams(seed, rep)
    X_pool = victim.task.pools[pool]
    order = np.random.default_rng(s_q).permutation(len(X_pool))
    X_test, y_test = victim.task.X_test, victim.task.y_test
    rows = []
    seeds = s_d.spawn(len(calibrated) * len(budgets))
    it = iter(seeds)
    for name, u, defense, u_meas, param in calibrated:
        for b in budgets:
            sd = next(it)
            if (name, str(u), str(b), str(rep)) in done:
                continue
            X = X_pool[order[:b]]
            P = victim.predict_proba(X)
            if victim.binary:  # the binary API answers one probability per query
                P_hat = defense.respond(P[:, 1], rng=np.random.default_rng(sd))
            else:
                P_hat = defense.respond(P, rng=np.random.default_rng(sd))
            est = attacker(defense)
            est.fit(X, P_hat)
            Q = est.predict_proba(X_test)
            m = auc_f1(y_test, Q)
            rows.append({"defense": name, "u": u, "u_measured": u_meas, "param": param,
                         "budget": b, "rep": rep, "acc": stolen_accuracy(y_test, Q),
                         "f1": m["f1"], "auc": m["auc"],
                         "agreement": agreement(victim.predict_proba(X_test), Q)})
    return rows


def run_classification_table(victim, *, utilities=UTILITY_LEVELS, budgets=(1000, 2000, 5000),
                             pool="out", reps=3, attacker=None, seed=0, csv_path=None, n_jobs=1,
                             tag=""):
    r"""The Model Privacy classification table (hate-speech layout) on a sklearn victim.

    Each defense -- Random Shuffle, Adaptive Misinformation and Misleading
    Shift -- is calibrated by bisection to each utility loss ``u`` (top-1
    flip rate on the victim's benign split); Deceptive Perturbation
    (ReverseSigmoid) uses the paper's grid :math:`\beta \in \{.1, .., .5\}`
    at :math:`\gamma = 0.2` and reports its measured flip rate, as in [1].
    For every budget and replication the attacker steals from the defended
    answers to queries from ``pool`` and is scored against the true labels
    (accuracy, F1, AUC). An undefended row (``u = 0``) is included.

    Parameters
    ----------
    victim : Victim
        Binary victims answer one probability per query (1-D), as the
        hate-speech API of [1].
    utilities : sequence of float in (0, 1)
    budgets : sequence of int
    pool : str
        ``"out"`` (the shifted pool) is where the paper's effects appear.
    reps : int
    attacker : callable(defense) -> estimator, optional
        Default: soft-label logistic regression.
    seed : int
    csv_path : str, optional
        Resumable CSV log (see :func:`run_agreement_vs_budget`).
    n_jobs : int
    tag : str

    Returns
    -------
    list of dict
        Rows ``defense, u, u_measured, param, budget, rep, acc, f1, auc, agreement``.
    """
    if not isinstance(victim, Victim):
        raise TypeError(f"victim must be a Victim, got {type(victim).__name__}.")
    utilities = [check_scalar(u, "utilities", low=0.0, high=1.0, low_inclusive=False,
                              high_inclusive=False) for u in utilities]
    budgets = [check_int(b, "budgets", low=1) for b in budgets]
    reps = check_int(reps, "reps", low=1)
    if attacker is None:
        def attacker(defense):
            return SoftLabelLogisticRegression(C=1.0, solver="lbfgs", tol=1e-4)
    P_benign = victim.predict_proba(victim.task.X_benign)
    if victim.binary:
        P_benign = P_benign[:, 1]
    calibrated = [("No Defense", 0.0, NoPostprocessing(), 0.0, 0.0)]
    calibrated += _table_defenses(P_benign, utilities, seed)
    log = _CsvLog(csv_path, ("defense", "u", "budget", "rep"), tag)
    done = log.done()
    jobs = [(victim, calibrated, budgets, pool, attacker, seed, r, done) for r in range(reps)]
    for rows in _parallel(_table_rep, jobs, n_jobs):
        log.append(rows)
    return [r for r in log.rows if int(r["rep"]) < reps and int(r["budget"]) in budgets]


def format_table(rows, metrics=("acc", "f1")):
    """Text table: rows defense x metric, columns budget x u; cells ``mean (std)``."""
    cells = {}
    for r in rows:
        key = (r["defense"], float(r["u"]), int(r["budget"]))
        cells.setdefault(key, []).append(r)
    defenses = list(dict.fromkeys(r["defense"] for r in rows))
    budgets = sorted({int(r["budget"]) for r in rows})
    us = sorted({float(r["u"]) for r in rows if float(r["u"]) > 0})
    head = ["defense", "metric"] + [f"n={b} u={u:g}" for b in budgets for u in us]
    lines = [" | ".join(head)]
    for d in defenses:
        for m in metrics:
            vals = []
            for b in budgets:
                for u in us:
                    uu = 0.0 if d == "No Defense" else u
                    rs = cells.get((d, uu, b))
                    if not rs:
                        vals.append("-")
                        continue
                    x = np.array([float(r[m]) for r in rs])
                    vals.append(f"{x.mean():.3f} ({x.std():.3f})")
            lines.append(" | ".join([d, m] + vals))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# equation solving
# --------------------------------------------------------------------------------------
def run_equation_solving(victim, defenses, *, n_queries=None, reps=3, scale=1.0, seed=0):
    r"""The equation-solving attack [3] against a logistic-regression victim.

    Replication ``r`` draws ``n_queries`` (default ``d + 1``) Gaussian queries,
    has each defense answer them, solves for the log-ratio parameters and
    scores the recovered model on the test split.

    Returns
    -------
    list of dict
        ``defense, rep, n_queries, max_prob_err`` (max over test points and
        classes of :math:`|\hat p - p|`), ``agreement``, ``coef_err`` (max
        error of the recovered :math:`w_k - w_0`, NaN for non-linear victims),
        ``residual`` (of the linear system; informative when
        ``n_queries > d + 1``) and ``recovered`` (``max_prob_err <= 1e-6``).
    """
    if not isinstance(victim, Victim):
        raise TypeError(f"victim must be a Victim, got {type(victim).__name__}.")
    _check_defenses(defenses)
    reps = check_int(reps, "reps", low=1)
    d = victim.task.n_features
    n = d + 1 if n_queries is None else check_int(n_queries, "n_queries", low=d + 1)
    P_test = victim.predict_proba(victim.task.X_test)
    W = getattr(victim.model, "coef_", None)
    W_rel = None
    if W is not None and W.shape[0] > 1:
        W_rel = W - W[0]
    elif W is not None:
        W_rel = np.vstack([np.zeros_like(W), W])  # binary: logit = w'x + b
    rows = []
    for rep in range(reps):
        with threadpool_limits(limits=1):
            rows.extend(_equation_rep(victim, defenses, n, scale, seed, rep, P_test, W_rel))
    return rows


def _equation_rep(victim, defenses, n, scale, seed, rep, P_test, W_rel):
    d = victim.task.n_features
    X_test = victim.task.X_test
    s_q, s_d, _ = _streams(seed, rep)
    X = equation_solving_queries(d, n, scale=scale, random_state=np.random.default_rng(s_q))
    P = victim.predict_proba(X)
    if victim.binary:
        P = P[:, 1]
    rows = []
    for (name, defense), sd in zip(defenses.items(), s_d.spawn(len(defenses))):
        P_hat = defense.respond(P, rng=np.random.default_rng(sd))
        att = EquationSolvingAttack().fit(X, P_hat)
        Q = att.predict_proba(X_test)
        err = float(np.max(np.abs(Q - P_test)))
        coef_err = float(np.max(np.abs(att.coef_ - W_rel))) if W_rel is not None else math.nan
        rows.append({"defense": name, "rep": rep, "n_queries": n, "max_prob_err": err,
                     "agreement": agreement(P_test, Q), "coef_err": coef_err,
                     "residual": att.residual_, "recovered": bool(err <= 1e-6)})
    return rows


# --------------------------------------------------------------------------------------
# ReverseSigmoid utility
# --------------------------------------------------------------------------------------
def reverse_sigmoid_utility(P, grid=RS_GRID, *, variant="art"):
    """KL nats per query (both directions), L1 and flip rate of ReverseSigmoid on a grid.

    Parameters
    ----------
    P : array-like of shape (n, K)
        Clean answers (e.g. the victim on its benign split).
    grid : sequence of (beta, gamma)
        Default: the Model Privacy grid (gamma = 0.2) plus ART's default (1, 0.1).

    Returns
    -------
    list of dict with keys ``beta, gamma, kl_fwd, kl_bwd, l1, flip_rate``
    """
    rows = []
    for beta, gamma in grid:
        P_hat = ReverseSigmoid(beta=beta, gamma=gamma, variant=variant)(P)
        rows.append({"beta": beta, "gamma": gamma, **utility_report(P, P_hat)})
    return rows
