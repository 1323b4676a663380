r"""Regression learning algorithms (attackers).

Every attacker is a scikit-learn regressor (``fit(X, Y)``, ``predict(Z)``), so
any scikit-learn regressor can be passed wherever an attacker is expected.
Attackers that are *linear smoothers* -- their predictions on evaluation
points :math:`Z` are :math:`\hat f(Z) = S\,Y` with :math:`S` built from the
queries alone -- also implement ``smoother_matrix(X, Z)``; the optimal designs
and the exact bounds are built on it. Attackers that can fit many answer
vectors on the same queries at once implement ``fit_predict_many(X, Y, Z)``,
which the simulator uses to fit every defense of a replication together.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.linalg.lapack import dtrtrs
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._memory import check_memory, memory_bytes
from .._param_validation import Interval, StrOptions
from .._validation import check_interval, check_queries, check_vector
from ..base import ParamsMixin
from ..features import BASES, KERNELS, _basis_matrix, default_p_max, kernel_matrix

__all__ = [
    "PolynomialRegression",
    "OLSRegression",
    "KernelRidgeAttacker",
    "is_linear_smoother",
    "CRITERIA",
    "KERNEL_RIDGE_CONSTRAINTS",
]

CRITERIA = ("AIC", "BIC", "BC")

#: constraints of a kernel ridge model's kernel and ridge (the attacker's and the designs that model it)
KERNEL_RIDGE_CONSTRAINTS = {
    "kernel": [StrOptions(set(KERNELS)), callable],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "gamma": [Interval(Real, 0, None, closed="neither"), None],
    "degree": [Interval(Real, 0, None, closed="left")],
    "coef0": [Interval(Real, None, None)],
}


def is_linear_smoother(attacker):
    """True when ``attacker`` exposes ``smoother_matrix(X, Z)``."""
    return callable(getattr(attacker, "smoother_matrix", None))


class _BasisAttacker(ParamsMixin, RegressorMixin, BaseEstimator):
    """Shared parts of the least-squares attackers on a 1-D basis."""

    _parameter_constraints = {"basis": [StrOptions(set(BASES))]}

    def _validate_params(self):
        super()._validate_params()
        check_interval(*self.interval, name="interval")

    def _design(self, X, n_terms):
        # X is validated by the public entry; the basis and interval by _validate_params
        return _basis_matrix(np.asarray(X, dtype=float).reshape(-1), int(n_terms), self.basis, *map(float, self.interval))

    def _projection(self, X, Z, p):
        return self._design(Z, p) @ np.linalg.pinv(self._design(X, p))


class OLSRegression(_BasisAttacker):
    r"""Ordinary least squares on a fixed 1-D basis with ``n_terms`` columns.

    The fit is :math:`\hat\theta = B(X)^+ Y`, a projection, so the copy on
    evaluation points is the linear smoother :math:`S = B(Z)\,B(X)^+`. With
    ``basis="cosine"`` it is the projection estimator of a smoothness class
    (the tuned-series attacker of :func:`modelprivacy.bounds.tuned_series_privacy_level`).

    Parameters
    ----------
    n_terms : int
        Number of basis columns ``p`` (intercept included).
    basis : {"monomial", "legendre", "cosine"}
    interval : (float, float)
        Domain of the Legendre and cosine bases.
    """

    _parameter_constraints = {**_BasisAttacker._parameter_constraints,
                              "n_terms": [Interval(Integral, 1, None)]}

    def __init__(self, n_terms=3, *, basis="monomial", interval=(0.0, 1.0)):
        self.n_terms = n_terms
        self.basis = basis
        self.interval = interval

    def fit(self, X, y):
        self._validate_params()
        X = check_queries(X, "X", n_features=1)
        y = check_vector(y, "y", n=X.shape[0])
        p = int(self.n_terms)
        self.coef_ = np.linalg.lstsq(self._design(X, p), y, rcond=None)[0]
        self.n_terms_ = p
        return self

    def predict(self, X):
        check_is_fitted(self, "coef_")
        return self._design(check_queries(X, "X", n_features=1), self.n_terms_) @ self.coef_

    def fit_predict_many(self, X, Y, Z):
        """``fit(X, Y[:, j]).predict(Z)`` for every column of ``Y`` (n, D), as (m, D)."""
        self._validate_params()
        X = check_queries(X, "X", n_features=1)
        Y = _check_answers(Y, X.shape[0])
        return self._fit_predict_many(X, Y, check_queries(Z, "Z", n_features=1))

    def _fit_predict_many(self, X, Y, Z):
        p = int(self.n_terms)
        pinv, BZ = np.linalg.pinv(self._design(X, p)), self._design(Z, p)
        out = np.empty((Z.shape[0], Y.shape[1]))
        for j in range(Y.shape[1]):  # column by column: a copy does not depend on the other columns
            out[:, j] = BZ @ (pinv @ np.ascontiguousarray(Y[:, j]))
        return out

    def smoother_matrix(self, X, Z):
        """Return ``S`` (m, n) with ``predict(Z) = S @ Y`` after ``fit(X, Y)``."""
        self._validate_params()
        return self._projection(check_queries(X, "X", n_features=1), check_queries(Z, "Z", n_features=1),
                                int(self.n_terms))


def _check_answers(Y, n):
    """Answers as an ``(n, D)`` finite array (one column per answer vector)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"Y must have shape ({n}, D), one row per query, got {Y.shape}.")
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y contains NaN or infinite values.")
    return Y


