r"""Exact privacy levels of linear-smoother attackers given the queries.

With :math:`\hat f(Z) = S(y + e)`, :math:`r_0 = Sy - f(Z)`, :math:`E\,e = \mu`
and :math:`\operatorname{Cov} e = \Sigma`,

.. math::

    PL_n = \underbrace{\tfrac1m\|r_0\|^2}_{\text{approximation}}
         + \underbrace{\tfrac2m r_0^\top S\mu + \tfrac1m \mu^\top S^\top S\mu}_{\text{shift}}
         + \underbrace{\tfrac1m\operatorname{tr}(S^\top S\,\Sigma)}_{\text{variance}},
    \qquad U_n = \tfrac1n(\|\mu\|^2 + \operatorname{tr}\Sigma).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_covariance, check_matrix, check_queries, check_scalar, check_vector
from ..attacks.regression import PolynomialRegression, is_linear_smoother
from ..defenses import Defense, LongRangeNoise, Moments
from ._common import residual, resolve_gamma, weights_or_uniform

__all__ = [
    "ExactPrivacyLevel",
    "exact_privacy_level",
    "conditional_privacy_level",
    "iid_privacy_level",
    "constant_shift_privacy_level",
    "long_range_privacy_level",
]


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
    """``(mu, Sigma)`` from a defense, a Moments or explicit arrays; a given covariance is checked PSD."""
    if defense is not None:
        if mean is not None or cov is not None:
            raise ValueError("give either defense or (mean, cov), not both.")
        if isinstance(defense, Moments):
            # built by the caller: checked like explicit moments
            return _moments(None, None, defense.mean, defense.cov, n)
        if not isinstance(defense, Defense):
            raise TypeError(f"defense must be a Defense or a Moments, got {type(defense).__name__}.")
        if X is None:
            raise ValueError("a defense's moments depend on the queries: pass X.")
        X = check_queries(X, "X")
        if X.shape[0] != n:
            raise ValueError(f"X must have {n} rows (the columns of S), got {X.shape[0]}.")
        mom = defense.moments(X)
        return mom.mean, mom.cov
    mean = np.zeros(n) if mean is None else check_vector(mean, "mean", n=n)
    if cov is not None:
        cov = check_covariance(cov, "cov", n=n)
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
    w = weights_or_uniform(weights, m)
    r0 = residual(S, y, f_Z)
    mu, Sigma = _moments(defense, X, mean, cov, n)
    Smu = S @ mu
    approximation = float(r0 @ (w * r0))
    # approximation + shift = ||r0 + S mu||_W^2 >= 0: a round-off excess below it is cut
    shift = max(float(2.0 * r0 @ (w * Smu) + Smu @ (w * Smu)), -approximation)
    if Sigma is None:
        variance, tr_sigma = 0.0, 0.0
    else:
        # tr(S' W S Sigma) = sum_j w_j (S Sigma S')_jj; O(mn) when Sigma is diagonal (IID)
        d = np.diag(Sigma)
        if np.count_nonzero(Sigma) == np.count_nonzero(d):
            variance = float(np.einsum("j,jk,jk,k->", w, S, S, d))
        else:
            variance = float(np.einsum("j,jk,jk->", w, S @ Sigma, S))
        # >= 0 for a PSD Sigma; a round-off negative is 0
        variance = max(variance, 0.0)
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
    w = weights_or_uniform(weights, m)
    r0 = residual(S, y, f_Z)
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
    w = weights_or_uniform(weights, m)
    r = residual(S, y, f_Z) + sigma * S.sum(axis=1)
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
    resolve_gamma(gamma)
    if sort and X is None:
        raise ValueError("sort=True lays the series along the sorted queries: pass X.")
    Xq = np.zeros((n, 1)) if X is None else check_queries(X, "X")
    defense = LongRangeNoise(sigma=sigma, gamma=gamma, sort=bool(sort))
    return exact_privacy_level(S, y, f_Z, defense=defense, X=Xq, weights=weights).value
