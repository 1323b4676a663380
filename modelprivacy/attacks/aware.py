r"""Defense-aware regression attackers: learners that respond to the defense they face.

The Model Privacy designs assume the defender knows the attacker's learner.
The attackers here break that assumption in three ways.

Repetition (:class:`RepeatAveraging`, with :class:`~modelprivacy.queries.RepeatedQueries`)
    Ask each of :math:`m` points :math:`k` times (the budget :math:`n = km`
    counts every answer) and average: independent noise of variance
    :math:`\sigma^2` becomes :math:`\sigma^2/k`. A defense that gives the same
    answer to the same query (constant shift, Order Disguise, a random
    perturbation function, the online designs) is not averaged at all.

Model choice on the answers (:class:`CrossValidatedAttacker`)
    Pick the learner and its hyper-parameters (polynomial order, kernel and
    ridge, Lasso or ridge) by cross-validation on the answers received, so a
    trap set for one fixed learner may miss. A deterministic perturbation is
    part of what the answers say, so cross-validation cannot see it.

Knowledge of the defense
    :class:`GLSRegression` and :class:`GLSKernelRidge` weigh the answers by
    the known covariance of a random perturbation (Aitken's generalised least
    squares; the Gaussian-process posterior mean);
    :class:`TruncatedPolynomialRegression` refuses the top polynomial orders
    that Order Disguise targets; :class:`KnownDefenseAttacker` estimates the
    perturbation from a few queries whose clean answers it owns, knowing the
    defense's form (:meth:`~modelprivacy.defenses.Defense.perturbation_model`)
    but not its budget, and subtracts it.

References
----------
A. C. Aitken, "On least squares and linear combination of observations",
Proc. Roy. Soc. Edinburgh 55 (1935) 42-48.

N. Cressie, *Statistics for Spatial Data*, Wiley 1993, section 3.4
(universal kriging).

M. Stone, "Cross-validatory choice and assessment of statistical
predictions", J. R. Stat. Soc. B 36 (1974) 111-147.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Lasso, Ridge
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._param_validation import HasMethods, Interval, StrOptions
from .._validation import check_generator, check_indices, check_int, check_queries, check_vector
from ..base import ParamsMixin
from ..features import default_p_max
from .regression import KernelRidgeAttacker, OLSRegression, PolynomialRegression, _BasisAttacker, is_linear_smoother

__all__ = [
    "RepeatAveraging",
    "CrossValidatedAttacker",
    "GLSRegression",
    "GLSKernelRidge",
    "TruncatedPolynomialRegression",
    "KnownDefenseAttacker",
    "default_candidates",
    "group_repeats",
    "universal_kriging",
]


def group_repeats(X, y):
    """Distinct queries, the mean answer of each and how often each was asked.

    Parameters
    ----------
    X : array-like of shape (n, d)
    y : array-like of shape (n,)

    Returns
    -------
    distinct : ndarray of shape (m, d)
        The distinct rows of ``X`` (sorted).
    mean : ndarray of shape (m,)
        Mean answer of each distinct query.
    counts : ndarray of shape (m,)
    inverse : ndarray of shape (n,)
        ``X[i] == distinct[inverse[i]]``.
    """
    X = check_queries(X, "X")
    y = check_vector(y, "y", n=X.shape[0])
    distinct, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    inverse = np.asarray(inverse).ravel()
    return distinct, np.bincount(inverse, weights=y) / counts, counts, inverse


class RepeatAveraging(ParamsMixin, RegressorMixin, BaseEstimator):
    r"""Average the answers to repeated queries, then fit a learner on the distinct points.

    With each of :math:`m` distinct points asked :math:`k` times and answers
    :math:`Y_{ij} = f(x_i) + e_{ij}`, the learner sees
    :math:`\bar Y_i = f(x_i) + \bar e_i`. If the :math:`e_{ij}` are independent
    with variance :math:`\sigma^2`, :math:`\operatorname{Var}\bar e_i = \sigma^2/k`;
    if the defense answers a repeated query identically, :math:`\bar e_i = e_{i1}`
    and nothing is gained. For a linear-smoother learner :math:`S_m` the copy
    is the linear smoother :math:`S = S_m A` with the averaging matrix
    :math:`A_{i,j} = 1/k_i` when query ``j`` repeats point ``i``
    (:meth:`smoother_matrix`), so its exact privacy level follows from
    :func:`~modelprivacy.bounds.exact_privacy_level`.

    Parameters
    ----------
    estimator : regressor, optional
        The learner fitted on the averaged answers (default
        :class:`~modelprivacy.attacks.PolynomialRegression` with AIC).

    Attributes
    ----------
    estimator_ : regressor
        The fitted learner.
    n_distinct_ : int
        Number of distinct queries.
    repeat_spread_ : float
        Pooled within-point standard deviation of the answers,
        :math:`\sqrt{\sum_{ij}(Y_{ij} - \bar Y_i)^2/(n - m)}`: 0 when the
        defense answers every repeated query identically (NaN when no query
        was repeated).
    """

    _parameter_constraints = {"estimator": [HasMethods(["fit", "predict"]), None]}

    def __init__(self, estimator=None):
        self.estimator = estimator

    def _estimator(self):
        return PolynomialRegression() if self.estimator is None else self.estimator

    def fit(self, X, y):
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        distinct, mean, counts, inverse = group_repeats(X, y)
        resid = y - mean[inverse]
        n, m = X.shape[0], distinct.shape[0]
        self.repeat_spread_ = float(np.sqrt(resid @ resid / (n - m))) if n > m else float("nan")
        self.n_distinct_ = m
        self.estimator_ = clone(self._estimator()).fit(distinct, mean)
        return self

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def smoother_matrix(self, X, Z):
        """Return ``S = S_m(distinct X, Z) A`` of shape ``(m_Z, n)`` (the learner must be a linear smoother)."""
        self._validate_params()
        est = self._estimator()
        if not is_linear_smoother(est):
            raise TypeError(f"the learner {type(est).__name__} is not a linear smoother.")
        X = check_queries(X, "X")
        distinct, _, counts, inverse = group_repeats(X, np.zeros(X.shape[0]))
        A = np.zeros((distinct.shape[0], X.shape[0]))
        A[inverse, np.arange(X.shape[0])] = 1.0 / counts[inverse]
        return np.asarray(clone(est).smoother_matrix(distinct, Z), dtype=float) @ A


def default_candidates():
    """The model family of :class:`CrossValidatedAttacker` for one-dimensional queries.

    Polynomials of 1 to 8 terms (least squares); RBF kernel ridge with
    :math:`\\gamma \\in \\{0.3, 1, 3, 10\\}` and :math:`\\alpha \\in \\{10^{-3}, 10^{-2}, 10^{-1}\\}`;
    Laplacian kernel ridge with :math:`\\gamma \\in \\{1, 3\\}`,
    :math:`\\alpha \\in \\{10^{-2}, 10^{-1}\\}`; Lasso and ridge on standardised
    polynomial features of degree 6 (:math:`\\alpha \\in \\{10^{-3}, 10^{-2}\\}` and
    :math:`\\{10^{-3}, 10^{-1}\\}`).

    Returns
    -------
    list of (str, estimator)
    """
    out = [(f"ols{p}", OLSRegression(p)) for p in range(1, 9)]
    out += [(f"krr_rbf_g{g}_a{a:g}", KernelRidgeAttacker("rbf", gamma=g, alpha=a))
            for g in (0.3, 1.0, 3.0, 10.0) for a in (1e-3, 1e-2, 1e-1)]
    out += [(f"krr_lap_g{g}_a{a:g}", KernelRidgeAttacker("laplacian", gamma=g, alpha=a))
            for g in (1.0, 3.0) for a in (1e-2, 1e-1)]

    def poly6(model):
        return make_pipeline(PolynomialFeatures(6, include_bias=False), StandardScaler(), model)

    out += [(f"lasso_a{a:g}", poly6(Lasso(alpha=a, max_iter=100_000))) for a in (1e-3, 1e-2)]
    out += [(f"ridge_a{a:g}", poly6(Ridge(alpha=a))) for a in (1e-3, 1e-1)]
    return out


def _named(candidates):
    """``(name, estimator)`` pairs from estimators or pairs."""
    out = []
    for c in candidates:
        if isinstance(c, tuple) and len(c) == 2 and isinstance(c[0], str):
            out.append(c)
        else:
            out.append((repr(c), c))
    return out


class CrossValidatedAttacker(ParamsMixin, RegressorMixin, BaseEstimator):
    r"""Choose the learner by cross-validation on the answers received, then refit it.

    For candidates :math:`L_1, \dots, L_J` the validation error of :math:`L_j`
    on the answers :math:`(X_i, Y_i)` is

    .. math::

        \mathrm{CV}_j = \frac1n \sum_{v=1}^{V} \sum_{i \in F_v}
        \bigl(\hat f^{(-v)}_j(X_i) - Y_i\bigr)^2

    over ``V`` folds :math:`F_v` (:math:`\hat f^{(-v)}_j` fitted without fold
    :math:`v`). With ``cv="loo"`` every candidate must be a linear smoother
    with hat matrix :math:`H_j` (its smoother on its own queries), and the
    leave-one-out residuals have the closed form
    :math:`(Y_i - (H_jY)_i)/(1 - (H_j)_{ii})`, exact for least squares and
    kernel ridge. The attacker refits the minimiser on all answers; scores
    within :math:`10^{-12}` times the mean square answer of the minimum are
    ties (exact fits differ only by round-off), won by the candidate listed first.

    It measures how well each learner predicts the *answers* :math:`f + e`,
    not :math:`f`: a deterministic perturbation such as Order Disguise, which
    makes the answers look like a polynomial of the top order, is what the
    answers say, and cross-validation picks the trap.

    Parameters
    ----------
    candidates : list of estimators or of (name, estimator) pairs, optional
        The family (default :func:`default_candidates`).
    cv : int or "loo"
        Number of folds (shuffled with ``random_state``) or closed-form leave-one-out.
    random_state : None, int, SeedSequence or Generator
        Fold assignment (the simulator sets it from the replication's attacker stream).

    Attributes
    ----------
    cv_scores_ : ndarray of shape (J,)
        :math:`\mathrm{CV}_j` (``inf`` when a leave-one-out residual is undefined).
    best_index_ : int
    best_name_ : str
    best_estimator_ : estimator
        The chosen learner refitted on all answers.
    names_ : list of str
    """

    _parameter_constraints = {
        "candidates": [list, tuple, None],
        "cv": [Interval(Integral, 2, None), StrOptions({"loo"})],
        "random_state": ["random_state"],
    }

    def __init__(self, candidates=None, *, cv=5, random_state=0):
        self.candidates = candidates
        self.cv = cv
        self.random_state = random_state

    def _validate_params(self):
        super()._validate_params()
        named = self._candidates()
        if not named:
            raise ValueError("candidates must be a non-empty sequence of regressors.")
        for name, est in named:
            if not HasMethods(["fit", "predict"]).is_satisfied_by(est):
                raise TypeError(f"candidate {name!r} must implement fit and predict, got {type(est).__name__}.")
            if self.cv == "loo" and not is_linear_smoother(est):
                raise ValueError(f"cv='loo' needs linear smoothers; candidate {name!r} has no smoother_matrix.")

    def _candidates(self):
        return _named(default_candidates() if self.candidates is None else self.candidates)

    def fit(self, X, y):
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        named = self._candidates()
        self.names_ = [name for name, _ in named]
        self.cv_scores_ = self._scores(X, y, [est for _, est in named])
        self.best_index_ = _first_minimum(self.cv_scores_, float(y @ y) / X.shape[0])
        self.best_name_ = self.names_[self.best_index_]
        self.best_estimator_ = clone(named[self.best_index_][1]).fit(X, y)
        return self

    def _scores(self, X, y, estimators):
        n = X.shape[0]
        if self.cv == "loo":
            out = np.empty(len(estimators))
            for j, est in enumerate(estimators):
                H = np.asarray(clone(est).smoother_matrix(X, X), dtype=float)
                denom = 1.0 - np.diag(H)
                if np.any(denom <= 1e-12):
                    out[j] = np.inf
                    continue
                r = (y - H @ y) / denom
                out[j] = r @ r / n
            return out
        folds = int(self.cv)
        if n < folds:
            raise ValueError(f"{folds}-fold cross-validation needs at least {folds} answers, got {n}.")
        seed = int(check_generator(self.random_state, "random_state").integers(2**31 - 1))
        splits = list(KFold(folds, shuffle=True, random_state=seed).split(X))
        out = np.zeros(len(estimators))
        for j, est in enumerate(estimators):
            for train, test in splits:
                r = clone(est).fit(X[train], y[train]).predict(X[test]) - y[test]
                out[j] += r @ r
        return out / n

    def predict(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)


def _first_minimum(scores, scale, rtol=1e-12):
    """Index of the first score within ``rtol * scale`` of the minimum (exact fits tie at round-off)."""
    scores = np.asarray(scores, dtype=float)
    return int(np.flatnonzero(scores <= scores.min() + rtol * max(scale, np.finfo(float).tiny))[0])


def _whitener(cov, rtol=1e-10):
    r"""``W`` (k x n) with :math:`W^\top W = \Sigma^{+}` on the numerical range of :math:`\Sigma`."""
    w, V = np.linalg.eigh(0.5 * (cov + cov.T))
    keep = w > rtol * max(float(w[-1]), np.finfo(float).tiny)
    return (V[:, keep] / np.sqrt(w[keep])).T


def _noise_cov(noise, X, who):
    try:
        return np.asarray(noise.moments(X).cov, dtype=float)
    except NotImplementedError as exc:
        raise TypeError(f"{who} needs a noise with a known covariance; {type(noise).__name__} has none.") from exc


class GLSRegression(_BasisAttacker):
    r"""Generalised least squares on a 1-D basis with the known covariance of the perturbation.

    With design :math:`B = B(X)` (``n x p``) and a perturbation of known
    covariance :math:`\Sigma` (up to scale: ``noise.moments(X).cov``), Aitken's estimator

    .. math::

        \hat\theta = (B^\top\Sigma^{-1}B)^{-1}B^\top\Sigma^{-1}Y

    is the best linear unbiased estimator of :math:`\theta` when
    :math:`f = B\theta`; its copy on evaluation points :math:`Z` is the linear
    smoother :math:`S = B(Z)(B^\top\Sigma^{-1}B)^{-1}B^\top\Sigma^{-1}` and,
    for zero-mean noise of covariance :math:`\Sigma` and :math:`f` in the span,

    .. math::

        E\,\frac1m\|B(Z)\hat\theta - f(Z)\|^2
        = \frac1m\operatorname{tr}\bigl(B(Z)(B^\top\Sigma^{-1}B)^{-1}B(Z)^\top\bigr)
        \;\le\; \frac1m\operatorname{tr}\bigl(B(Z)(B^\top B)^{-1}B^\top\Sigma B(B^\top B)^{-1}B(Z)^\top\bigr),

    the right side being ordinary least squares (Gauss-Markov). The estimator
    is computed by whitening, :math:`\hat\theta = (WB)^{+}WY` with
    :math:`W^\top W = \Sigma^{+}` on the numerical range of :math:`\Sigma`.
    A component of the noise along a basis column (long-range noise's
    near-constant level along the intercept) is not identifiable within one
    batch and stays.

    Parameters
    ----------
    n_terms : int or None
        Number of basis columns (``None``: :math:`\lfloor n^{1/3}\rfloor`, the
        polynomial attacker's largest order).
    noise : object with ``moments(X)``, optional
        The known perturbation law (a :class:`~modelprivacy.defenses.Defense`
        with moments, e.g. :class:`~modelprivacy.defenses.LongRangeNoise`);
        ``None`` gives ordinary least squares.
    basis : {"monomial", "legendre", "cosine"}
    interval : (float, float)
        Domain of the Legendre and cosine bases.

    Attributes
    ----------
    coef_ : ndarray of shape (p,), p the number of basis columns
    n_terms_ : int
    """

    _parameter_constraints = {
        **_BasisAttacker._parameter_constraints,
        "n_terms": [Interval(Integral, 1, None), None],
        "noise": [HasMethods("moments"), None],
    }

    def __init__(self, n_terms=None, *, noise=None, basis="monomial", interval=(0.0, 1.0)):
        self.n_terms = n_terms
        self.noise = noise
        self.basis = basis
        self.interval = interval

    def _p(self, n):
        return default_p_max(n) if self.n_terms is None else int(self.n_terms)

    def _weighted(self, X):
        """``(W B, W)`` of the queries (``W = I`` without a noise model)."""
        B = self._design(X, self._p(X.shape[0]))
        cov = None if self.noise is None else _noise_cov(self.noise, X, "GLSRegression")
        if cov is None or not np.trace(cov) > 0:  # no random part: ordinary least squares
            return B, np.eye(X.shape[0])
        W = _whitener(cov)
        return W @ B, W

    def fit(self, X, y):
        self._validate_params()
        X = check_queries(X, "X", n_features=1)
        y = check_vector(y, "y", n=X.shape[0])
        WB, W = self._weighted(X)
        self.coef_ = np.linalg.lstsq(WB, W @ y, rcond=None)[0]
        self.n_terms_ = WB.shape[1]
        return self

    def predict(self, X):
        check_is_fitted(self, "coef_")
        return self._design(X, self.n_terms_) @ self.coef_

    def smoother_matrix(self, X, Z):
        r"""Return :math:`S = B(Z)(WB)^{+}W` of shape ``(m, n)``."""
        self._validate_params()
        X = check_queries(X, "X", n_features=1)
        Z = check_queries(Z, "Z", n_features=1)
        WB, W = self._weighted(X)
        return self._design(Z, WB.shape[1]) @ (np.linalg.pinv(WB) @ W)


class GLSKernelRidge(KernelRidgeAttacker):
    r"""Kernel ridge with the known covariance of the perturbation as its ridge (a Gaussian-process mean).

    For a prior :math:`f \sim GP(0, \tau^2 k)` and answers :math:`Y = f(X) + e`,
    :math:`e \sim N(0, \Sigma)`, the posterior mean is
    :math:`\tau^2 k(Z, X)(\tau^2 K + \Sigma)^{-1}Y`. Writing
    :math:`\bar\Sigma = \Sigma / (\operatorname{tr}\Sigma/n)` (unit mean
    variance) and :math:`\alpha = (\operatorname{tr}\Sigma/n)/\tau^2`,

    .. math::

        \hat f(Z) = k(Z, X)\,(K + \alpha\bar\Sigma)^{-1}\,Y ,

    which is :class:`~modelprivacy.attacks.KernelRidgeAttacker` with ridge
    :math:`\alpha` when the noise is IID (:math:`\bar\Sigma = I`): the known
    covariance only reshapes the ridge.

    Parameters
    ----------
    kernel, alpha, gamma, degree, coef0, solver
        As in :class:`~modelprivacy.attacks.KernelRidgeAttacker`.
    noise : object with ``moments(X)``, optional
        The known perturbation law (``None``: IID, plain kernel ridge).
    """

    _parameter_constraints = {**KernelRidgeAttacker._parameter_constraints,
                              "noise": [HasMethods("moments"), None]}

    def __init__(self, kernel="rbf", *, alpha=1e-3, gamma=None, degree=3, coef0=1.0, noise=None, solver="solve"):
        self.kernel = kernel
        self.alpha = alpha
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.noise = noise
        self.solver = solver

    def _ridge(self, X):
        r"""The ridge :math:`\alpha\bar\Sigma` added to the Gram matrix by every fit of the parent class.

        ``fit``, ``smoother_matrix`` and the simulator's ``_fit_predict_many``
        all factorise :math:`K + \alpha\bar\Sigma` (Cholesky, or the pseudo-inverse).
        """
        n = X.shape[0]
        if self.noise is None:
            return float(self.alpha) * np.eye(n)
        cov = _noise_cov(self.noise, X, "GLSKernelRidge")
        scale = float(np.trace(cov)) / n
        return float(self.alpha) * (cov / scale if scale > 0 else np.zeros((n, n)))


class TruncatedPolynomialRegression(PolynomialRegression):
    r"""Polynomial order selection that refuses the top orders (aware of Order Disguise).

    Order Disguise puts the perturbation in the span of the attacker's
    :math:`p_{\max}` basis columns, along the top column and the direction that
    moves the top coefficient most. This attacker selects the order by
    AIC/BIC/BC among the first :math:`p_{\max} - r` columns only
    (:math:`r` = ``refuse``), so the top-coefficient direction -- orthogonal
    to the lower columns -- is dropped; what remains is the projection of the
    top column onto the lower ones.

    Parameters
    ----------
    p_max : int or None
        As in :class:`~modelprivacy.attacks.PolynomialRegression` (``None``:
        :math:`\lfloor n^{1/3}\rfloor`), before refusal.
    refuse : int
        Number of top orders refused (at least one column is always kept).
    criterion, basis, interval
        As in :class:`~modelprivacy.attacks.PolynomialRegression`.
    """

    _parameter_constraints = {**PolynomialRegression._parameter_constraints,
                              "refuse": [Interval(Integral, 0, None)]}

    def __init__(self, p_max=None, *, refuse=1, criterion="AIC", basis="monomial", interval=(0.0, 1.0)):
        self.p_max = p_max
        self.refuse = refuse
        self.criterion = criterion
        self.basis = basis
        self.interval = interval

    def _resolve_p_max(self, n):
        return max(super()._resolve_p_max(n) - int(self.refuse), 1)


def universal_kriging(residuals, owned, model, n):
    r"""Estimate the perturbation on every query from its values on the owned queries.

    Model :math:`e = Dc + \varepsilon`, :math:`\operatorname{Cov}\varepsilon \propto \Sigma`
    (:class:`~modelprivacy.defenses.PerturbationModel`), observed on the owned
    indices :math:`o` as :math:`r_o = Y_o - f(X_o)`. The best linear unbiased
    predictor (universal kriging) is

    .. math::

        \hat c = (D_o^\top\Sigma_{oo}^{-1}D_o)^{-1}D_o^\top\Sigma_{oo}^{-1}r_o,\qquad
        \hat e = D\hat c + \Sigma_{\cdot o}\Sigma_{oo}^{-1}(r_o - D_o\hat c),

    which reduces to least squares :math:`\hat c = D_o^{+}r_o`,
    :math:`\hat e = D\hat c` for a deterministic form (:math:`\Sigma = 0`), and
    to simple kriging :math:`\Sigma_{\cdot o}\Sigma_{oo}^{-1}r_o` without
    directions. On the owned queries :math:`\hat e_o = r_o` exactly.

    Parameters
    ----------
    residuals : ndarray of shape (k,)
        :math:`r_o`.
    owned : ndarray of int, shape (k,)
        Indices :math:`o` of the owned queries.
    model : PerturbationModel
    n : int
        Number of queries.

    Returns
    -------
    e_hat : ndarray of shape (n,)
    coef : ndarray
        :math:`\hat c` (empty without directions).

    Raises
    ------
    ValueError
        When the model has directions but no query is owned, or the
        arguments disagree in size (``owned`` must index distinct queries
        of ``n``, one residual each; the model must be of ``n`` queries).
    """
    n = check_int(n, "n", low=1)
    owned = check_indices(owned, "owned", n=n, unique=True)
    residuals = check_vector(residuals, "residuals", n=owned.size)
    # duck-typed: the defenses import the attackers, so this module does not import PerturbationModel
    if not (hasattr(model, "directions") and hasattr(model, "cov")):
        raise TypeError(f"model must be a PerturbationModel, got {type(model).__name__}.")
    for part, rows in (("directions", None if model.directions is None else model.directions.shape[0]),
                       ("cov", None if model.cov is None else model.cov.shape[0])):
        if rows is not None and rows != n:
            raise ValueError(f"model.{part} describes {rows} queries, but n={n}.")
    D, C = model.directions, model.cov
    e_hat = np.zeros(n)
    coef = np.zeros(0)
    if D is not None and owned.size == 0:
        raise ValueError("the defense's perturbation has unknown coefficients, and none of the owned "
                         "points is among the queries: send them (OwnedPointQueries).")
    if owned.size == 0:
        return e_hat, coef
    if C is None:
        if D is not None:
            coef = np.linalg.lstsq(D[owned], residuals, rcond=None)[0]
            e_hat = D @ coef
    else:
        Cinv = np.linalg.pinv(C[np.ix_(owned, owned)], hermitian=True)
        rest = residuals
        if D is not None:
            Do = D[owned]
            coef = np.linalg.pinv(Do.T @ Cinv @ Do, hermitian=True) @ (Do.T @ Cinv @ residuals)
            rest = residuals - Do @ coef
            e_hat = D @ coef
        e_hat = e_hat + C[:, owned] @ (Cinv @ rest)
    e_hat[owned] = residuals
    return e_hat, coef


class KnownDefenseAttacker(ParamsMixin, RegressorMixin, BaseEstimator):
    r"""Estimate the defense's perturbation from a few owned clean points and subtract it.

    The attacker knows the defense's *form* -- its
    :meth:`~modelprivacy.defenses.Defense.perturbation_model` on the queries:
    the constant direction of a constant shift, Order Disguise's direction,
    the top curvature directions of a linear-smoother design, the covariance
    of a random perturbation -- but not its budget :math:`\sigma`. It owns the
    clean answers :math:`f(x_j)` of a few points it sends among its queries
    (:class:`~modelprivacy.queries.OwnedPointQueries`), estimates the
    perturbation on every query by :func:`universal_kriging` from the
    residuals :math:`Y_j - f(x_j)` and fits its learner on
    :math:`Y - \hat e`. One owned point removes a constant shift or Order
    Disguise exactly (one unknown coefficient); ``k`` owned points estimate
    ``k`` coefficients.

    Parameters
    ----------
    estimator : regressor, optional
        The learner (default :class:`~modelprivacy.attacks.PolynomialRegression`).
    defense : object with ``perturbation_model(X, rng=..., n_directions=...)``, optional
        The known defense (its ``sigma`` is not used). ``None``: the learner alone.
    owned_X : array-like of shape (k, d), optional
        Points whose clean answers the attacker owns; the queries equal to
        one of them are the owned queries.
    owned_y : array-like of shape (k,), optional
        Their clean answers :math:`f(x_j)`.
    n_directions : int
        Directions of a design whose perturbation is not one fixed direction.
    random_state : None, int, SeedSequence or Generator
        Randomness of the perturbation model (e.g. a design's evaluation points).

    Attributes
    ----------
    estimator_ : regressor
    perturbation_ : ndarray of shape (n,)
        The estimated perturbation :math:`\hat e` subtracted from the answers.
    coef_ : ndarray
        Estimated coefficients :math:`\hat c` of the directions.
    n_owned_ : int
        Owned queries found among the queries.
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "defense": [HasMethods("perturbation_model"), None],
        "owned_X": ["array-like", None],
        "owned_y": ["array-like", None],
        "n_directions": [Interval(Integral, 1, None)],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, defense=None, owned_X=None, owned_y=None, n_directions=3,
                 random_state=None):
        self.estimator = estimator
        self.defense = defense
        self.owned_X = owned_X
        self.owned_y = owned_y
        self.n_directions = n_directions
        self.random_state = random_state

    def _validate_params(self):
        super()._validate_params()
        if (self.owned_X is None) != (self.owned_y is None):
            raise ValueError("owned_X and owned_y must be given together.")
        if self.owned_X is not None:
            P = check_queries(self.owned_X, "owned_X")
            check_vector(self.owned_y, "owned_y", n=P.shape[0])

    def _owned(self, X):
        """Indices of the owned queries and their clean answers."""
        if self.owned_X is None:
            return np.zeros(0, dtype=int), np.zeros(0)
        P = check_queries(self.owned_X, "owned_X", n_features=X.shape[1])
        clean = check_vector(self.owned_y, "owned_y", n=P.shape[0])
        lookup = {row.tobytes(): v for row, v in zip(P, clean)}
        idx = [i for i, row in enumerate(X) if row.tobytes() in lookup]
        return np.asarray(idx, dtype=int), np.array([lookup[X[i].tobytes()] for i in idx])

    def fit(self, X, y):
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        est = PolynomialRegression() if self.estimator is None else self.estimator
        owned, clean = self._owned(X)
        self.n_owned_ = int(owned.size)
        if self.defense is None:
            e_hat, coef = np.zeros(X.shape[0]), np.zeros(0)
        else:
            model = self.defense.perturbation_model(X, rng=check_generator(self.random_state, "random_state"),
                                                    n_directions=int(self.n_directions))
            e_hat, coef = universal_kriging(y[owned] - clean, owned, model, X.shape[0])
        self.perturbation_ = e_hat
        self.coef_ = coef
        self.estimator_ = clone(est).fit(X, y - e_hat)
        return self

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)
