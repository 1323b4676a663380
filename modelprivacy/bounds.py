r"""Utility-privacy bounds: exact privacy levels, rates, ceiling, frontier, minimax.

Everything here describes a *linear-smoother attacker*: its copy on ``m``
evaluation points :math:`Z` is :math:`\hat f(Z) = S\,Y` with an ``m x n``
matrix :math:`S` built from the queries alone (least squares on a basis,
kernel ridge, ridge; ``attacker.smoother_matrix(X, Z)``). Answers are
:math:`Y = y + e` with :math:`y = f(X)` and a perturbation :math:`e` of mean
:math:`\mu` and covariance :math:`\Sigma` given the queries. Write
:math:`r_0 = Sy - f(Z)` for the attacker's error without a defense.

Exact privacy level (given ``X`` and ``Z``)
    :math:`\ell(e) = \frac1m\|r_0 + Se\|^2` is a quadratic in ``e``, so its
    mean needs only the first two moments of ``e``
    (:math:`E\,e^\top A e = \mu^\top A\mu + \operatorname{tr}(A\Sigma)`):

    .. math::

        PL_n = \underbrace{\tfrac1m\|r_0\|^2}_{\text{approximation}}
             + \underbrace{\tfrac2m r_0^\top S\mu + \tfrac1m \mu^\top S^\top S\mu}_{\text{shift}}
             + \underbrace{\tfrac1m\operatorname{tr}(S^\top S\,\Sigma)}_{\text{variance}},
        \qquad U_n = \tfrac1n(\|\mu\|^2 + \operatorname{tr}\Sigma).

    See :func:`exact_privacy_level`; IID noise gives the variance term
    :math:`\sigma^2\operatorname{tr}(S^\top S)/m`, a constant shift
    :math:`\frac1m\|r_0 + \sigma S\mathbf 1\|^2` (:math:`= \sigma^2` when the
    attacker reproduces constants and ``f``), long-range noise
    :math:`\sigma^2\operatorname{tr}(S^\top S C)/m` with ``C`` its exact
    autocovariance.

Rates
    :func:`least_squares_rate` (:math:`\sigma^2p/n`),
    :func:`nonparametric_rate` (:math:`(\sigma^2/n)^{2s/(2s+1)}`),
    :func:`long_range_rate` (:math:`\sigma^2\operatorname{Var}\bar\xi_n
    \asymp \sigma^2 n^{-\gamma}`, exact at finite ``n``).

Ceiling and frontier
    :func:`privacy_ceiling` (:math:`(\sqrt{c} + \|S\|_{op}\sqrt{nu/m})^2`) and
    :func:`privacy_frontier` (:math:`PL^*(u)`, the exact trust-region optimum).

Minimax lower bound
    :func:`minimax_lower_bound` (two-point construction,
    :math:`PL^*_n(u) \ge c\,u` with :math:`c = 1` for classes closed under
    constant shifts), :func:`two_point_games` and :class:`TwoPointDefense`
    to simulate it.

References
----------
G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
Understanding Model Stealing Attacks and Defenses", arXiv:2502.15567.

J. J. Moré and D. C. Sorensen, "Computing a trust region step", SIAM J. Sci.
Stat. Comput. 4(3), 1983.

A. B. Tsybakov, *Introduction to Nonparametric Estimation*, Springer 2009
(two-point lower bounds, section 2.3; projection estimators, section 1.7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import (
    check_int,
    check_matrix,
    check_queries,
    check_scalar,
    check_symmetric,
    check_vector,
)
from .defenses import Defense, LongRangeNoise, Moments
from .design import trust_region_eigen

__all__ = [
    "ExactPrivacyLevel",
    "exact_privacy_level",
    "conditional_privacy_level",
    "iid_privacy_level",
    "constant_shift_privacy_level",
    "long_range_privacy_level",
    "long_range_mean_variance",
    "least_squares_rate",
    "nonparametric_rate",
    "long_range_rate",
    "Frontier",
    "privacy_frontier",
    "privacy_ceiling",
    "minimax_lower_bound",
    "TwoPointDefense",
    "ShiftedTarget",
    "two_point_games",
]


# --------------------------------------------------------------------------- helpers
def _weights(weights, m):
    if weights is None:
        return np.full(m, 1.0 / m)
    w = check_vector(weights, "weights", n=m)
    if np.any(w < 0):
        raise ValueError("weights must be non-negative.")
    return w


def _residual(S, y, f_Z):
    """``r0 = S y - f(Z)``, or zeros when neither ``y`` nor ``f_Z`` is given."""
    m, n = S.shape
    if (y is None) != (f_Z is None):
        raise ValueError("give both y (clean answers f(X)) and f_Z (f on the evaluation points), or neither.")
    if y is None:
        return np.zeros(m)
    y = check_vector(y, "y", n=n)
    f_Z = check_vector(f_Z, "f_Z", n=m)
    return S @ y - f_Z


def _check_budgets(budgets, name="budgets"):
    """Positive finite utility budgets as a 1-D array (and whether a scalar was given)."""
    scalar = np.ndim(budgets) == 0
    if scalar:
        return np.array([check_scalar(budgets, name, low=0.0, low_inclusive=False)]), True
    u = check_vector(budgets, name)
    if u.shape[0] == 0:
        raise ValueError(f"{name} must not be empty.")
    if np.any(u <= 0):
        raise ValueError(f"{name} must be > 0 (a utility budget u = U_n), got min {u.min():.4g}.")
    return u, False


def _check_sizes(n, name="n", low=1):
    """Query budgets as an int array (and whether a scalar was given)."""
    scalar = np.ndim(n) == 0
    values = [n] if scalar else list(np.asarray(n).ravel())
    if not values:
        raise ValueError(f"{name} must not be empty.")
    out = np.array([check_int(v, name, low=low) for v in values], dtype=float)
    return out, scalar


def _out(values, scalar):
    return float(values[0]) if scalar else values


def _resolve_gamma(gamma, name="gamma"):
    if gamma is None:
        return None
    return check_scalar(gamma, name, low=0.0, high=1.0, low_inclusive=False)


# --------------------------------------------------------------------------- exact privacy level
@dataclass(frozen=True)
class ExactPrivacyLevel:
    r"""Exact privacy level of a linear smoother given the queries and evaluation points.

    ``value = approximation + shift + variance``; ``float(pl)`` gives ``value``.

    Attributes
    ----------
    value : float
        :math:`PL_n = E[\ell \mid X, Z]`.
    approximation : float
        :math:`\frac1m\|Sy - f(Z)\|^2`, the privacy level without a defense.
    shift : float
        :math:`\frac2m r_0^\top S\mu + \frac1m\|S\mu\|^2`, due to the mean of ``e``.
    variance : float
        :math:`\frac1m\operatorname{tr}(S\Sigma S^\top)`, due to the covariance of ``e``.
    utility_loss : float
        :math:`U_n = E\,\frac1n\|e\|^2 = (\|\mu\|^2 + \operatorname{tr}\Sigma)/n`.
    """

    value: float
    approximation: float
    shift: float
    variance: float
    utility_loss: float

    def __float__(self):
        return self.value

    @property
    def privacy_gain(self):
        """:math:`PL_n/U_n` (NaN when no utility is lost)."""
        return self.value / self.utility_loss if self.utility_loss > 0 else math.nan


def _moments(defense, X, mean, cov, n):
    if defense is not None:
        if mean is not None or cov is not None:
            raise ValueError("give either defense or (mean, cov), not both.")
        if isinstance(defense, Moments):
            mom = defense
        elif isinstance(defense, Defense):
            if X is None:
                raise ValueError("a defense's moments depend on the queries: pass X.")
            X = check_queries(X, "X")
            if X.shape[0] != n:
                raise ValueError(f"X must have {n} rows (the columns of S), got {X.shape[0]}.")
            mom = defense.moments(X)
        else:
            raise TypeError(f"defense must be a Defense or a Moments, got {type(defense).__name__}.")
        mean, cov = mom.mean, mom.cov
    mean = np.zeros(n) if mean is None else check_vector(mean, "mean", n=n)
    if cov is not None:
        cov = check_symmetric(check_matrix(cov, "cov", shape=(n, n)), "cov")
    return mean, cov


def exact_privacy_level(S, y=None, f_Z=None, *, defense=None, X=None, mean=None, cov=None, weights=None):
    r"""Exact privacy level of a linear-smoother attacker given the queries.

    With :math:`\hat f(Z) = S(y + e)`, :math:`r_0 = Sy - f(Z)`,
    :math:`E\,e = \mu`, :math:`\operatorname{Cov} e = \Sigma` and evaluation
    weights :math:`W = \operatorname{diag}(w)` (default :math:`w_j = 1/m`),

    .. math::

        PL_n = E\,(r_0 + Se)^\top W (r_0 + Se)
             = r_0^\top W r_0 + 2 r_0^\top W S\mu + \mu^\top S^\top W S\mu
               + \operatorname{tr}(S^\top W S\,\Sigma),

    because :math:`E\,e^\top A e = \mu^\top A \mu + \operatorname{tr}(A\Sigma)`
    for any symmetric ``A``. Nothing else about the law of ``e`` matters.

    Parameters
    ----------
    S : array-like of shape (m, n)
        Smoother matrix, ``attacker.smoother_matrix(X, Z)``.
    y : array-like of shape (n,), optional
        Clean answers :math:`f(X)`.
    f_Z : array-like of shape (m,), optional
        Target on the evaluation points. Without ``y`` and ``f_Z`` the
        attacker is taken to reproduce ``f`` (:math:`r_0 = 0`).
    defense : Defense or Moments, optional
        Perturbation whose ``moments(X)`` give :math:`(\mu, \Sigma)`.
    X : array-like of shape (n, d), optional
        Queries, needed with a ``Defense``.
    mean : array-like of shape (n,), optional
        :math:`\mu` (default 0), when no ``defense`` is given.
    cov : array-like of shape (n, n), optional
        :math:`\Sigma` (default 0), when no ``defense`` is given.
    weights : array-like of shape (m,), optional
        Non-negative quadrature weights of the evaluation points.

    Returns
    -------
    ExactPrivacyLevel

    Raises
    ------
    ValueError
        On mismatched shapes, a non-symmetric ``cov``, or both a defense and
        explicit moments.
    """
    S = check_matrix(S, "S")
    m, n = S.shape
    w = _weights(weights, m)
    r0 = _residual(S, y, f_Z)
    mu, Sigma = _moments(defense, X, mean, cov, n)
    Smu = S @ mu
    approximation = float(r0 @ (w * r0))
    shift = float(2.0 * r0 @ (w * Smu) + Smu @ (w * Smu))
    if Sigma is None:
        variance, tr_sigma = 0.0, 0.0
    else:
        # tr(S' W S Sigma) = sum_j w_j (S Sigma S')_jj; O(mn) when Sigma is diagonal (IID)
        d = np.diag(Sigma)
        if np.count_nonzero(Sigma) == np.count_nonzero(d):
            variance = float(np.einsum("j,jk,jk,k->", w, S, S, d))
        else:
            variance = float(np.einsum("j,jk,jk->", w, S @ Sigma, S))
        tr_sigma = float(np.trace(Sigma))
    u = float((mu @ mu + tr_sigma) / n)
    return ExactPrivacyLevel(approximation + shift + variance, approximation, shift, variance, u)


def conditional_privacy_level(threat_model, X, Z):
    r"""Exact :math:`PL_n = E[\ell \mid X, Z]` of a game, given its queries and evaluation points.

    The expectation is over the defense's randomness only (through
    ``defense.moments(X)``); averaging over the simulator's draws of ``X``
    and ``Z`` gives the unconditional :math:`PL_n` (see
    :func:`modelprivacy.verify.verify`).

    Parameters
    ----------
    threat_model : ThreatModel
        Its attacker must be a linear smoother whose smoother does not depend
        on the responses (``OLSRegression``, ``KernelRidgeAttacker``), and its
        defense must expose ``moments``.
    X : array-like of shape (n, d)
    Z : array-like of shape (m, d)

    Returns
    -------
    ExactPrivacyLevel

    Raises
    ------
    TypeError
        If the attacker is not a response-independent linear smoother.
    """
    from .attacks import PolynomialRegression, is_linear_smoother

    attacker = threat_model.attacker
    if isinstance(attacker, PolynomialRegression):
        raise TypeError(
            "PolynomialRegression selects its order from the responses, so it is not a linear "
            "smoother; use OLSRegression(n_terms=...) for an exact privacy level."
        )
    if not is_linear_smoother(attacker):
        raise TypeError(f"attacker {type(attacker).__name__} has no smoother_matrix(X, Z).")
    X = check_queries(X, "X")
    Z = check_queries(Z, "Z", n_features=X.shape[1])
    if X.shape[0] != threat_model.n:
        raise ValueError(f"X must have n={threat_model.n} rows, got {X.shape[0]}.")
    S = attacker.smoother_matrix(X, Z)
    y = np.asarray(threat_model.target(X), dtype=float)
    f_Z = np.asarray(threat_model.target(Z), dtype=float)
    return exact_privacy_level(S, y, f_Z, defense=threat_model.defense, X=X)


def iid_privacy_level(S, sigma, y=None, f_Z=None, *, weights=None):
    r"""Exact privacy level under IID noise, :math:`\frac1m\|r_0\|^2 + \sigma^2\operatorname{tr}(S^\top S)/m`.

    For least squares on ``p`` basis functions evaluated on the queries
    themselves (:math:`S = \Pi_X`, ``m = n``) the variance term is exactly
    :math:`\sigma^2 p/n` (:math:`\operatorname{tr}\Pi_X = p`).

    Parameters
    ----------
    S : array-like of shape (m, n)
    sigma : float
        Noise standard deviation (:math:`U_n = \sigma^2`).
    y, f_Z, weights : as in :func:`exact_privacy_level`.

    Returns
    -------
    float
    """
    S = check_matrix(S, "S")
    sigma = check_scalar(sigma, "sigma", low=0.0)
    m, _ = S.shape
    w = _weights(weights, m)
    r0 = _residual(S, y, f_Z)
    return float(r0 @ (w * r0) + sigma**2 * np.einsum("j,jk,jk->", w, S, S))


def constant_shift_privacy_level(S, sigma, y=None, f_Z=None, *, weights=None):
    r"""Exact privacy level under the constant shift :math:`e = \sigma\mathbf 1`.

    .. math::

        PL_n = \frac1m\|r_0 + \sigma S\mathbf 1\|^2
             = c + 2\sigma\,\overline{r_0} + \sigma^2 \quad\text{if } S\mathbf 1 = \mathbf 1,

    so :math:`PL_n = \sigma^2 = U_n` for any attacker that reproduces
    constants and ``f`` (:math:`r_0 = 0`), whatever ``n``.

    Parameters
    ----------
    S, sigma, y, f_Z, weights : as in :func:`iid_privacy_level`.

    Returns
    -------
    float
    """
    S = check_matrix(S, "S")
    sigma = check_scalar(sigma, "sigma", low=0.0)
    m, n = S.shape
    w = _weights(weights, m)
    r = _residual(S, y, f_Z) + sigma * S.sum(axis=1)
    return float(r @ (w * r))


def long_range_privacy_level(S, sigma, gamma=None, y=None, f_Z=None, *, X=None, sort=False, weights=None):
    r"""Exact privacy level under long-range correlated noise :math:`e = \sigma\xi`.

    .. math::

        PL_n = \frac1m\|r_0\|^2 + \frac{\sigma^2}{m}\operatorname{tr}(S^\top S\,C_\pi),

    with :math:`C` the exact Toeplitz autocovariance of the unit-variance series
    (:func:`~modelprivacy.defenses.long_range_autocovariance`) and
    :math:`C_\pi` its rows and columns permuted when the series is laid along
    the sorted queries.

    Parameters
    ----------
    S : array-like of shape (m, n)
    sigma : float
    gamma : float in (0, 1] or None
        ``None`` gives :math:`\gamma = 1/n` (the paper's 'Corr').
    y, f_Z, weights : as in :func:`exact_privacy_level`.
    X : array-like of shape (n, 1), optional
        Queries; needed with ``sort=True``.
    sort : bool
        Series laid along the sorted queries ('CorrSort').

    Returns
    -------
    float
    """
    S = check_matrix(S, "S")
    n = S.shape[1]
    sigma = check_scalar(sigma, "sigma", low=0.0)
    _resolve_gamma(gamma)
    if sort and X is None:
        raise ValueError("sort=True lays the series along the sorted queries: pass X.")
    Xq = np.zeros((n, 1)) if X is None else check_queries(X, "X")
    defense = LongRangeNoise(sigma=sigma, gamma=gamma, sort=bool(sort))
    return exact_privacy_level(S, y, f_Z, defense=defense, X=Xq, weights=weights).value


# --------------------------------------------------------------------------- rates
def long_range_mean_variance(n, gamma=None):
    r"""Exact variance of the mean of the unit-variance long-range series.

    The series is :math:`\xi = \mathrm{irfft}(s)/\sqrt{c_0}` with independent
    Fourier coefficients of variance :math:`w_k^2 = (k/n)^{-(1-\gamma)}`
    (:math:`w_0 = w_1`, real DC and Nyquist bins of variance :math:`2w_k^2`).
    Its mean is :math:`s_0/n`, so, with :math:`K = \lfloor n/2 \rfloor`,

    .. math::

        \operatorname{Var}\bar\xi_n =
        \Bigl(1 + 2\sum_{k=1}^{K-1} k^{\gamma-1} + K^{\gamma-1}\Bigr)^{-1}
        \;(n \text{ even}),\qquad
        \Bigl(1 + 2\sum_{k=1}^{K} k^{\gamma-1}\Bigr)^{-1}\;(n \text{ odd}).

    As :math:`n \to \infty`, :math:`\sum_{k\le K} k^{\gamma-1} \sim K^\gamma/\gamma`
    gives :math:`\operatorname{Var}\bar\xi_n \sim \gamma\,2^{\gamma-1} n^{-\gamma}`
    (with the Euler-Maclaurin correction,
    :math:`(1 + 2\zeta(1-\gamma) + 2(n/2)^\gamma/\gamma)^{-1}` is accurate to
    :math:`10^{-5}` at ``n = 100``; see
    :func:`modelprivacy.symbolic.long_range_mean_variance_asymptotic`);
    :math:`\gamma = 1` is white noise (exactly :math:`1/n`). For
    :math:`\gamma = 1/n` (``None``) the sum is nearly harmonic:
    :math:`\operatorname{Var}\bar\xi_n \approx 1/(1 + 2H_{n/2} - 2/n)
    \approx 1/(2\ln n + 0.77)`, decaying only logarithmically.

    Parameters
    ----------
    n : int or array-like of int
        Series length(s), ``>= 1``.
    gamma : float in (0, 1] or None

    Returns
    -------
    float or ndarray
    """
    gamma = _resolve_gamma(gamma)
    ns, scalar = _check_sizes(n)
    out = np.empty(ns.shape[0])
    for i, ni in enumerate(ns.astype(int)):
        if ni == 1:
            out[i] = 1.0
            continue
        g = 1.0 / ni if gamma is None else gamma
        K = ni // 2
        k = np.arange(1, K + 1, dtype=float)
        terms = k ** (g - 1.0)
        if ni % 2 == 0:
            den = 1.0 + 2.0 * terms[:-1].sum() + terms[-1]
        else:
            den = 1.0 + 2.0 * terms.sum()
        out[i] = 1.0 / den
    return _out(out, scalar)


def least_squares_rate(sigma, p, n):
    r"""Privacy level of ``p``-parameter least squares under IID noise, :math:`\sigma^2 p/n`.

    Exact in the empirical norm (:math:`E\|\Pi_X e\|^2/n = \sigma^2\operatorname{tr}\Pi_X/n`),
    and :math:`\sigma^2 p/n\,(1 + o(1))` in the population norm when the
    queries follow the evaluation distribution. So :math:`PL_n/U_n = p/n \to 0`.

    Parameters
    ----------
    sigma : float
        Noise standard deviation, ``>= 0``.
    p : int
        Number of parameters, ``>= 1``.
    n : int or array-like of int
        Query budget(s), ``>= p``.

    Returns
    -------
    float or ndarray
    """
    sigma = check_scalar(sigma, "sigma", low=0.0)
    p = check_int(p, "p", low=1)
    ns, scalar = _check_sizes(n, low=p)
    return _out(sigma**2 * p / ns, scalar)


def nonparametric_rate(sigma, n, smoothness, constant=1.0):
    r"""Rate of a tuned nonparametric attacker, :math:`C(\sigma^2/n)^{2s/(2s+1)}`.

    For a target of smoothness ``s`` (Sobolev/Hölder, or coefficients
    :math:`\theta_k \asymp k^{-s-1/2}` in an orthonormal basis), a projection
    estimator with ``p`` terms has bias :math:`\asymp p^{-2s}` and variance
    :math:`\sigma^2 p/n`; balancing them at
    :math:`p \asymp (n/\sigma^2)^{1/(2s+1)}` gives the rate, which is also the
    minimax rate of regression with noise level :math:`\sigma`.

    Parameters
    ----------
    sigma : float
        Noise standard deviation, ``> 0``.
    n : int or array-like of int
    smoothness : float
        ``s > 0``.
    constant : float
        ``C > 0`` (the rate is an order, not a value).

    Returns
    -------
    float or ndarray
    """
    sigma = check_scalar(sigma, "sigma", low=0.0, low_inclusive=False)
    s = check_scalar(smoothness, "smoothness", low=0.0, low_inclusive=False)
    constant = check_scalar(constant, "constant", low=0.0, low_inclusive=False)
    ns, scalar = _check_sizes(n)
    return _out(constant * (sigma**2 / ns) ** (2.0 * s / (2.0 * s + 1.0)), scalar)


def long_range_rate(sigma, n, gamma=None, *, asymptotic=False):
    r"""Privacy floor under long-range noise, :math:`\sigma^2\operatorname{Var}\bar\xi_n \asymp \sigma^2 n^{-\gamma}`.

    The sample mean attacker has exactly this privacy level. For least squares
    on a basis containing constants, evaluated on the queries,
    :math:`\Pi_X \succeq \mathbf 1\mathbf 1^\top/n` gives
    :math:`PL_n \ge \frac{\sigma^2}{n}\operatorname{tr}(\Pi_X C) \ge \sigma^2\operatorname{Var}\bar\xi_n`:
    the intercept part of the noise is not averaged out at rate ``1/n``.

    Parameters
    ----------
    sigma : float
    n : int or array-like of int
    gamma : float in (0, 1] or None
        ``None`` gives :math:`\gamma = 1/n`.
    asymptotic : bool
        Return :math:`\sigma^2\gamma\,2^{\gamma-1}n^{-\gamma}` instead of the
        exact finite-``n`` value (:func:`long_range_mean_variance`).

    Returns
    -------
    float or ndarray
    """
    sigma = check_scalar(sigma, "sigma", low=0.0)
    gamma = _resolve_gamma(gamma)
    if not asymptotic:
        return sigma**2 * long_range_mean_variance(n, gamma)
    if gamma is None:
        raise ValueError("gamma=None (1/n) has no power-law asymptote; use asymptotic=False.")
    ns, scalar = _check_sizes(n)
    return _out(sigma**2 * gamma * 2.0 ** (gamma - 1.0) * ns ** (-gamma), scalar)


# --------------------------------------------------------------------------- ceiling and frontier
def privacy_ceiling(S, y, f_Z, budgets, *, weights=None):
    r"""Ceiling on the privacy level of any defense against a known linear smoother.

    By the triangle inequality in the evaluation norm
    :math:`\|v\|_W^2 = v^\top W v` (default :math:`\|v\|^2/m`),

    .. math::

        \ell(e) = \|r_0 + Se\|_W^2 \le \bigl(\|r_0\|_W + \|W^{1/2}S\|_{op}\|e\|\bigr)^2
        \le \Bigl(\sqrt{c} + \|S\|_{op}\sqrt{nu/m}\Bigr)^2

    whenever :math:`\frac1n\|e\|^2 \le u`, with :math:`c = \|r_0\|_W^2` the
    error without defense. The right side is concave in ``u``, so by Jensen it
    also bounds :math:`E\,\ell` of a *random* perturbation at its expected
    utility loss :math:`u = E\,U_n`. For least squares evaluated on the
    queries (:math:`S = \Pi_X`, ``m = n``) with :math:`c = 0`, it is
    :math:`PL_n \le U_n` (spec P3).

    Parameters
    ----------
    S : array-like of shape (m, n)
    y : array-like of shape (n,)
    f_Z : array-like of shape (m,)
    budgets : float or array-like
        Utility budgets ``u > 0``.
    weights : array-like of shape (m,), optional

    Returns
    -------
    float or ndarray
    """
    S = check_matrix(S, "S")
    m, n = S.shape
    w = _weights(weights, m)
    u, scalar = _check_budgets(budgets)
    r0 = _residual(S, y, f_Z)
    c = float(r0 @ (w * r0))
    op = float(np.linalg.norm(np.sqrt(w)[:, None] * S, 2))
    return _out((np.sqrt(c) + op * np.sqrt(n * u)) ** 2, scalar)


@dataclass(frozen=True)
class Frontier:
    r"""The utility-privacy frontier :math:`PL^*(u)` of a known linear smoother.

    Attributes
    ----------
    budgets : ndarray of shape (k,)
        Utility budgets ``u``.
    privacy_level : ndarray of shape (k,)
        :math:`PL^*(u) = \max_{\|e\|^2 \le nu} \ell(e)`.
    designs : ndarray of shape (n, k)
        The optimal perturbations (column ``i`` for ``budgets[i]``).
    multipliers : ndarray of shape (k,)
        Lagrange multipliers of the norm constraint.
    certified : ndarray of bool, shape (k,)
        Whether each solution passed its KKT certificate.
    approximation : float
        :math:`c = \ell(0)`, the privacy level without a defense.
    """

    budgets: np.ndarray
    privacy_level: np.ndarray
    designs: np.ndarray
    multipliers: np.ndarray
    certified: np.ndarray
    approximation: float

    @property
    def privacy_gain(self):
        """:math:`PL^*(u)/u` at each budget."""
        return self.privacy_level / self.budgets


def privacy_frontier(S, y, f_Z, budgets, *, weights=None, certificate_tol=1e-7):
    r"""Utility-privacy frontier of a known linear-smoother attacker on given queries.

    .. math::

        PL^*(u) = \max_{e:\ \frac1n\|e\|^2 \le u}\ \ell(e),\qquad
        \ell(e) = e^\top M e + 2u_0^\top e + c,

    solved globally by :func:`modelprivacy.design.trust_region` at radius
    :math:`\sqrt{nu}` (the quadratic of
    :func:`modelprivacy.design.stealing_quadratic`), restricted exactly to the
    row space of :math:`W^{1/2}S`, which holds both :math:`M` and
    :math:`u_0`: one SVD serves every budget. The certificate (KKT
    conditions in that subspace) is equivalent to the full one, since
    :math:`e` and :math:`u_0` have no component outside it.

    Notes
    -----
    The frontier bounds *every* defense, random ones included, at its
    expected utility loss: for ``e`` with second moment
    :math:`E = E\,ee^\top`, :math:`E\,\ell(e) = \operatorname{tr}(ME) + 2u_0^\top E\,e + c`
    is the objective of the SDP relaxation
    :math:`\max\{\operatorname{tr}(ME) + 2u_0^\top x + c:\ E \succeq xx^\top,\ \operatorname{tr}E \le nu\}`,
    which is tight for trust-region problems (S-lemma). Hence
    :math:`E\,\ell(e) \le PL^*(E\,U_n)`, and :math:`PL^*` is concave in ``u``.

    Parameters
    ----------
    S : array-like of shape (m, n)
        Smoother matrix of the attacker on the queries and evaluation points.
    y : array-like of shape (n,)
    f_Z : array-like of shape (m,)
    budgets : float or array-like
        Utility budgets ``u > 0``.
    weights : array-like of shape (m,), optional
    certificate_tol : float
        Tolerance of the KKT certificate check.

    Returns
    -------
    Frontier
    """
    S = check_matrix(S, "S")
    m, n = S.shape
    u, _ = _check_budgets(budgets)
    y = check_vector(y, "y", n=n)
    f_Z = check_vector(f_Z, "f_Z", n=m)
    w = _weights(weights, m)
    certificate_tol = check_scalar(certificate_tol, "certificate_tol", low=0.0)
    r0 = S @ y - f_Z
    c = float(r0 @ (w * r0))
    # M = A'A with A = W^(1/2) S and the linear term A' W^(1/2) r0 both live in the row space
    # of A: solving there (dimension rank(S) <= min(m, n)) is exact and needs one SVD for
    # all budgets, instead of one n x n eigendecomposition per budget
    A = np.sqrt(w)[:, None] * S
    _, sv, Vt = np.linalg.svd(A, full_matrices=False)
    keep = sv > (sv[0] * 1e-10 if sv.size and sv[0] > 0 else np.inf)
    V, d = Vt[keep].T, sv[keep] ** 2
    lin = V.T @ (A.T @ (np.sqrt(w) * r0))
    values, designs, lams, ok = [], [], [], []
    for ui in u:
        r = math.sqrt(n * ui)
        if d.size == 0:  # the attacker ignores its answers
            values.append(c)
            designs.append(np.zeros(n))
            lams.append(0.0)
            ok.append(True)
            continue
        b = lin
        # a linear term at round-off level (the attacker reproduces f) is zero: the solver's
        # hard-case test is relative to ||u|| and would divide by a zero gap otherwise
        if float(np.linalg.norm(b)) * r <= 1e-12 * (d[0] * r * r + c):
            b = np.zeros_like(lin)
        wv, lam = trust_region_eigen(d, b, r)[:2]
        obj = float(wv @ (d * wv) + 2.0 * b @ wv)
        values.append(obj + c)
        designs.append(V @ wv)
        lams.append(lam)
        ok.append(_diagonal_kkt(d, b, r, wv, lam) <= certificate_tol)
    return Frontier(u, np.array(values), np.column_stack(designs), np.array(lams), np.array(ok), c)


def _diagonal_kkt(d, b, r, wv, lam):
    """Largest relative KKT violation of a trust-region solution in the eigenbasis."""
    scale = max(abs(float(d.max())), abs(lam), float(np.linalg.norm(b)) / r, np.finfo(float).tiny)
    norm = float(np.linalg.norm(wv))
    return max(
        max(0.0, norm - r) / r,                                               # feasibility
        float(np.linalg.norm((lam - d) * wv - b)) / (scale * r + float(np.linalg.norm(b))),  # stationarity
        max(0.0, -lam) / scale,                                              # multiplier
        max(0.0, float(d.max()) - lam) / scale,                              # second order
        abs(lam) * abs(r * r - norm * norm) / (scale * r * r),               # slackness
    )


# --------------------------------------------------------------------------- minimax lower bound
def minimax_lower_bound(budgets, *, basis=None, X=None, Z=None, weights=None):
    r"""Two-point minimax lower bound :math:`PL^*_n(u) \ge c\,u`, valid for any attacker.

    Take a model :math:`f_0` and a direction ``g`` with
    :math:`\|g\|_n^2 = \frac1n\sum_i g(X_i)^2 = 1`, and let
    :math:`f_1 = f_0 + 2\sqrt u\,g`. If the defender answers both with the
    midpoint :math:`(f_0 + f_1)/2 = f_0 + \sqrt u\,g` (utility loss exactly
    ``u`` in either world), the attacker sees the same data in both worlds, so
    its copy :math:`\hat f` is the same, and pointwise
    :math:`(\hat f - f_0)^2 + (\hat f - f_1)^2 \ge \frac12(f_1 - f_0)^2`. Hence

    .. math::

        \max_{j} E\,\ell(\hat f, f_j) \ge \tfrac12\sum_j E\,\ell(\hat f, f_j)
        \ge \tfrac14\|f_1 - f_0\|^2_{\rm test} = u\,\|g\|^2_{\rm test},

    for any (even randomised) attacker, whenever the model class contains
    :math:`f_0` and :math:`f_1`. Maximising over directions ``g`` in a class
    :math:`G`,

    .. math::

        PL^*_n(u) \ge c\,u,\qquad c = \sup_{g \in G}\frac{\|g\|^2_{\rm test}}{\|g\|^2_n}.

    With ``G`` the constants (any class closed under constant shifts),
    :math:`c = 1`: :math:`PL^*_n(u) \ge u`, matching the ceiling of least
    squares in the empirical norm, so :math:`PL^*_n(u) \asymp u`
    independently of ``n``. With :math:`G = \operatorname{span}` of basis
    functions :math:`b(x)`, ``c`` is the top generalised eigenvalue of
    :math:`(B_Z^\top W B_Z,\ B_X^\top B_X/n)`; it exceeds 1 when the queries
    under-sample directions that the test distribution weighs (spec P5), and
    is infinite when some direction vanishes on the queries.

    Parameters
    ----------
    budgets : float or array-like
        Utility budgets ``u > 0``.
    basis : callable, optional
        ``basis(points) -> (k, ...)``-column design matrix spanning ``G``;
        default: the constants (``c = 1``).
    X : array-like of shape (n, d), optional
        Queries (needed with ``basis``).
    Z : array-like of shape (m, d), optional
        Evaluation points (needed with ``basis``).
    weights : array-like of shape (m,), optional
        Quadrature weights of ``Z`` (default ``1/m``).

    Returns
    -------
    float or ndarray
        :math:`c\,u`.
    """
    u, scalar = _check_budgets(budgets)
    if basis is None:
        if X is not None or Z is not None:
            raise ValueError("X and Z are only used with basis; the constant direction gives c = 1.")
        return _out(u.copy(), scalar)
    if not callable(basis):
        raise TypeError(f"basis must be callable (points -> design matrix), got {type(basis).__name__}.")
    if X is None or Z is None:
        raise ValueError("a basis needs the queries X and the evaluation points Z.")
    X = check_queries(X, "X")
    Z = check_queries(Z, "Z", n_features=X.shape[1])
    BX = check_matrix(basis(X), "basis(X)")
    BZ = check_matrix(basis(Z), "basis(Z)")
    if BX.shape[0] != X.shape[0] or BZ.shape[0] != Z.shape[0] or BX.shape[1] != BZ.shape[1]:
        raise ValueError(f"basis(X) {BX.shape} and basis(Z) {BZ.shape} must have one row per point "
                         "and the same columns.")
    w = _weights(weights, Z.shape[0])
    c = _top_generalised_eigenvalue(BZ.T @ (w[:, None] * BZ), BX.T @ BX / X.shape[0])
    return _out(c * u, scalar)


def _top_generalised_eigenvalue(A, B):
    """``sup_v v'Av / v'Bv`` for PSD ``A``, ``B`` (``inf`` if ``B`` misses part of ``A``)."""
    A = 0.5 * (A + A.T)
    B = 0.5 * (B + B.T)
    d, V = np.linalg.eigh(B)
    tol = max(d.max(), 0.0) * 1e-12 * B.shape[0]
    keep = d > tol
    null = V[:, ~keep]
    if null.size and np.max(np.abs(null.T @ A @ null)) > 1e-12 * max(np.max(np.abs(A)), 1e-300):
        return math.inf  # a direction invisible to the queries but not to the test norm
    T = V[:, keep] / np.sqrt(d[keep])
    return float(np.linalg.eigvalsh(T.T @ A @ T).max())


class ShiftedTarget:
    r"""The model :math:`f(x) + a\,g(x)` (picklable, for simulated two-point games).

    Parameters
    ----------
    target : callable
    amount : float
    direction : callable, optional
        ``g``; default the constant 1.
    """

    def __init__(self, target, amount, direction=None):
        if not callable(target):
            raise TypeError(f"target must be callable, got {type(target).__name__}.")
        self.target = target
        self.amount = check_scalar(amount, "amount")
        self.direction = direction

    def __call__(self, X):
        base = np.asarray(self.target(X), dtype=float)
        g = np.ones_like(base) if self.direction is None else np.asarray(self.direction(X), dtype=float)
        return base + self.amount * g

    def __repr__(self):
        return f"ShiftedTarget({self.target!r}, amount={self.amount!r}, direction={self.direction!r})"


class TwoPointDefense(Defense):
    r"""The midpoint answer of the two-point construction: :math:`e = \pm\sigma\,g(X)/\|g\|_n`.

    In world 0 (target :math:`f_0`, ``sign=+1``) and world 1 (target
    :math:`f_1 = f_0 + 2\sigma g/\|g\|_n`, ``sign=-1``) the answers are the
    same, :math:`f_0 + \sigma g/\|g\|_n`, at utility loss exactly
    :math:`\sigma^2` (``u = sigma**2``). ``scale`` fixes :math:`\|g\|_n`
    (``None``: normalise on the queries of each call).

    Parameters
    ----------
    sigma : float
        :math:`\sqrt u`.
    sign : {+1, -1}
    direction : callable, optional
        ``g``; default the constant 1.
    scale : float, optional
        :math:`\|g\|_n` to divide by.
    """

    display_name = "Two-point midpoint"

    def __init__(self, sigma=0.1, sign=1, direction=None, scale=None):
        self.sigma = sigma
        self.sign = sign
        self.direction = direction
        self.scale = scale

    def _validate(self):
        super()._validate()
        if self.sign not in (1, -1):
            raise ValueError(f"sign must be +1 or -1, got {self.sign!r}.")
        if self.scale is not None:
            check_scalar(self.scale, "scale", low=0.0, low_inclusive=False)

    def _e(self, X):
        X = check_queries(X, "X")
        g = np.ones(X.shape[0]) if self.direction is None else check_vector(
            self.direction(X), "direction(X)", n=X.shape[0])
        scale = float(np.sqrt(np.mean(g**2))) if self.scale is None else float(self.scale)
        if not scale > 0:
            raise ValueError("direction vanishes on the queries; the two worlds cannot be told apart at any cost.")
        return self.sign * float(self.sigma) * g / scale

    def perturbation(self, X, y, *, rng=None, target=None, history=None):
        return self._e(X)

    def moments(self, X):
        self._validate()
        e = self._e(X)
        return Moments(e, np.zeros((e.shape[0], e.shape[0])))


def two_point_games(threat_model, budget, *, direction=None, X=None):
    r"""The two worlds of the minimax construction, as threat models to simulate.

    World 0 keeps the target :math:`f_0` and answers
    :math:`f_0 + \sqrt u\,g/\|g\|_n`; world 1 has target
    :math:`f_1 = f_0 + 2\sqrt u\,g/\|g\|_n` and gives the same answers.
    Simulated with the same seed, both worlds see the same queries and
    evaluation points, so on *every* replication the average of the two
    stealing errors is at least :math:`u\,\|g\|_Z^2/\|g\|_n^2` (``= u`` for
    the constant direction): :func:`minimax_lower_bound` made concrete.

    Parameters
    ----------
    threat_model : ThreatModel
        Supplies :math:`f_0`, the queries, the attacker and the evaluation.
    budget : float
        ``u > 0``.
    direction : callable, optional
        ``g`` (default constant 1). A non-constant ``g`` needs a fixed design
        (e.g. ``GridQueries``): pass its queries ``X`` to fix :math:`\|g\|_n`.
    X : array-like, optional
        The fixed queries on which ``g`` is normalised.

    Returns
    -------
    (ThreatModel, ThreatModel)
    """
    u = check_scalar(budget, "budget", low=0.0, low_inclusive=False)
    root = math.sqrt(u)
    scale = 1.0
    if direction is not None:
        if X is None:
            raise ValueError("a non-constant direction needs the (fixed) queries X to normalise it.")
        g = check_vector(direction(check_queries(X, "X")), "direction(X)")
        scale = float(np.sqrt(np.mean(g**2)))
        if not scale > 0:
            raise ValueError("direction vanishes on the queries X.")
    tm0 = threat_model.replace(defense=TwoPointDefense(sigma=root, sign=1, direction=direction, scale=scale))
    f1 = ShiftedTarget(threat_model.target, 2.0 * root / scale, direction)
    tm1 = threat_model.replace(target=f1, defense=TwoPointDefense(sigma=root, sign=-1, direction=direction,
                                                                   scale=scale))
    return tm0, tm1

