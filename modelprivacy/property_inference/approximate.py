r"""The approximate strategy: warm starts and one Newton / influence step instead of retraining.

An arms race retrains every shadow model and the target in every round.
The approximate strategy (the "approximate strategy" of arXiv:2509.16352,
whose formula is not public; this is the standard construction the spec
reconstructs in B.3/B.5) replaces each retraining by a cheap update of a
model that is already close:

* **Newton / influence step** (L2-regularised logistic regression). Let
  :math:`F` be the new objective (a new training set, new sample weights,
  or a new attacker penalty) and :math:`\theta_0` a warm start (the same
  model in the previous round, or a reference model of the same property
  class). One Newton step

  .. math::

      \theta_1 = \theta_0 - \nabla^2 F(\theta_0)^{-1}\,\nabla F(\theta_0)

  is the influence-function approximation of the new optimum
  :math:`\theta^*` (with the Hessian frozen at a reference point instead of
  :math:`\theta_0` it is the classical influence function of Koh and Liang;
  ``hessian=`` in :func:`newton_step`). Its error is *quadratic* in the
  distance to the optimum (Newton's method, e.g. Nesterov, Lectures on
  Convex Optimization, Thm 1.2.5): if :math:`\nabla^2 F` is
  :math:`L`-Lipschitz and :math:`\nabla^2 F \succeq \mu I` on the segment,

  .. math::

      \|\theta_1 - \theta^*\| \le \frac{L}{2\mu}\,\|\theta_0 - \theta^*\|^2 .

  For the logistic loss :math:`|\sigma''| \le 1/(6\sqrt3)`, so
  :math:`L \le \frac{1}{6\sqrt3}\,\frac1S\sum_i s_i \|\tilde x_i\|^3`
  (:func:`hessian_lipschitz_bound`), and :math:`\mu \ge
  \lambda_{\min}(\nabla^2 F(\theta^*)) - L\|\theta_0 - \theta^*\|`.
  A property shift by re-weighting, e.g. the default rate changed through
  :math:`s_i \to s_i(1 + \delta\,y_i)`, moves the optimum by
  :math:`O(\delta)`, so one step from the old optimum errs by
  :math:`O(\delta^2)`: halving :math:`\delta` divides the error by four.
  :func:`newton_error_bound` evaluates the bound; the tests check both.
* **Warm start** (MLP): a few L-BFGS iterations from the previous round's
  network (scikit-learn's ``warm_start``), since a non-convex network has
  no reliable one-step update.
* **References** (round 0, B.5 (c)): per property class, one model is
  trained exactly on one shadow training set; every other shadow of the
  class is one Newton step (logistic) or a short warm-started run (MLP)
  from it (:func:`approximate_fits`).

What the approximation costs is measured, not assumed: the arms race
records training time and attack accuracy for both strategies
(``benchmarks/bench_property_inference.py``).

References
----------
* [1] P. W. Koh and P. Liang, "Understanding Black-box Predictions via
  Influence Functions", ICML 2017.
* [2] Y. Nesterov, Lectures on Convex Optimization, 2nd ed., Springer 2018,
  Section 1.2.4 (local quadratic convergence of Newton's method).
* [3] H. Yuan, J. Xu et al., "Can Graph Neural Networks Expose Training
  Data Properties? An Efficient Risk Assessment Approach", NeurIPS 2024
  (model approximation instead of retraining shadow models).
"""

from __future__ import annotations

import time

from numbers import Integral, Real

import numpy as np

from .._param_validation import Interval, InvalidParameterError, validate_params
from .._validation import check_generator, check_matrix, check_queries, check_vector
from .defenses import _newton_solve, _solve_defended
from .models import (IndexedSets, LogisticFamily, MLPFamily, _check_family, _check_training_set, _check_weights,
                     _fit_family)

__all__ = [
    "newton_step",
    "hessian_lipschitz_bound",
    "newton_error_bound",
    "approximate_fits",
    "exact_fits",
]