class PolynomialRegression(_BasisAttacker):
    r"""Polynomial regression with the order chosen by AIC, BIC or the bridge criterion.

    For :math:`i = 0, \dots, p_{\max}-1` fit OLS on the first :math:`i+1`
    basis columns with in-sample mean squared error :math:`\mathrm{MSE}_i`, score

    .. math::

        \mathrm{AIC}_i &= \mathrm{MSE}_i\,\bigl(1 + \tfrac{2i}{n-i-1}\bigr),\\
        \mathrm{BIC}_i &= \mathrm{MSE}_i\,\bigl(1 + \tfrac{i\log n}{n-i-1}\bigr),\\
        \mathrm{BC}_i &= \log \mathrm{MSE}_i + \tfrac{2 p_{\max}}{n} \textstyle\sum_{j=1}^{i} 1/j,

    and refit with the minimising order. Orders with :math:`n - i - 1 \le 0`
    are not candidates (the authors' code divides by zero there). When the
    fit is exact (:math:`\mathrm{MSE}_i = 0`) the smallest exact order wins.

    Parameters
    ----------
    p_max : int or None
        Number of candidate orders; ``None`` gives
        :math:`\lfloor n^{1/3} \rfloor` at fit time, as in the paper.
    criterion : {"AIC", "BIC", "BC"}
    basis : {"monomial", "legendre"}
    interval : (float, float)
        Domain of the Legendre basis.

    Attributes
    ----------
    n_terms_ : int
        Selected number of columns (order + 1).
    scores_ : ndarray
        Criterion value of each candidate (``inf`` where not a candidate).

    References
    ----------
    J. Ding, V. Tarokh and Y. Yang, "Bridging AIC and BIC: a new criterion for
    autoregression", IEEE Trans. Inf. Theory 64(6), 2018.
    """

    _parameter_constraints = {
        "p_max": [Interval(Integral, 1, None), None],
        "criterion": [StrOptions(set(CRITERIA))],
        "basis": [StrOptions({"monomial", "legendre"})],
    }

    def __init__(self, p_max=None, *, criterion="AIC", basis="monomial", interval=(0.0, 1.0)):
        self.p_max = p_max
        self.criterion = criterion
        self.basis = basis
        self.interval = interval

    def _resolve_p_max(self, n):
        return default_p_max(n) if self.p_max is None else int(self.p_max)

    def _factor(self, X):
        """What every answer vector on these queries shares: the design, its QR, the criterion's terms."""
        n = X.shape[0]
        if n < 2:
            raise ValueError(f"PolynomialRegression needs n >= 2 queries, got n={n}.")
        p_max = self._resolve_p_max(n)
        B = self._design(X, p_max)
        Q, R = np.linalg.qr(B)
        # candidates i = 0..k-1 with n - i - 1 > 0 (the authors' criterion divides by zero otherwise)
        k = min(p_max, n - 1)
        i = np.arange(k)
        if self.criterion == "AIC":
            term = 1.0 + 2.0 * i / (n - i - 1.0)       # score = MSE * term
        elif self.criterion == "BIC":
            term = 1.0 + np.log(n) * i / (n - i - 1.0)
        else:                                           # score = log MSE + term
            term = 2.0 * np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, p_max + 1))])[:k] * p_max / n
        diag = np.abs(np.diag(R))
        return {"B": B, "QT": np.ascontiguousarray(Q.T[:k]), "R": R, "p_max": p_max, "k": k, "term": term,
                "diag": diag, "n": n}

    def _select(self, factor, y):
        """Order selection and coefficients for one answer vector ``y`` (n,).

        One QR serves every nested fit: the first i+1 columns of Q span the
        first i+1 basis columns. Every answer vector goes through exactly these
        operations, so a copy does not depend on which others share the
        factorisation (down to the last bit).

        Returns
        -------
        (int, ndarray, ndarray)
            Selected number of columns, coefficients, scores of all candidates.
        """
        QT, k, n, p_max = factor["QT"], factor["k"], factor["n"], factor["p_max"]
        qy = QT @ y
        # residuals of all nested fits, formed explicitly (not as ||y||^2 - sum qy^2,
        # which would lose exact fits to cancellation)
        resid = y - np.cumsum(QT * qy[:, None], axis=0)
        mses = np.einsum("ki,ki->k", resid, resid) / n
        if self.criterion == "BC":
            with np.errstate(divide="ignore"):
                scores = np.log(mses) + factor["term"]
        else:
            scores = mses * factor["term"]
        # an exact fit scores 0 (or -inf): the smallest exact order wins
        exact = np.flatnonzero(mses <= 1e-28 * max(float(y @ y) / n, 1e-300))
        kk = int(exact[0] if exact.size else scores.argmin()) + 1
        diag = factor["diag"][:kk]
        if diag.min() > 1e-12 * max(diag.max(), 1e-300) * np.sqrt(n):
            coef = dtrtrs(factor["R"][:kk, :kk], qy[:kk])[0]  # LAPACK's back substitution (as solve_triangular)
        else:  # repeated query points: the minimum-norm solution
            coef = np.linalg.lstsq(factor["B"][:, :kk], y, rcond=None)[0]
        return kk, coef, np.concatenate([scores, np.full(p_max - k, np.inf)])

    def fit(self, X, y):
        self._validate_params()
        X = check_queries(X, "X", n_features=1)
        y = check_vector(y, "y", n=X.shape[0])
        factor = self._factor(X)
        self.n_terms_, self.coef_, self.scores_ = self._select(factor, y)
        self.p_max_ = factor["p_max"]
        return self

    def fit_predict_many(self, X, Y, Z):
        """Fit one copy per column of ``Y`` (n, D) and predict on ``Z``: (m, D).

        Equivalent to ``fit(X, Y[:, j]).predict(Z)`` for each ``j``, sharing
        the QR decomposition of the design across columns; each column's copy is
        computed by the same operations whatever the other columns.
        """
        self._validate_params()
        X = check_queries(X, "X", n_features=1)
        Y = _check_answers(Y, X.shape[0])
        return self._fit_predict_many(X, Y, check_queries(Z, "Z", n_features=1))

    def _fit_predict_many(self, X, Y, Z):
        factor = self._factor(X)
        BZ = self._design(Z, factor["p_max"])
        out = np.empty((Z.shape[0], Y.shape[1]))
        for j in range(Y.shape[1]):
            k, coef, _ = self._select(factor, np.ascontiguousarray(Y[:, j]))
            out[:, j] = BZ[:, :k] @ coef
        return out

    def predict(self, X):
        check_is_fitted(self, "coef_")
        return self._design(check_queries(X, "X", n_features=1), self.n_terms_) @ self.coef_

    def smoother_matrix(self, X, Z, n_terms=None):
        """Smoother of the fit at a *fixed* order.

        Order selection depends on the responses, so the AIC/BIC/BC attacker is
        a linear smoother only once the order is fixed: ``n_terms`` defaults to
        the order selected by the last ``fit`` (or ``p_max`` if not fitted).
        """
        self._validate_params()
        X = check_queries(X, "X", n_features=1)
        if n_terms is None:
            n_terms = getattr(self, "n_terms_", None)
        if n_terms is None:
            n_terms = self._resolve_p_max(X.shape[0])
        if isinstance(n_terms, bool) or not isinstance(n_terms, Integral) or n_terms < 1:
            raise ValueError(f"n_terms must be an int >= 1, got {n_terms!r}.")
        return self._projection(X, check_queries(Z, "Z", n_features=1), int(n_terms))


