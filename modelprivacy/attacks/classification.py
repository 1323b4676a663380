r"""Classification attackers: learners that steal a classifier from its answers.

Every attacker is a scikit-learn style estimator fitted on queries ``X`` and
the API's answers ``P`` (probability vectors of shape ``(n, K)``, or class-1
probabilities of shape ``(n,)`` for a binary API), with ``predict_proba`` and
``predict``. Answers that are not exactly probability vectors (rounded,
high-confidence-cut) are accepted: negative entries are not, and each row is
renormalised (an all-zero row is read as uniform) before learning.

Learners
--------
:class:`SoftLabelLogisticRegression`
    Exact soft-label cross-entropy with multinomial logistic regression, by
    repeating each query once per class with the answered probability as
    sample weight.
:class:`SoftmaxMLP`
    A one-hidden-layer numpy softmax network trained on soft labels with
    scipy's L-BFGS (analytic gradients, seeded initialisation).
:class:`LabelOnlyAttacker`
    Throws the probabilities away and learns from the top-1 labels.
:class:`EquationSolvingAttack`
    Tramer et al.'s equation-solving attack: recovers a (multinomial)
    logistic regression exactly from ``d + 1`` probability answers, since
    :math:`\log(p_k/p_0) = (w_k - w_0)^\top x + b_k - b_0` is affine in x.
:class:`ReverseSigmoidAwareAttacker`
    Knows ReverseSigmoid's :math:`(\beta, \gamma)`, inverts the per-class map
    on its monotone branch, renormalises, then learns from the recovered
    probabilities.

References
----------
* [1] F. Tramer, F. Zhang, A. Juels, M. K. Reiter and T. Ristenpart,
  "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016.
* [2] T. Lee, B. Edwards, I. Molloy and D. Su, "Defending Against Machine
  Learning Model Stealing Attacks Using Deceptive Perturbations",
  arXiv:1806.00054.
* [3] G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
  Understanding Model Stealing Attacks and Defenses", arXiv:2502.15567.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, special
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from numbers import Integral, Real

from .._param_validation import HasMethods, Interval, StrOptions
from .._simplex import ART_CLIP, as_soft_labels
from .._validation import check_int, check_queries, check_generator, check_scalar
from ..base import ParamsMixin

__all__ = [
    "SoftLabelLogisticRegression",
    "SoftmaxMLP",
    "LabelOnlyAttacker",
    "EquationSolvingAttack",
    "equation_solving_queries",
    "ReverseSigmoidAwareAttacker",
    "reverse_sigmoid_branch",
    "invert_reverse_sigmoid",
]


def _check_fit_input(X, P, n_classes=None):
    X = check_queries(X, "X")
    P = as_soft_labels(P, "P", n_rows=X.shape[0], n_classes=n_classes)
    return X, P


class _SoftClassifier(ParamsMixin, ClassifierMixin, BaseEstimator):
    """Shared ``predict`` of the soft-label learners."""

    def predict(self, X):
        """Top-1 labels ``argmax_k predict_proba(X)``."""
        return np.argmax(self.predict_proba(X), axis=1)


class _LinearScores:
    """Linear scores of a fitted ``coef_`` (K, d) and ``intercept_`` (K,)."""

    def decision_function(self, X):
        """Linear scores ``X coef_' + intercept_``."""
        check_is_fitted(self, "coef_")
        X = check_queries(X, "X", n_features=self.coef_.shape[1])
        return X @ self.coef_.T + self.intercept_