@validate_params({
    "family": "no_validation",
    "theta": ["array-like"],
    "X": ["array-like"],
    "y": ["array-like"],
    "sample_weight": [None, "array-like"],
    "hessian": [None, "array-like"],
})
def newton_step(family, theta, X, y, *, sample_weight=None, hessian=None):
    r"""One Newton step on the L2 logistic objective: :math:`\theta - H^{-1}\nabla F_s(\theta)`.

    Parameters
    ----------
    family : LogisticFamily
    theta : ndarray of shape (d + 1,)
        Warm start.
    X, y : training set of the new objective
    sample_weight : ndarray of shape (n,), optional
        Weights :math:`s_i` of the new objective.
    hessian : ndarray of shape (d + 1, d + 1), optional
        A Hessian to use instead of :math:`\nabla^2 F_s(\theta)` (a frozen
        reference Hessian: the influence-function step).

    Returns
    -------
    ndarray of shape (d + 1,)
    """
    family = _check_logistic(family)
    X, y = _check_training_set(family, X, y)
    sw = None if sample_weight is None else _check_weights(sample_weight, X.shape[0])
    theta = check_vector(theta, "theta", n=family.n_params)
    if hessian is not None:
        hessian = check_matrix(hessian, "hessian", shape=(family.n_params, family.n_params))
    return _newton_step(family, theta, X, y, sw, hessian)


def _check_logistic(family):
    if not isinstance(family, LogisticFamily):
        # both a TypeError and, as before, a ValueError
        raise InvalidParameterError(f"family must be a LogisticFamily (the Newton step is implemented for logistic "
                                    f"regression), got {family!r}.")
    return _check_family(family)


def _newton_step(family, theta, X, y, sample_weight=None, hessian=None):
    _, g = family.loss_grad(theta, X, y, sample_weight)
    H = family.hessian(theta, X, y, sample_weight) if hessian is None else hessian
    return theta - _newton_solve(H, g)


@validate_params({"X": ["array-like"], "sample_weight": [None, "array-like"]})
def hessian_lipschitz_bound(X, sample_weight=None):
    r"""Lipschitz constant bound of the logistic Hessian: :math:`\frac{1}{6\sqrt3}\frac1S\sum_i s_i\|\tilde x_i\|^3`.

    :math:`\nabla^2 F(\theta) - \nabla^2 F(\theta') = \frac1S\sum_i s_i
    [\sigma'(\tilde x_i^\top\theta) - \sigma'(\tilde x_i^\top\theta')]\tilde
    x_i\tilde x_i^\top` and :math:`|\sigma''| \le 1/(6\sqrt3)`; the L2 term
    is constant.
    """
    X = check_queries(X, "X")
    s = np.ones(X.shape[0]) if sample_weight is None else _check_weights(sample_weight, X.shape[0])
    norms = np.sqrt(np.sum(X * X, axis=1) + 1.0)
    return float((s @ norms**3) / s.sum() / (6.0 * np.sqrt(3.0)))


@validate_params({
    "family": [LogisticFamily],
    "theta0": ["array-like"],
    "theta_star": ["array-like"],
    "X": ["array-like"],
    "y": ["array-like"],
    "sample_weight": [None, "array-like"],
})
def newton_error_bound(family, theta0, theta_star, X, y, *, sample_weight=None):
    r"""The bound :math:`\frac{L}{2\mu}\|\theta_0 - \theta^*\|^2` on one Newton step's error.

    :math:`\mu = \lambda_{\min}(\nabla^2F(\theta^*)) - L\|\theta_0 - \theta^*\|`
    lower-bounds the Hessian on the segment; returns ``inf`` when it is not
    positive (the start is outside the region the bound covers).
    """
    family = _check_logistic(family)
    X, y = _check_training_set(family, X, y)
    sample_weight = None if sample_weight is None else _check_weights(sample_weight, X.shape[0])
    theta0 = check_vector(theta0, "theta0", n=family.n_params)
    theta_star = check_vector(theta_star, "theta_star", n=family.n_params)
    L = hessian_lipschitz_bound(X, sample_weight)
    r = float(np.linalg.norm(np.asarray(theta0) - np.asarray(theta_star)))
    lam_min = float(np.linalg.eigvalsh(family.hessian(theta_star, X, y, sample_weight))[0])
    mu = lam_min - L * r
    if mu <= 0:
        return float("inf")
    return L / (2.0 * mu) * r * r


