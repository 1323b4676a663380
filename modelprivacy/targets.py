r"""Server models ``f`` (targets) of the regression games.

A target maps queries of shape ``(n, d)`` to clean answers of shape ``(n,)``
(``target(X)``). Targets follow the package's parameter protocol
(:mod:`modelprivacy.base`): ``get_params``, ``set_params``, ``clone``, value
equality; they are small picklable objects, so games run in worker processes.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from ._param_validation import Interval
from ._validation import check_queries, check_vector
from .base import ParamsMixin
from .features import basis_matrix

__all__ = [
    "Target",
    "QuadraticTarget",
    "CubicCosineTarget",
    "LinearTarget",
    "PolynomialTarget",
    "CosineSeriesTarget",
    "ShiftedTarget",
    "TARGETS",
]


class Target(ParamsMixin, BaseEstimator):
    """Base class of targets: ``target(X)`` validates ``X`` and evaluates :meth:`_evaluate`.

    Subclasses implement ``_evaluate(X)`` on a validated ``(n, d)`` array and
    set ``n_features`` (``None``: any dimension).
    """

    #: required input dimension (None: any)
    n_features = 1

    def _n_features(self):
        return self.n_features

    def __call__(self, X):
        """Clean answers ``f(X)``, shape ``(n,)``."""
        self._validate_params()
        X = check_queries(X, "X", n_features=self._n_features())
        return self._evaluate(X)

    def _evaluate(self, X):
        raise NotImplementedError


class QuadraticTarget(Target):
    r"""The polynomial game's target :math:`f(x) = a\,(x - c)^2`, by default :math:`4(x - 1/2)^2` (spec 5.1).

    Parameters
    ----------
    center : float
        ``c``.
    scale : float
        ``a``.
    """

    _parameter_constraints = {"center": [Interval(Real, None, None)], "scale": [Interval(Real, None, None)]}

    def __init__(self, center=0.5, *, scale=4.0):
        self.center = center
        self.scale = scale

    def _evaluate(self, X):
        return float(self.scale) * (X[:, 0] - float(self.center)) ** 2


class CubicCosineTarget(Target):
    r"""The kernel game's target :math:`f(x) = x - 1.2x^2 - 0.8x^3 + 0.6\cos(2\pi x)` (spec 5.2)."""

    def __init__(self):
        pass

    def _evaluate(self, X):
        x = X[:, 0]
        return x - 1.2 * x**2 - 0.8 * x**3 + 0.6 * np.cos(2.0 * np.pi * x)


class LinearTarget(Target):
    r"""Linear model :math:`f(x) = x^\top \beta + b`.

    Parameters
    ----------
    coef : array-like of shape (d,)
        :math:`\beta`.
    intercept : float
        :math:`b`.
    """

    _parameter_constraints = {"coef": ["array-like"], "intercept": [Interval(Real, None, None)]}

    def __init__(self, coef, *, intercept=0.0):
        self.coef = coef
        self.intercept = intercept

    def _validate_params(self):
        super()._validate_params()
        check_vector(self.coef, "coef")

    def _n_features(self):
        return np.asarray(self.coef).shape[0]

    def _evaluate(self, X):
        return X @ np.asarray(self.coef, dtype=float) + float(self.intercept)


class PolynomialTarget(Target):
    r"""1-D polynomial :math:`f(x) = \sum_j c_j x^j` (monomial coefficients, increasing order).

    Parameters
    ----------
    coef : array-like of shape (p,)
    """

    _parameter_constraints = {"coef": ["array-like"]}

    def __init__(self, coef):
        self.coef = coef

    def _validate_params(self):
        super()._validate_params()
        check_vector(self.coef, "coef")

    def _evaluate(self, X):
        return np.polynomial.polynomial.polyval(X[:, 0], np.asarray(self.coef, dtype=float))


class CosineSeriesTarget(Target):
    r"""Target :math:`f(x) = \sum_{k=1}^{K} k^{-s-1/2}\sqrt2\cos(\pi kx)` of smoothness ``s``.

    Its squared tail beyond ``p`` terms is
    :math:`\sum_{k\ge p} k^{-2s-1} \asymp p^{-2s}/(2s)`: it sits on the
    boundary of the Sobolev class of order ``s``, so no projection estimator
    beats the rate :math:`(\sigma^2/n)^{2s/(2s+1)}` on it.

    Parameters
    ----------
    smoothness : float
        ``s > 1/2`` (so that the series converges uniformly).
    n_terms : int
        ``K``.
    """

    _parameter_constraints = {
        "smoothness": [Interval(Real, 0.5, None, closed="neither")],
        "n_terms": [Interval(Integral, 1, None)],
    }

    def __init__(self, smoothness=1.0, *, n_terms=1000):
        self.smoothness = smoothness
        self.n_terms = n_terms

    def _evaluate(self, X):
        k = np.arange(1, int(self.n_terms) + 1)
        return basis_matrix(X, int(self.n_terms) + 1, basis="cosine")[:, 1:] @ (k ** (-(float(self.smoothness) + 0.5)))


class ShiftedTarget(Target):
    r"""The model :math:`f(x) + a\,g(x)` (the second world of a two-point construction).

    Parameters
    ----------
    target : callable
        ``f``.
    amount : float
        ``a``.
    direction : callable, optional
        ``g``; default the constant 1.
    """

    n_features = None
    _parameter_constraints = {"target": [callable], "amount": [Interval(Real, None, None)],
                              "direction": [callable, None]}

    def __init__(self, target, *, amount=0.0, direction=None):
        self.target = target
        self.amount = amount
        self.direction = direction

    def _evaluate(self, X):
        base = np.asarray(self.target(X), dtype=float)
        g = np.ones_like(base) if self.direction is None else np.asarray(self.direction(X), dtype=float)
        return base + float(self.amount) * g


#: registry name -> target class (the paper games' targets and the generic ones)
TARGETS = {
    "quadratic": QuadraticTarget,
    "cubic_cosine": CubicCosineTarget,
    "linear": LinearTarget,
    "polynomial": PolynomialTarget,
    "cosine_series": CosineSeriesTarget,
    "shifted": ShiftedTarget,
}
