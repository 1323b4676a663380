r"""Baseline regression defenses: none, IID noise, constant shift, long-range noise, a random function.

Each is calibrated to a utility budget: :math:`U_n = E\,\frac1n\|e\|^2 = \sigma^2`
(exactly for the constant shift, in expectation for the random ones), and each
exposes the mean and covariance of its perturbation given the queries
(:meth:`~modelprivacy.defenses.base.Defense.moments`), so that exact privacy
levels can be computed without simulation.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.linalg import toeplitz

from .._param_validation import Interval, Options, StrOptions
from .._validation import check_int, check_scalar, check_vector
from .base import Defense, Moments

__all__ = [
    "NoDefense",
    "IIDNoise",
    "ConstantShift",
    "LongRangeNoise",
    "GaussianProcessNoise",
    "TwoPointDefense",
    "long_range_autocovariance",
]


class NoDefense(Defense):
    """Answer the truth: ``Y = f(X)`` (utility loss 0)."""

    display_name = "No Defense"
    _parameter_constraints = {}

    def __init__(self):
        pass

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        return np.zeros(y.shape[0])

    def _moments(self, X):
        n = X.shape[0]
        return Moments(np.zeros(n), np.zeros((n, n)))


class IIDNoise(Defense):
    r"""IID Gaussian noise, :math:`e_i \sim N(0, \sigma^2)`; :math:`E\,U_n = \sigma^2`.

    ``sigma`` is a standard deviation (the authors' docstring calls it a
    variance, their code uses it as a standard deviation).
    """

    display_name = "IID Noising"

    def __init__(self, sigma=0.1):
        self.sigma = sigma

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        return float(self.sigma) * rng.standard_normal(y.shape[0])

    def _moments(self, X):
        n = X.shape[0]
        return Moments(np.zeros(n), float(self.sigma) ** 2 * np.eye(n))


class ConstantShift(Defense):
    r"""Constant shift :math:`e = \sigma\mathbf 1`; :math:`U_n = \sigma^2` exactly.

    Against any attacker whose model class contains constants and which
    recovers the truth without a defense, the copy is shifted by
    :math:`\sigma` everywhere, so :math:`PL_n = \sigma^2` whatever ``n``.
    """

    display_name = "Constant Noising"

    def __init__(self, sigma=0.1):
        self.sigma = sigma

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        return np.full(y.shape[0], float(self.sigma))

    def _moments(self, X):
        n = X.shape[0]
        return Moments(np.full(n, float(self.sigma)), np.zeros((n, n)))


def _spectral_weights(n, beta):
    """Timmer-Koenig amplitudes ``w_k = f_k^{-beta/2}``, ``f_k = k/n``, DC at ``f = 1/n``."""
    f = np.fft.rfftfreq(n)
    f[0] = 1.0 / n
    return f ** (-beta / 2.0)


def long_range_autocovariance(n, gamma=None):
    r"""Exact autocovariance of the *unit-variance* long-range series of length ``n``.

    The series is :math:`\xi = \mathrm{irfft}(s)/c_0^{1/2}` with independent
    complex Gaussian Fourier coefficients :math:`s_k` of standard deviation
    :math:`w_k = f_k^{-(1-\gamma)/2}` (real-valued DC and Nyquist bins with
    variance :math:`2w_k^2`). It is stationary (circulant) with

    .. math::

        c(h) = \frac{1}{n^2}\Bigl[2w_0^2 + 4\sum_{0<k<n/2} w_k^2 \cos\frac{2\pi kh}{n}
               + 2w_{n/2}^2(-1)^h\,\mathbb 1\{n \text{ even}\}\Bigr],

    normalised here so that :math:`c(0) = 1`.

    Parameters
    ----------
    n : int
    gamma : float in (0, 1] or None
        Long-range exponent (autocovariance decays like :math:`|h|^{-\gamma}`,
        spectrum like :math:`f^{-(1-\gamma)}`); ``None`` gives ``1/n``.

    Returns
    -------
    ndarray of shape (n,)
        ``c(0), ..., c(n-1)``.
    """
    n = check_int(n, "n", low=1)
    gamma = _resolve_gamma(gamma, n)
    w2 = _spectral_weights(n, 1.0 - gamma) ** 2
    h = np.arange(n)
    K = n // 2
    mid = np.arange(1, K if n % 2 == 0 else K + 1)
    c = 2.0 * w2[0] + 4.0 * (w2[mid][:, None] * np.cos(2 * np.pi * np.outer(mid, h) / n)).sum(axis=0)
    if n % 2 == 0 and n > 1:
        c = c + 2.0 * w2[K] * (-1.0) ** h
    return c / c[0]


def _resolve_gamma(gamma, n):
    if gamma is None:
        return 1.0 / n
    return check_scalar(gamma, "gamma", low=0.0, high=1.0, low_inclusive=False)


class LongRangeNoise(Defense):
    r"""Long-range correlated Gaussian noise, attacker-agnostic.

    :math:`e = \sigma\xi` where :math:`\xi` is a stationary Gaussian series
    with power spectrum :math:`\propto f^{-(1-\gamma)}` (Timmer and Koenig's
    method, as the authors' ``colorednoise`` call), normalised by its *exact*
    standard deviation (see :func:`long_range_autocovariance`) so that
    :math:`E\,U_n = \sigma^2` exactly. Its mean
    :math:`\bar\xi_n` has variance of order :math:`n^{-\gamma}` rather than
    :math:`1/n`, so the intercept part of the noise is not averaged out.

    Parameters
    ----------
    sigma : float
        Noise level; :math:`E\,U_n = \sigma^2`.
    gamma : float in (0, 1] or None
        ``None`` (the paper's 'Corr') gives :math:`\gamma = 1/n`, close to pink noise.
    sort : bool
        For 1-D queries, lay the series along the sorted queries, so that the
        query with the k-th smallest x gets :math:`\xi_k` and ``e`` is a rough
        random function of x ('CorrSort').
    legacy_inverse_perm : bool
        With ``sort``, reproduce the authors' code, which applies the inverse
        permutation (``e = xi[argsort(x)]``) instead.

    Notes
    -----
    A single query (a sequential game) gets :math:`\sigma N(0, 1)`, as in the
    authors' code: a one-point series carries no correlation.

    References
    ----------
    J. Timmer and M. Koenig, "On generating power law noise", Astron.
    Astrophys. 300 (1995) 707-710.
    """

    display_name = "Long-Range Correlated Noising"

    _parameter_constraints = {
        **Defense._parameter_constraints,
        "gamma": [Interval(Real, 0, 1, closed="right"), None],
        "sort": ["boolean"],
        "legacy_inverse_perm": ["boolean"],
    }

    def __init__(self, sigma=0.1, *, gamma=None, sort=False, legacy_inverse_perm=False):
        self.sigma = sigma
        self.gamma = gamma
        self.sort = sort
        self.legacy_inverse_perm = legacy_inverse_perm

    def _series(self, n, rng):
        gamma = 1.0 / n if self.gamma is None else float(self.gamma)
        w = _spectral_weights(n, 1.0 - gamma)
        re = rng.standard_normal(w.shape[0]) * w
        im = rng.standard_normal(w.shape[0]) * w
        im[0] = 0.0
        re[0] *= np.sqrt(2.0)
        if n % 2 == 0:
            im[-1] = 0.0
            re[-1] *= np.sqrt(2.0)
        xi = np.fft.irfft(re + 1j * im, n=n)
        return xi / np.sqrt(_unnormalised_c0(n, w))

    def _order(self, X):
        """Index map ``idx`` with ``e = xi[idx]`` (identity when unsorted)."""
        n = X.shape[0]
        if not self.sort or X.shape[1] != 1:
            return np.arange(n)
        perm = np.argsort(X[:, 0], kind="stable")
        if self.legacy_inverse_perm:
            return perm
        inv = np.empty(n, dtype=int)
        inv[perm] = np.arange(n)  # e[perm[k]] = xi[k]
        return inv

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        n = y.shape[0]
        if n == 1:
            return float(self.sigma) * rng.standard_normal(1)
        return float(self.sigma) * self._series(n, rng)[self._order(X)]

    def _moments(self, X):
        n = X.shape[0]
        if n == 1:
            return Moments(np.zeros(1), np.array([[float(self.sigma) ** 2]]))
        C = toeplitz(long_range_autocovariance(n, self.gamma))
        idx = self._order(X)
        return Moments(np.zeros(n), float(self.sigma) ** 2 * C[np.ix_(idx, idx)])


def _unnormalised_c0(n, w):
    """Variance of one entry of ``irfft(s)`` before normalisation."""
    w2 = w**2
    K = n // 2
    total = 2.0 * w2[0] + 4.0 * w2[1 : (K if n % 2 == 0 else K + 1)].sum()
    if n % 2 == 0:
        total += 2.0 * w2[K]
    return total / n**2


def _gaussian_root(cov):
    """A matrix ``R`` with ``R R' = cov``: Cholesky, or an eigen-root when singular (repeated queries)."""
    cov = 0.5 * (cov + cov.T)
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(cov)
        return V * np.sqrt(np.clip(w, 0.0, None))


class GaussianProcessNoise(Defense):
    r"""A random perturbation *function*: :math:`e_i = g(x_i)`, :math:`g \sim GP(0, \sigma^2 \rho)`.

    The server draws one random function :math:`g` from a stationary Gaussian
    process with correlation :math:`\rho(x, x') = k(x, x')/k(x, x)` (any
    scikit-learn pairwise kernel; RBF by default) and answers
    :math:`f(x) + g(x)`. Each :math:`g(x_i)` has variance :math:`\sigma^2`,
    so :math:`E\,U_n = \sigma^2`.

    Unlike IID noise the perturbation is a smooth function of the query, so
    repeating or averaging queries does not remove it, and an attacker that
    learns smooth functions learns :math:`f + g`. Unlike the query-dependent
    designs it needs no knowledge of the attacker, and it works *online*: in a
    sequential game each new value is drawn from the exact conditional law
    given the perturbations already served,

    .. math::

        g(x_{\rm new}) \mid g(X_{\rm old}) \sim
        N\bigl(K_{no}K_{oo}^{-1}g_o,\; K_{nn} - K_{no}K_{oo}^{-1}K_{on}\bigr),

    so a sequential game has exactly the law of the batch game, and a repeated
    query gets the same answer. The served perturbations are recovered from the
    history as :math:`Y_{\rm old} - f(X_{\rm old})`.

    Parameters
    ----------
    sigma : float
        Noise level, :math:`E\,U_n = \sigma^2`.
    kernel : str
        A stationary scikit-learn pairwise kernel (``"rbf"``, ``"laplacian"``).
    gamma : float
        Inverse squared length-scale of the kernel (``None``: scikit-learn's ``1/d``).
    jitter : float
        Relative diagonal added before factorising (numerical positive definiteness).
    """

    display_name = "Random-Function Noising"

    _parameter_constraints = {
        **Defense._parameter_constraints,
        "kernel": [StrOptions({"rbf", "laplacian"})],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "jitter": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, sigma=0.1, *, kernel="rbf", gamma=1.0, jitter=1e-10):
        self.sigma = sigma
        self.kernel = kernel
        self.gamma = gamma
        self.jitter = jitter

    def _corr(self, A, B):
        # the two stationary kernels in closed form (scikit-learn's validation
        # costs more than the kernel at the sizes of online answers)
        gamma = 1.0 / A.shape[1] if self.gamma is None else float(self.gamma)
        diff = A[:, None, :] - B[None, :, :]
        if self.kernel == "rbf":
            return np.exp(-gamma * np.einsum("ijk,ijk->ij", diff, diff))
        return np.exp(-gamma * np.abs(diff).sum(axis=2))

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        s = float(self.sigma)
        K_nn = self._corr(X, X)
        n = X.shape[0]
        if history is not None and history[0].shape[0] > 0:
            if target is None:
                raise ValueError("GaussianProcessNoise needs the target to recover earlier perturbations.")
            X_old, Y_old = history
            g_old = (np.asarray(Y_old, dtype=float) - np.asarray(target(X_old), dtype=float)) / max(s, 1e-300)
            K_oo = self._corr(X_old, X_old) + self.jitter * np.eye(X_old.shape[0])
            K_no = self._corr(X, X_old)
            L = np.linalg.cholesky(K_oo)
            A = np.linalg.solve(L, K_no.T)  # L^{-1} K_on
            mean = A.T @ np.linalg.solve(L, g_old)
            cov = K_nn - A.T @ A
        else:
            mean = np.zeros(n)
            cov = K_nn
        g = mean + _gaussian_root(cov) @ rng.standard_normal(n)
        if history is not None and history[0].shape[0] > 0:
            # a query asked before gets exactly the value served before
            same = np.all(X[:, None, :] == X_old[None, :, :], axis=2)
            hit = same.any(axis=1)
            g[hit] = g_old[same[hit].argmax(axis=1)]
        return s * g

    def _moments(self, X):
        return Moments(np.zeros(X.shape[0]), float(self.sigma) ** 2 * self._corr(X, X))


class TwoPointDefense(Defense):
    r"""The midpoint answer of the two-point construction: :math:`e = \pm\sigma\,g(X)/\|g\|_n`.

    In world 0 (target :math:`f_0`, ``sign=+1``) and world 1 (target
    :math:`f_1 = f_0 + 2\sigma g/\|g\|_n`, ``sign=-1``) the answers are the
    same, :math:`f_0 + \sigma g/\|g\|_n`, at utility loss exactly
    :math:`\sigma^2` (``u = sigma**2``); see
    :func:`modelprivacy.bounds.two_point_games`. ``scale`` fixes
    :math:`\|g\|_n` (``None``: normalise on the queries of each call).

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
    _parameter_constraints = {
        **Defense._parameter_constraints,
        "sign": [Options({1, -1})],
        "direction": [callable, None],
        "scale": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, sigma=0.1, *, sign=1, direction=None, scale=None):
        self.sigma = sigma
        self.sign = sign
        self.direction = direction
        self.scale = scale

    def _e(self, X):
        g = np.ones(X.shape[0]) if self.direction is None else check_vector(
            self.direction(X), "direction(X)", n=X.shape[0])
        scale = float(np.sqrt(np.mean(g**2))) if self.scale is None else float(self.scale)
        if not scale > 0:
            raise ValueError("direction vanishes on the queries; the two worlds cannot be told apart at any cost.")
        return self.sign * float(self.sigma) * g / scale

    def _perturbation(self, X, y, *, rng=None, target=None, history=None):
        return self._e(X)

    def _moments(self, X):
        e = self._e(X)
        return Moments(e, np.zeros((e.shape[0], e.shape[0])))