class SoftLabelLogisticRegression(_LinearScores, _SoftClassifier):
    r"""Multinomial logistic regression fitted on soft labels by exact cross-entropy.

    Minimises (scikit-learn's convention for the L2 penalty)

    .. math::

        C \sum_{i=1}^n \sum_{k=1}^K \hat P_{ik}\,\bigl(-\log q_k(x_i)\bigr)
        + \tfrac12 \|W\|_F^2, \qquad q(x) = \operatorname{softmax}(W x + b),

    by fitting :class:`~sklearn.linear_model.LogisticRegression` on the
    queries repeated ``K`` times, ``X_rep = repeat(X, K)``, with labels
    ``y_rep = tile(arange(K), n)`` and ``sample_weight = P.ravel()``: the
    weighted multinomial log-loss is exactly the soft cross-entropy. For
    ``K = 2`` scikit-learn fits one binomial coefficient vector (the same
    soft cross-entropy with :math:`q_1 = s(w^\top x + b)`).

    ``solver="lbfgs"`` minimises the same objective directly (numpy
    gradients, scipy L-BFGS, no ``K``-fold repetition): the same optimum,
    several times faster; the experiment runners use it.

    Parameters
    ----------
    C : float > 0
        Inverse L2 strength.
    fit_intercept : bool
    max_iter : int
    tol : float
    solver : {"repeat", "lbfgs"}
        ``"repeat"``: the scikit-learn sample-weight trick above;
        ``"lbfgs"``: direct minimisation.

    Attributes
    ----------
    estimator_ : LogisticRegression
        Only with ``solver="repeat"``.
    coef_ : ndarray of shape (K, d), or (1, d) when K = 2
    intercept_ : ndarray
    n_classes_ : int
    classes_ : ndarray of shape (K,)
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"repeat", "lbfgs"})],
    }

    def __init__(self, C=1.0, *, fit_intercept=True, max_iter=1000, tol=1e-6, solver="repeat"):
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def fit(self, X, P):
        """Fit on queries ``X`` and soft answers ``P`` (``(n, K)`` or binary ``(n,)``)."""
        self._validate_params()
        C = float(self.C)
        X, P = _check_fit_input(X, P)
        n, K = P.shape
        self.n_classes_ = K
        self.classes_ = np.arange(K)
        if self.solver == "lbfgs":
            return self._fit_direct(X, P, C)
        X_rep = np.repeat(X, K, axis=0)
        y_rep = np.tile(np.arange(K), n)
        w = P.ravel()
        est = LogisticRegression(C=C, fit_intercept=self.fit_intercept, max_iter=self.max_iter,
                                 tol=self.tol)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_rep, y_rep, sample_weight=w)
        self.estimator_ = est
        self.coef_ = est.coef_
        self.intercept_ = est.intercept_
        return self

    def _fit_direct(self, X, P, C):
        n, d = X.shape
        K = P.shape[1]
        m = 1 if K == 2 else K  # scikit-learn's binomial parametrisation for K = 2
        A = np.column_stack([X, np.ones(n)]) if self.fit_intercept else X
        q = A.shape[1]
        scale = C * n  # objective / (C n): same optimum, better-scaled tolerances

        def loss_grad(theta):
            W = theta.reshape(m, q)
            Z = A @ W.T
            if K == 2:
                Z = np.column_stack([np.zeros(n), Z])
            logq = Z - special.logsumexp(Z, axis=1, keepdims=True)
            Wp = W[:, :d]
            loss = -np.sum(P * logq) / n + 0.5 * np.sum(Wp**2) / scale
            G = np.exp(logq) - P
            if K == 2:
                G = G[:, 1:]
            gW = G.T @ A / n
            gW[:, :d] += Wp / scale
            return loss, gW.ravel()

        # small dense problems: multi-threaded BLAS only thrashes on shared cores
        with threadpool_limits(limits=1):
            res = optimize.minimize(loss_grad, np.zeros(m * q), jac=True, method="L-BFGS-B",
                                    options={"maxiter": self.max_iter, "ftol": self.tol * 1e-6,
                                             "gtol": self.tol * 1e-2})
        W = res.x.reshape(m, q)
        self.coef_ = W[:, :d]
        self.intercept_ = W[:, d] if self.fit_intercept else np.zeros(m)
        self.n_iter_ = int(res.nit)
        return self

    def predict_proba(self, X):
        """Stolen probability vectors, shape ``(n, K)``."""
        Z = self.decision_function(X)
        if self.n_classes_ == 2:
            Z = np.column_stack([np.zeros(Z.shape[0]), Z[:, 0]])
        return special.softmax(Z, axis=1)


class SoftmaxMLP(_SoftClassifier):
    r"""One-hidden-layer softmax network trained on soft labels (numpy + scipy L-BFGS).

    .. math::

        q(x) = \operatorname{softmax}(W_2 \tanh(W_1 x + b_1) + b_2),\quad
        \min_\theta \frac1n \sum_i \sum_k \hat P_{ik}(-\log q_k(x_i))
        + \frac{\alpha}{2n}(\|W_1\|_F^2 + \|W_2\|_F^2).

    Unlike :class:`~sklearn.neural_network.MLPClassifier`, which reads a 2-D
    target as *multilabel* (sigmoid outputs, binary cross-entropy), this is
    the softmax soft cross-entropy used by distillation attackers.

    Parameters
    ----------
    hidden : int
        Hidden units.
    alpha : float >= 0
        L2 strength.
    max_iter : int
        L-BFGS iterations.
    random_state : None, int or numpy.random.Generator
        Seeds the Glorot-uniform initialisation.

    Attributes
    ----------
    coefs_ : list of ndarray
        ``[W1 (d, h), W2 (h, K)]``.
    intercepts_ : list of ndarray
    n_iter_ : int
    loss_ : float
    """

    _parameter_constraints = {
        "hidden": [Interval(Integral, 1, None)],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, hidden=32, *, alpha=1e-3, max_iter=300, tol=1e-7, random_state=0):
        self.hidden = hidden
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _unpack(self, theta, d, K):
        h = self.hidden
        i = 0
        W1 = theta[i : i + d * h].reshape(d, h); i += d * h
        b1 = theta[i : i + h]; i += h
        W2 = theta[i : i + h * K].reshape(h, K); i += h * K
        b2 = theta[i : i + K]
        return W1, b1, W2, b2

    def _loss_grad(self, theta, X, P):
        n, d = X.shape
        K = P.shape[1]
        W1, b1, W2, b2 = self._unpack(theta, d, K)
        H = np.tanh(X @ W1 + b1)
        Z = H @ W2 + b2
        logq = Z - special.logsumexp(Z, axis=1, keepdims=True)
        loss = -np.sum(P * logq) / n + self.alpha / (2 * n) * (np.sum(W1**2) + np.sum(W2**2))
        G = (np.exp(logq) * P.sum(axis=1, keepdims=True) - P) / n  # dL/dZ
        gW2 = H.T @ G + self.alpha / n * W2
        gb2 = G.sum(axis=0)
        GH = (G @ W2.T) * (1.0 - H**2)
        gW1 = X.T @ GH + self.alpha / n * W1
        gb1 = GH.sum(axis=0)
        return loss, np.concatenate([gW1.ravel(), gb1, gW2.ravel(), gb2])

    def _init(self, d, K, rng):
        h = self.hidden
        a1, a2 = np.sqrt(6.0 / (d + h)), np.sqrt(6.0 / (h + K))
        return np.concatenate([
            rng.uniform(-a1, a1, d * h), np.zeros(h),
            rng.uniform(-a2, a2, h * K), np.zeros(K),
        ])

    def fit(self, X, P):
        """Fit on queries ``X`` and soft answers ``P`` (``(n, K)`` or binary ``(n,)``)."""
        self._validate_params()
        rng = check_generator(self.random_state, "random_state")
        X, P = _check_fit_input(X, P)
        d, K = X.shape[1], P.shape[1]
        theta0 = self._init(d, K, rng)
        with threadpool_limits(limits=1):
            res = optimize.minimize(
                self._loss_grad, theta0, args=(X, P), jac=True, method="L-BFGS-B",
                options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-8},
            )
        W1, b1, W2, b2 = self._unpack(res.x, d, K)
        self.coefs_ = [W1, W2]
        self.intercepts_ = [b1, b2]
        self.n_iter_ = int(res.nit)
        self.loss_ = float(res.fun)
        self.n_classes_ = K
        self.classes_ = np.arange(K)
        return self

    def decision_function(self, X):
        """Logits ``W2 tanh(W1 x + b1) + b2``."""
        check_is_fitted(self, "coefs_")
        X = check_queries(X, "X", n_features=self.coefs_[0].shape[0])
        return np.tanh(X @ self.coefs_[0] + self.intercepts_[0]) @ self.coefs_[1] + self.intercepts_[1]

    def predict_proba(self, X):
        """Stolen probability vectors, shape ``(n, K)``."""
        return special.softmax(self.decision_function(X), axis=1)


class LabelOnlyAttacker(_SoftClassifier):
    """Learn from the top-1 labels only: one-hot ``argmax`` answers to a soft learner.

    This is the lower bound any accuracy-preserving output defense can force
    on an attacker (Lee et al. [2]): it ignores everything but the label.

    Parameters
    ----------
    estimator : soft-label estimator, optional
        Fitted on the one-hot labels; default
        :class:`SoftLabelLogisticRegression` (all ``K`` classes are kept,
        even those never observed, which get zero weight).
    """

    _parameter_constraints = {"estimator": [HasMethods(["fit", "predict_proba"]), None]}

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, P):
        self._validate_params()
        X, P = _check_fit_input(X, P)
        Y = np.zeros_like(P)
        Y[np.arange(P.shape[0]), np.argmax(P, axis=1)] = 1.0
        base = SoftLabelLogisticRegression() if self.estimator is None else self.estimator
        self.estimator_ = clone(base).fit(X, Y)
        self.n_classes_ = P.shape[1]
        self.classes_ = np.arange(P.shape[1])
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)


def equation_solving_queries(n_features, n_queries=None, *, scale=1.0, random_state=None):
    """Gaussian queries for the equation-solving attack (``d + 1`` by default).

    Generic points make the linear system ``[X, 1]`` full rank, which natural
    inputs may not (e.g. always-zero border pixels of digits).
    """
    d = check_int(n_features, "n_features", low=1)
    n = d + 1 if n_queries is None else check_int(n_queries, "n_queries", low=1)
    scale = check_scalar(scale, "scale", low=0.0, low_inclusive=False)
    rng = check_generator(random_state, "random_state")
    return scale * rng.standard_normal((n, d))


class EquationSolvingAttack(_LinearScores, _SoftClassifier):
    r"""Equation-solving attack on (multinomial) logistic regression (Tramer et al. [1]).

    For :math:`p(x) = \operatorname{softmax}(Wx + b)`, the log-ratios to the
    reference class 0 are affine in x,

    .. math:: \log\frac{p_k(x)}{p_0(x)} = (w_k - w_0)^\top x + (b_k - b_0),
              \qquad k = 1, \dots, K-1,

    so ``d + 1`` answers at generic queries determine
    :math:`\Delta_k = (w_k - w_0, b_k - b_0)` by solving
    :math:`[X, 1]\,\Theta = L` (least squares when more answers are given;
    minimum-norm when the system is rank-deficient), and with them the whole
    model. Binary 1-D answers give :math:`\operatorname{logit}(p) = w^\top x + b`.

    Any output perturbation that is not itself a log-affine family breaks the
    system; ``residual_`` (the largest equation residual) then exceeds
    round-off when ``n > d + 1``. Misleading Shift *is* log-affine: the
    attack recovers the shifted model exactly, with the intercept of the
    majority class moved by the shift, and cannot detect it.

    Attributes
    ----------
    coef_ : ndarray of shape (K, d)
        Row 0 is zero; row k is :math:`w_k - w_0`.
    intercept_ : ndarray of shape (K,)
    residual_ : float
        :math:`\max |[X, 1]\Theta - L|`.
    rank_ : int
        Rank of ``[X, 1]``.
    """

    _parameter_constraints = {"floor": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, floor=1e-300):
        self.floor = floor

    def fit(self, X, P):
        self._validate_params()
        floor = float(self.floor)
        X, P = _check_fit_input(X, P)
        n, d = X.shape
        if n < d + 1:
            raise ValueError(f"the equation-solving attack needs at least d + 1 = {d + 1} "
                             f"answers, got {n}.")
        # zeros (top-1 labels, rounding, cutoffs) are floored: the log-ratios then
        # carry no information, and the recovered model is wrong
        L = np.log(np.maximum(P, floor))
        B = L[:, 1:] - L[:, [0]]
        A = np.column_stack([X, np.ones(n)])
        theta, _, rank, _ = np.linalg.lstsq(A, B, rcond=None)
        K = P.shape[1]
        self.coef_ = np.vstack([np.zeros((1, d)), theta[:d].T])
        self.intercept_ = np.concatenate([[0.0], theta[d]])
        self.residual_ = float(np.max(np.abs(A @ theta - B)))
        self.rank_ = int(rank)
        self.n_classes_ = K
        self.classes_ = np.arange(K)
        return self

    def predict_proba(self, X):
        return special.softmax(self.decision_function(X), axis=1)


# --------------------------------------------------------------------------------------
# defense-aware attacker against ReverseSigmoid
# --------------------------------------------------------------------------------------
_T_MAX = float(np.log((1.0 - ART_CLIP) / ART_CLIP))  # ART clips y to [1e-9, 1 - 1e-9]


def _F(t, beta, gamma):
    """Unnormalised ReverseSigmoid map in logit coordinates, F(t) = f(s(t))."""
    y = special.expit(t)
    return y - beta * (special.expit(gamma * t) - 0.5)


def _dF(t, beta, gamma):
    y = special.expit(t)
    u = special.expit(gamma * t)
    return y * (1.0 - y) - beta * gamma * u * (1.0 - u)


def reverse_sigmoid_branch(beta, gamma, *, n_grid=20001):
    r"""The monotone branch of :math:`f(y) = y - r(y)` used for inversion.

    In logit coordinates :math:`t = s^{-1}(y)`,
    :math:`F'(t) = y(1-y) - \beta\gamma\,u(1-u)` with
    :math:`u = s(\gamma t)`. The branch is the longest interval of
    :math:`[-T, T]` (:math:`T = s^{-1}(1 - 10^{-9})`, ART's clip) on which
    :math:`F' > 0`; for :math:`\gamma < 1` and :math:`\beta\gamma < 1` it is
    :math:`[t^*, -t^*]` around 0, by the symmetry :math:`f(1-y) = 1 - f(y)`.

    Returns
    -------
    t_lo, t_hi : float
        Ends of the branch in logit coordinates.

    Raises
    ------
    ValueError
        If ``f`` has no increasing stretch (e.g. ``beta = gamma = 1``, where
        every answer is uniform).
    """
    beta = check_scalar(beta, "beta", low=0.0, low_inclusive=False)
    gamma = check_scalar(gamma, "gamma", low=0.0, low_inclusive=False)
    n_grid = check_int(n_grid, "n_grid", low=3)
    t = np.linspace(-_T_MAX, _T_MAX, n_grid)
    inc = _dF(t, beta, gamma) > 1e-14
    if not np.any(inc):
        raise ValueError(f"ReverseSigmoid(beta={beta}, gamma={gamma}) has no monotone branch: "
                         "its answers cannot be inverted.")
    # longest run of True
    edges = np.diff(np.concatenate([[0], inc.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    j = int(np.argmax(ends - starts))
    lo, hi = t[starts[j]], t[ends[j]]
    # refine the ends to the roots of F' (brentq), where they are interior
    if starts[j] > 0:
        lo = optimize.brentq(_dF, t[starts[j] - 1], t[starts[j]], args=(beta, gamma), xtol=1e-14)
    if ends[j] < n_grid - 1:
        hi = optimize.brentq(_dF, t[ends[j]], t[ends[j] + 1], args=(beta, gamma), xtol=1e-14)
    return float(lo), float(hi)


def invert_reverse_sigmoid(P_hat, beta, gamma, *, low_classes="branch", n_grid=4001, n_bisect=100):
    r"""Invert ReverseSigmoid (ART variant) where it is invertible, then renormalise.

    An answer is :math:`\hat y_k = f(y_k)/Z` with
    :math:`Z = \sum_j f(y_j)` unknown. With :math:`g` the inverse of
    :math:`f` on its monotone branch (values outside its range are clamped
    to its ends), the attacker solves :math:`h(Z) = \sum_k g_k(Z \hat y_k) = 1`
    for each row and returns :math:`g(Z\hat y)` renormalised.

    ``low_classes`` decides the many-to-one region below the branch (for
    :math:`\gamma < 1`, :math:`f` decreases on :math:`(0, y^*)`, so a value
    in :math:`[f(y^*), f(0^+)]` has a preimage below :math:`y^*` and one on
    the branch):

    ``"branch"``
        Every class is inverted on the branch: :math:`h` is non-decreasing
        and the root is found by bisection. Rows whose classes all lie on the
        branch are recovered exactly; small probabilities are mapped onto the
        branch, i.e. over-estimated (to at least :math:`y^*`).
    ``"small"``
        A prior that the victim is confident: the row's top class is
        inverted on the branch and every other class on the decreasing low
        branch :math:`[10^{-9}, y^*]` (ART clips at :math:`10^{-9}`). Then
        :math:`h` need not be monotone; ``Z`` is searched (257-point grid,
        then bisection) in the interval where no class leaves the range of
        its inverse, and the largest root is taken -- there can be several
        exact preimages, and the largest Z gives the most confident one
        (falling back to the grid point with the smallest :math:`|h - 1|`). This recovers rows whose
        top class is on the branch and whose other classes are below
        :math:`y^*`; a runner-up class with a sizeable probability is mapped
        to a tiny one, and a top class above :math:`1 - y^*` to one below it.

    Parameters
    ----------
    P_hat : array-like of shape (n, K), or (n,) binary answers
    beta, gamma : float > 0
        The defense's parameters (known to this attacker).
    low_classes : {"branch", "small"}

    Returns
    -------
    ndarray of shape (n, K)
        Recovered probability vectors (``(n, 2)`` for binary input).
    """
    beta = check_scalar(beta, "beta", low=0.0, low_inclusive=False)
    gamma = check_scalar(gamma, "gamma", low=0.0, low_inclusive=False)
    if low_classes not in ("branch", "small"):
        raise ValueError(f"low_classes must be 'branch' or 'small', got {low_classes!r}.")
    n_grid = check_int(n_grid, "n_grid", low=3)
    n_bisect = check_int(n_bisect, "n_bisect", low=1)
    Q = as_soft_labels(P_hat, "P_hat")
    if Q.shape[0] == 0:
        raise ValueError("P_hat must have at least one row.")
    t_lo, t_hi = reverse_sigmoid_branch(beta, gamma)
    t_grid = np.linspace(t_lo, t_hi, n_grid)
    F_grid = _F(t_grid, beta, gamma)
    F_lo, F_hi = float(F_grid[0]), float(F_grid[-1])

    def g(v, ta=t_lo, tb=t_hi, Fg=F_grid, tg=t_grid):
        # inverse of F on [ta, tb] (F monotone there; Fg increasing)
        v = np.clip(v, Fg[0], Fg[-1])
        t = np.interp(v, Fg, tg)
        for _ in range(4):  # Newton polish of the table lookup
            d = _dF(t, beta, gamma)
            d = np.where(np.abs(d) > 1e-300, d, 1e-300)
            t = np.clip(t - (_F(t, beta, gamma) - v) / d, ta, tb)
        return special.expit(t)

    # bracket Z: at Z = 0 every class sits at the branch's lower end; at Z_hi
    # every positive class sits at its upper end
    pos_min = np.where(Q > 0, Q, np.inf).min(axis=1, keepdims=True)
    z_lo = np.zeros((Q.shape[0], 1))
    z_hi = F_hi / pos_min
    for _ in range(n_bisect):
        mid = 0.5 * (z_lo + z_hi)
        up = g(mid * Q).sum(axis=1, keepdims=True) < 1.0
        z_lo = np.where(up, mid, z_lo)
        z_hi = np.where(up, z_hi, mid)
    z_branch = 0.5 * (z_lo + z_hi)
    if low_classes == "branch" or t_lo <= -_T_MAX + 1e-9:
        Y = g(z_branch * Q)
        return Y / Y.sum(axis=1, keepdims=True)

    # decreasing low branch [-T, t_lo]: table reversed so that F increases
    tl = np.linspace(-_T_MAX, t_lo, n_grid)[::-1]
    Fl = _F(tl, beta, gamma)
    top = np.argmax(Q, axis=1)
    is_top = np.zeros(Q.shape, dtype=bool)
    is_top[np.arange(Q.shape[0]), top] = True

    def y_of(Z):
        V = Z * Q
        Yb = g(V)
        Yl = g(V, tl[-1], tl[0], Fl, tl)
        return np.where(is_top, Yb, Yl)

    # Z must put every class inside the range of the inverse it uses (no clamping):
    # the top class in [F_lo, F_hi], the others in [Fl_min, Fl_max]
    pos = Q > 0
    Qs = np.where(pos, Q, 1.0)
    za = np.where(pos, np.where(is_top, F_lo, Fl[0]) / Qs, -np.inf).max(axis=1)
    zb = np.where(pos, np.where(is_top, F_hi, Fl[-1]) / Qs, np.inf).min(axis=1)
    fallback = ~(za < zb)
    zb = np.where(fallback, za + 1.0, zb)
    n_z = 257
    frac = np.linspace(0.0, 1.0, n_z)
    Zg = za[:, None] + (zb - za)[:, None] * frac[None, :]  # (n, n_z) per-row grids
    H = np.stack([y_of(Zg[:, [i]]).sum(axis=1) - 1.0 for i in range(n_z)], axis=1)
    cross = np.sign(H[:, :-1]) != np.sign(H[:, 1:])
    # the last sign change (largest Z: the most confident preimage, several can be
    # exact); else the grid point with the smallest |h - 1|
    has = cross.any(axis=1) & ~fallback
    last = n_z - 2 - np.argmax(cross[:, ::-1], axis=1)
    j = np.where(has, last, np.argmin(np.abs(H[:, :-1]), axis=1))
    rows = np.arange(Q.shape[0])
    a = Zg[rows, j][:, None]
    b = Zg[rows, j + 1][:, None]
    ha = H[rows, j][:, None]
    for _ in range(60):
        m = 0.5 * (a + b)
        hm = y_of(m).sum(axis=1, keepdims=True) - 1.0
        same = np.sign(hm) == np.sign(ha)
        a = np.where(same, m, a)
        ha = np.where(same, hm, ha)
        b = np.where(same, b, m)
    Z = np.where(has[:, None], 0.5 * (a + b), a)
    Y = y_of(Z)
    return Y / Y.sum(axis=1, keepdims=True)


class ReverseSigmoidAwareAttacker(_SoftClassifier):
    r"""Defense-aware attacker that undoes a known ReverseSigmoid before learning.

    Fits ``estimator`` on :func:`invert_reverse_sigmoid` of the answers.

    Parameters
    ----------
    beta, gamma : float > 0
        The ReverseSigmoid parameters the attacker knows (ART variant).
    estimator : soft-label estimator, optional
        Default :class:`SoftLabelLogisticRegression`.
    low_classes : {"small", "branch"}
        How the many-to-one region is resolved (see
        :func:`invert_reverse_sigmoid`); ``"small"`` assumes a confident
        victim.
    """

    _parameter_constraints = {
        "beta": [Interval(Real, 0, None, closed="neither")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "low_classes": [StrOptions({"small", "branch"})],
    }

    def __init__(self, beta=1.0, *, gamma=0.1, estimator=None, low_classes="small"):
        self.beta = beta
        self.gamma = gamma
        self.estimator = estimator
        self.low_classes = low_classes

    def invert(self, P_hat):
        """Recovered probabilities (see :func:`invert_reverse_sigmoid`)."""
        return invert_reverse_sigmoid(P_hat, self.beta, self.gamma, low_classes=self.low_classes)

    def fit(self, X, P):
        self._validate_params()
        X, P = _check_fit_input(X, P)
        base = SoftLabelLogisticRegression() if self.estimator is None else self.estimator
        self.estimator_ = clone(base).fit(X, self.invert(P))
        self.n_classes_ = P.shape[1]
        self.classes_ = np.arange(P.shape[1])
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)