class KernelRidgeAttacker(ParamsMixin, RegressorMixin, BaseEstimator):
    r"""Kernel ridge regression, :math:`\hat f(z) = k(z, X)\,(K + \alpha I)^{-1} Y`.

    A linear smoother with :math:`S = k(Z, X)(K + \alpha I)^{-1}`. The authors'
    attacker computes the dual coefficients with a pseudo-inverse; ``solver``
    selects ``"solve"`` (default: a Cholesky solve, the same estimator when
    :math:`K + \alpha I` is positive definite -- always for a positive
    semi-definite kernel and :math:`\alpha > 0` -- and an order of magnitude
    faster; the pseudo-inverse is used when :math:`\alpha = 0` or the
    factorisation fails) or ``"pinv"`` (theirs).

    Parameters
    ----------
    kernel : str or callable
        Any name of :func:`sklearn.metrics.pairwise.pairwise_kernels`
        (``"rbf"``, ``"poly"``, ``"laplacian"``, ...), or ``kernel(A, B)``.
    alpha : float
        Ridge added to the Gram matrix (no factor ``n``).
    gamma, degree, coef0 : kernel parameters (``None`` uses scikit-learn's default
        ``gamma = 1/d``).
    solver : {"pinv", "solve"}
    """

    _parameter_constraints = {**KERNEL_RIDGE_CONSTRAINTS, "solver": [StrOptions({"pinv", "solve"})]}

    def __init__(self, kernel="rbf", *, alpha=1e-3, gamma=None, degree=3, coef0=1.0, solver="solve"):
        self.kernel = kernel
        self.alpha = alpha
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.solver = solver

    def _kernel(self, A, B):
        return kernel_matrix(A, B, self.kernel, gamma=self.gamma, degree=self.degree, coef0=self.coef0)

    def _ridge(self, X):
        r"""The matrix added to the Gram matrix, :math:`\alpha I`."""
        return float(self.alpha) * np.eye(X.shape[0])

    @staticmethod
    def _check_memory(kind, n, m=0):
        """MemoryError before the Gram matrices are built when the measured peak does not fit."""
        check_memory(memory_bytes(kind, n, m), f"KernelRidgeAttacker ({kind.removeprefix('krr_')}, n={n}, m={m})",
                     need=lambda k: memory_bytes(kind, k, m),
                     hint="Kernel ridge needs the n x n Gram matrix; use fewer queries.")

    def _solver(self, X):
        r"""A function ``b -> (K + \alpha I)^{-1} b`` (Cholesky, or the pseudo-inverse)."""
        alpha = float(self.alpha)
        A = self._kernel(X, X) + self._ridge(X)
        if self.solver == "solve" and alpha > 0:
            try:
                factor = cho_factor(A, lower=True, check_finite=False)
                return lambda b: cho_solve(factor, b, check_finite=False)
            except np.linalg.LinAlgError:
                pass  # not numerically positive definite: use the pseudo-inverse
        inverse = np.linalg.pinv(A, hermitian=True)
        return lambda b: inverse @ b

    def _solve(self, X, B):
        r"""Return :math:`(K + \alpha I)^{-1} B` (or the pseudo-inverse times ``B``)."""
        return self._solver(X)(B)

    def fit(self, X, y):
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        self._check_memory("krr_fit", X.shape[0])
        self.X_fit_ = X
        self.dual_coef_ = self._solve(X, y)
        return self

    def predict(self, X):
        check_is_fitted(self, "dual_coef_")
        Z = check_queries(X, "X", n_features=self.X_fit_.shape[1])
        self._check_memory("krr_predict", self.X_fit_.shape[0], Z.shape[0])
        return self._kernel(Z, self.X_fit_) @ self.dual_coef_

    def fit_predict_many(self, X, Y, Z):
        """``fit(X, Y[:, j]).predict(Z)`` for every column of ``Y`` (n, D), as (m, D).

        The regularised Gram matrix is inverted once for all columns.
        """
        self._validate_params()
        X = check_queries(X, "X")
        Y = _check_answers(Y, X.shape[0])
        Z = check_queries(Z, "Z", n_features=X.shape[1])
        self._check_memory("krr_predict_many", X.shape[0], Z.shape[0])
        return self._fit_predict_many(X, Y, Z)

    def _fit_predict_many(self, X, Y, Z):
        solve, KZX = self._solver(X), self._kernel(Z, X)
        out = np.empty((Z.shape[0], Y.shape[1]))
        for j in range(Y.shape[1]):  # column by column: a copy does not depend on the other columns
            out[:, j] = KZX @ solve(np.ascontiguousarray(Y[:, j]))
        return out

    def smoother_matrix(self, X, Z):
        """Return ``S = k(Z, X)(K + alpha I)^{-1}`` of shape ``(m, n)``."""
        self._validate_params()
        X = check_queries(X, "X")
        Z = check_queries(Z, "Z", n_features=X.shape[1])
        self._check_memory("krr_smoother", X.shape[0], Z.shape[0])
        return self._kernel(Z, X) @ self._solve(X, np.eye(X.shape[0]))
