r"""Metrics of the Model Privacy framework (regression).

* stealing error :math:`\ell(\hat f_n, f) = \int (\hat f_n - f)^2\,dP_{\rm test}`,
  estimated on fresh evaluation points against the *noise-free* target;
* utility loss :math:`U_n = \frac1n \sum_i (Y_i - f(X_i))^2`;
* privacy level :math:`PL_n = E\,\ell(\hat f_n, f)`, estimated by the mean over
  replications, with a 95% Student-t confidence interval;
* privacy gain, in the two candidate forms of the spec:
  (a) :math:`PL_n/U_n` (privacy per unit of utility lost, the default) and
  (b) :math:`PL_n(M)/PL_n(\text{no defense})`, undefined when the undefended
  attacker steals perfectly (reported, not divided by zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit

from ._validation import check_scalar, check_vector

__all__ = [
    "stealing_error",
    "utility_loss",
    "privacy_level",
    "PrivacyLevel",
    "mean_interval",
    "MeanInterval",
    "privacy_gain",
    "PrivacyGain",
]


def stealing_error(y_pred, y_true):
    r"""Mean squared error :math:`\frac1m\sum_j (\hat f(z_j) - f(z_j))^2` on evaluation points."""
    y_true = check_vector(y_true, "y_true")
    y_pred = check_vector(y_pred, "y_pred", n=y_true.shape[0])
    d = y_pred - y_true
    return float(d @ d) / d.shape[0]


def utility_loss(Y, y):
    r"""Utility loss :math:`U_n = \frac1n\sum_i (Y_i - y_i)^2` of answers ``Y`` against clean ``y``."""
    y = check_vector(y, "y")
    Y = check_vector(Y, "Y", n=y.shape[0])
    d = Y - y
    return float(d @ d) / d.shape[0]


@dataclass(frozen=True)
class MeanInterval:
    """A Monte Carlo mean with its Student-t confidence interval."""

    mean: float
    low: float
    high: float
    std_err: float
    reps: int
    confidence: float = 0.95

    def __float__(self):
        return self.mean

    def contains(self, value):
        """True when ``value`` lies inside the confidence interval."""
        return self.low <= value <= self.high

    def __str__(self):
        return f"{self.mean:.4g} [{self.low:.4g}, {self.high:.4g}]"


@dataclass(frozen=True)
class PrivacyLevel(MeanInterval):
    """Monte Carlo estimate of :math:`PL_n` with a confidence interval in :math:`[0, \\infty)`."""


def mean_interval(values, confidence=0.95):
    r"""Mean of IID replications with the interval :math:`\bar v \pm t_{R-1}\,s/\sqrt R`.

    For any real-valued replications (e.g. paired differences between a
    simulation and a bound); :func:`privacy_level` is the version for
    stealing errors.
    """
    v = check_vector(values, "values")
    if v.shape[0] < 1:
        raise ValueError("values must contain at least one replication.")
    confidence = check_scalar(confidence, "confidence", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    R = v.shape[0]
    mean = float(v.mean())
    if R == 1:
        return MeanInterval(mean, -math.inf, math.inf, math.inf, 1, confidence)
    se = float(v.std(ddof=1) / math.sqrt(R))
    half = float(stdtrit(R - 1, 0.5 + confidence / 2.0)) * se  # Student-t quantile
    return MeanInterval(mean, mean - half, mean + half, se, R, confidence)


def privacy_level(errors, confidence=0.95):
    r"""Estimate :math:`PL_n = E\,\ell(\hat f_n, f)` from per-replication stealing errors.

    Parameters
    ----------
    errors : array-like of shape (R,)
        Stealing errors of ``R`` independent replications.
    confidence : float in (0, 1)

    Returns
    -------
    PrivacyLevel
        Mean and the Student-t interval :math:`\bar\ell \pm t_{R-1}\,s/\sqrt R`
        intersected with :math:`[0, \infty)`, where :math:`PL_n` lives (a
        zero-width interval when all errors are equal, e.g. no defense).
    """
    e = check_vector(errors, "errors")
    if np.any(e < 0):
        raise ValueError("errors must be non-negative stealing errors (squared-error losses).")
    m = mean_interval(e, confidence)
    return PrivacyLevel(m.mean, max(m.low, 0.0), m.high, m.std_err, m.reps, m.confidence)


@dataclass(frozen=True)
class PrivacyGain:
    """A privacy gain value, or the reason it is undefined."""

    value: float | None
    form: str
    reason: str = ""

    @property
    def defined(self):
        return self.value is not None

    def __float__(self):
        return math.nan if self.value is None else self.value

    def __str__(self):
        return f"{self.value:.4g}" if self.defined else f"undefined ({self.reason})"


def privacy_gain(privacy_level, *, utility_loss=None, baseline=None, form="ratio", atol=1e-12):
    r"""Privacy gain of a defense.

    Parameters
    ----------
    privacy_level : float
        :math:`PL_n` of the defense.
    utility_loss : float, optional
        :math:`U_n` of the defense (needed for ``form="ratio"``).
    baseline : float, optional
        :math:`PL_n` without defense (needed for ``form="relative"``).
    form : {"ratio", "relative"}
        ``"ratio"``: :math:`PL_n/U_n`; ``"relative"``: :math:`PL_n/PL_n^{(0)}`.
    atol : float
        Denominators at most ``atol`` count as zero.

    Returns
    -------
    PrivacyGain
        ``value`` is ``None`` with a ``reason`` when the denominator is zero.
    """
    pl = check_scalar(float(privacy_level), "privacy_level", low=0.0)
    if form == "ratio":
        if utility_loss is None:
            raise ValueError("form='ratio' needs utility_loss.")
        den = check_scalar(float(utility_loss), "utility_loss", low=0.0)
        if den <= atol:
            return PrivacyGain(None, form, "no utility lost (U_n = 0)")
    elif form == "relative":
        if baseline is None:
            raise ValueError("form='relative' needs baseline (PL_n without defense).")
        den = check_scalar(float(baseline), "baseline", low=0.0)
        if den <= atol:
            return PrivacyGain(None, form, "the undefended attacker steals perfectly (PL_n = 0)")
    else:
        raise ValueError(f"form must be 'ratio' or 'relative', got {form!r}.")
    return PrivacyGain(pl / den, form)
