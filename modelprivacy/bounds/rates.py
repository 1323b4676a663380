r"""Rates of the privacy level: least squares, nonparametric, long-range noise, tuned series."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_scalar
from ..features import basis_matrix
from ..targets import CosineSeriesTarget
from ._common import check_sizes, resolve_gamma, scalar_or_array

__all__ = [
    "long_range_mean_variance",
    "least_squares_rate",
    "nonparametric_rate",
    "long_range_rate",
    "tuned_series_privacy_level",
]


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
    :math:`\operatorname{Var}\bar\xi_n \approx 1/(1 + 2H_{n/2})
    \approx 1/(2\ln n + 0.77)` (0.1000 against the exact 0.0987 at
    ``n = 100``), decaying only logarithmically.

    Parameters
    ----------
    n : int or array-like of int
        Series length(s), ``>= 1``.
    gamma : float in (0, 1] or None

    Returns
    -------
    float or ndarray
    """
    gamma = resolve_gamma(gamma)
    ns, scalar = check_sizes(n)
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
    return scalar_or_array(out, scalar)


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
    ns, scalar = check_sizes(n, low=p)
    return scalar_or_array(sigma**2 * p / ns, scalar)


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
    ns, scalar = check_sizes(n)
    return scalar_or_array(constant * (sigma**2 / ns) ** (2.0 * s / (2.0 * s + 1.0)), scalar)


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
    gamma = resolve_gamma(gamma)
    if not asymptotic:
        return sigma**2 * long_range_mean_variance(n, gamma)
    if gamma is None:
        raise ValueError("gamma=None (1/n) has no power-law asymptote; use asymptotic=False.")
    ns, scalar = check_sizes(n)
    return scalar_or_array(sigma**2 * gamma * 2.0 ** (gamma - 1.0) * ns ** (-gamma), scalar)


def tuned_series_privacy_level(n, sigma, smoothness, *, n_eval=1000, max_terms=None, target=None):
    r"""Exact privacy level of the oracle-tuned cosine-series attacker under IID noise.

    Queries are the grid ``linspace(0, 1, n)``, evaluation points the
    midpoints ``(j - 1/2)/m``. For each number of terms ``p``,
    :math:`PL_n(p) = \frac1m\|S_py - f(Z)\|^2 + \sigma^2\|S_p\|_F^2/m`
    (:func:`~modelprivacy.bounds.iid_privacy_level`; the attacker is
    :class:`~modelprivacy.attacks.OLSRegression` with ``basis="cosine"``), computed from one QR of
    the largest design (:math:`S_p = B_Z R_p^{-1} Q_p^\top`, so
    :math:`\|S_p\|_F = \|B_Z R_p^{-1}\|_F`); the attacker takes the best ``p``.

    Parameters
    ----------
    n : int
    sigma : float > 0
    smoothness : float > 1/2
    n_eval : int
    max_terms : int, optional
        Largest ``p`` tried (default :math:`3(n/\sigma^2)^{1/(2s+1)} + 5`, at most ``n - 1``).
    target : callable, optional
        Default :class:`CosineSeriesTarget` of the given smoothness.

    Returns
    -------
    (float, int)
        The tuned privacy level and the chosen number of terms.
    """
    n = check_int(n, "n", low=3)
    sigma = check_scalar(sigma, "sigma", low=0.0, low_inclusive=False)
    s = check_scalar(smoothness, "smoothness", low=0.5, low_inclusive=False)
    m = check_int(n_eval, "n_eval", low=1)
    P = int(math.ceil(3.0 * (n / sigma**2) ** (1.0 / (2.0 * s + 1.0)))) + 5 if max_terms is None else max_terms
    P = min(check_int(P, "max_terms", low=1), n - 1)
    f = CosineSeriesTarget(s) if target is None else target
    X = np.linspace(0.0, 1.0, n)
    Z = (np.arange(m) + 0.5) / m
    y, f_Z = f(X[:, None]), f(Z[:, None])
    BX, BZ = basis_matrix(X, P, basis="cosine"), basis_matrix(Z, P, basis="cosine")
    Q, R = np.linalg.qr(BX)
    qy = Q.T @ y
    best = (math.inf, 0)
    for p in range(1, P + 1):
        A = np.linalg.solve(R[:p, :p].T, BZ[:, :p].T).T  # B_Z R_p^{-1}
        r0 = A @ qy[:p] - f_Z
        value = float(r0 @ r0) / m + sigma**2 * float(np.sum(A * A)) / m
        if value < best[0]:
            best = (value, p)
    return best