def _check_datasets(family, datasets):
    """At least one training set, each ``(X, y)`` with the family's features and labels in [0, 1]."""
    _check_family(family)
    if len(datasets) == 0:
        raise ValueError("datasets must hold at least one training set (X, y).")
    for i, pair in enumerate(datasets):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"datasets[{i}] must be a pair (X, y), got {type(pair).__name__}.")
        _check_training_set(family, pair[0], pair[1], name=f"datasets[{i}] X", y_name=f"datasets[{i}] y")


def _exact(family, X, y, tol, rng):
    if isinstance(family, LogisticFamily):
        return _solve_defended(family, X, y, tol=tol)
    return _fit_family(family, X, y, tol=tol, rng=rng)


@validate_params({
    "family": [LogisticFamily, MLPFamily],
    "datasets": [list, tuple, IndexedSets],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "random_state": ["random_state"],
})
def exact_fits(family, datasets, *, tol=1e-8, random_state=None):
    """Train every model from a cold start to convergence.

    Logistic regression: Newton's method from zero (KKT-residual
    tolerance ``tol``); MLP: L-BFGS from a Glorot draw seeded by
    ``random_state`` (gradient tolerance).

    Returns
    -------
    thetas : ndarray (k, p)
    seconds : float
    evaluations : int
        Newton steps (L-BFGS evaluations for an MLP).
    """
    _check_datasets(family, datasets)
    rng = check_generator(random_state)
    seeds = rng.integers(0, 2**63 - 1, size=len(datasets))
    out = np.empty((len(datasets), family.n_params))
    evals = 0
    t0 = time.perf_counter()
    for i, (X, y) in enumerate(datasets):
        out[i], n = _exact(family, X, y, tol, np.random.default_rng(seeds[i]))
        evals += n
    return out, time.perf_counter() - t0, evals


@validate_params({
    "family": [LogisticFamily, MLPFamily],
    "datasets": [list, tuple, IndexedSets],
    "groups": ["array-like"],
    "n_newton_steps": [Interval(Integral, 1, None)],
    "warm_iter": [Interval(Integral, 1, None)],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "random_state": ["random_state"],
})
def approximate_fits(family, datasets, groups, *, n_newton_steps=1, warm_iter=20, tol=1e-8, random_state=None):
    """One exact reference model per group; every other model updated from it.

    Parameters
    ----------
    family : LogisticFamily or MLPFamily
    datasets : list of (X, y)
    groups : array of int, shape (k,)
        Property class of each training set; the first set of each class
        is the reference, trained exactly.
    n_newton_steps : int
        Newton steps from the reference (logistic regression).
    warm_iter : int
        L-BFGS iterations from the reference (MLP).
    tol : float
        Tolerance of the exact reference fits.
    random_state : None, int, SeedSequence or Generator
        Seeds the MLP cold starts.

    Returns
    -------
    thetas : ndarray (k, p)
    seconds : float
        Training time.
    evaluations : int
        Newton steps of the references and the updates (L-BFGS evaluations
        for an MLP).
    """
    _check_datasets(family, datasets)
    groups = check_vector(groups, "groups", n=len(datasets))
    if np.any(groups != np.round(groups)):
        raise ValueError("groups must hold integer property classes.")
    rng = check_generator(random_state)
    seeds = rng.integers(0, 2**63 - 1, size=len(datasets))
    out = np.empty((len(datasets), family.n_params))
    evals = 0
    t0 = time.perf_counter()
    refs = {}
    for i, (X, y) in enumerate(datasets):
        c = int(groups[i])
        if c not in refs:
            out[i], n = _exact(family, X, y, tol, np.random.default_rng(seeds[i]))
            refs[c] = out[i]
            evals += n
        elif isinstance(family, LogisticFamily):
            theta = refs[c]
            for _ in range(n_newton_steps):
                theta = _newton_step(family, theta, X, y)
            out[i] = theta
            evals += n_newton_steps
        else:
            out[i], n = _fit_family(family, X, y, theta0=refs[c].copy(), tol=tol, max_iter=warm_iter)
            evals += n
    return out, time.perf_counter() - t0, evals
