"""Server models ``f`` (targets) used by the paper's regression games.

Targets are plain callables mapping queries of shape ``(n, d)`` to answers of
shape ``(n,)``; module-level functions and small classes keep them picklable
for parallel simulation.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_queries, check_vector

__all__ = ["quadratic", "krr_function", "LinearTarget", "PolynomialTarget"]


def quadratic(X):
    r"""The polynomial experiment's target :math:`f(x) = 4(x - 1/2)^2` (spec 5.1)."""
    x = check_queries(X, "X", n_features=1)[:, 0]
    return 4.0 * (x - 0.5) ** 2


def krr_function(X):
    r"""The kernel experiment's target :math:`f(x) = x - 1.2x^2 - 0.8x^3 + 0.6\cos(2\pi x)` (spec 5.2)."""
    x = check_queries(X, "X", n_features=1)[:, 0]
    return x - 1.2 * x**2 - 0.8 * x**3 + 0.6 * np.cos(2.0 * np.pi * x)


class LinearTarget:
    r"""Linear model :math:`f(x) = x^\top \beta + b`.

    Parameters
    ----------
    coef : array-like of shape (d,)
    intercept : float
    """

    def __init__(self, coef, intercept=0.0):
        self.coef = check_vector(coef, "coef")
        self.intercept = float(intercept)

    def __call__(self, X):
        X = check_queries(X, "X", n_features=self.coef.shape[0])
        return X @ self.coef + self.intercept

    def __repr__(self):
        nz = int(np.count_nonzero(self.coef))
        return f"LinearTarget(d={self.coef.shape[0]}, nonzero={nz})"


class PolynomialTarget:
    r"""1-D polynomial :math:`f(x) = \sum_j c_j x^j` (monomial coefficients, increasing order)."""

    def __init__(self, coef):
        self.coef = check_vector(coef, "coef")

    def __call__(self, X):
        x = check_queries(X, "X", n_features=1)[:, 0]
        return np.polynomial.polynomial.polyval(x, self.coef)

    def __repr__(self):
        return f"PolynomialTarget(coef={self.coef.tolist()})"
