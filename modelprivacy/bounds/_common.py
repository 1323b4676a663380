"""Argument handling shared by the bounds (evaluation weights, residuals, budgets)."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_scalar, check_vector

__all__ = []


def weights_or_uniform(weights, m):
    """Evaluation weights ``w`` (default ``1/m``), checked non-negative."""
    if weights is None:
        return np.full(m, 1.0 / m)
    w = check_vector(weights, "weights", n=m)
    if np.any(w < 0):
        raise ValueError("weights must be non-negative.")
    return w


def residual(S, y, f_Z):
    """``r0 = S y - f(Z)``, or zeros when neither ``y`` nor ``f_Z`` is given."""
    m, n = S.shape
    if (y is None) != (f_Z is None):
        raise ValueError("give both y (clean answers f(X)) and f_Z (f on the evaluation points), or neither.")
    if y is None:
        return np.zeros(m)
    y = check_vector(y, "y", n=n)
    f_Z = check_vector(f_Z, "f_Z", n=m)
    return S @ y - f_Z


def check_budgets(budgets, name="budgets"):
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


def check_sizes(n, name="n", low=1):
    """Query budgets as an int array (and whether a scalar was given)."""
    scalar = np.ndim(n) == 0
    values = [n] if scalar else list(np.asarray(n).ravel())
    if not values:
        raise ValueError(f"{name} must not be empty.")
    out = np.array([check_int(v, name, low=low) for v in values], dtype=float)
    return out, scalar


def scalar_or_array(values, scalar):
    return float(values[0]) if scalar else values


def resolve_gamma(gamma, name="gamma"):
    if gamma is None:
        return None
    return check_scalar(gamma, name, low=0.0, high=1.0, low_inclusive=False)
