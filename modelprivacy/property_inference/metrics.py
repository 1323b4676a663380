r"""Leakage and utility metrics of property inference.

Leakage
-------
* :func:`attack_accuracy`: the share of target models whose property class
  the attack gets right, with a Wilson score interval, against chance
  :math:`1/m`.
* :func:`optimal_test_accuracy` and :func:`n_leaked`: the scale-free leakage
  of Suri and Evans [1] for the two-world game. World :math:`b \in \{0, 1\}`
  draws records whose property indicator is Bernoulli(:math:`\alpha_b`), the
  worlds being otherwise identical (a mixture whose weight alone changes).
  The indicator is then sufficient: a record's likelihood ratio is
  :math:`\alpha_1/\alpha_0` or :math:`(1-\alpha_1)/(1-\alpha_0)`. Given
  :math:`n` records the count :math:`K \sim \mathrm{Bin}(n, \alpha_b)` is
  sufficient and the Bayes-optimal (likelihood-ratio) test, with the worlds
  equally likely, is right with probability

  .. math::

      a^*(n) = \frac12 \sum_{k=0}^{n} \max\{P_0(K = k), P_1(K = k)\}
             = \frac12 + \frac12\,\mathrm{TV}\big(\mathrm{Bin}(n,\alpha_0),
               \mathrm{Bin}(n,\alpha_1)\big),

  non-decreasing in :math:`n` (the first :math:`n` of :math:`n+1` records
  are a garbling of all of them). **n_leaked** of an attack with accuracy
  :math:`a` is the :math:`n` with :math:`a^*(n) = a`: the number of records
  an optimal adversary would need to see to do as well as the attack does
  from the model. We invert :math:`a^*` exactly on the integers and
  interpolate linearly in :math:`a` between consecutive :math:`n`
  (:math:`a \le 1/2` gives 0; :math:`a \ge \sup_n a^*(n) = 1` gives
  :math:`\infty`; identical worlds give NaN).

  ``method="suri_evans"`` gives instead the closed form of Suri and Evans'
  code, :math:`n = \log(1 - (2a-1)^2) / \log\rho` with
  :math:`\rho = \max(\alpha_{\min}/\alpha_{\max}, (1-\alpha_{\max})/(1-\alpha_{\min}))`,
  which inverts an upper bound :math:`\frac12 + \frac12\sqrt{1 - \rho^n}`
  on :math:`a^*(n)` and is therefore never larger than the exact value
  (checked in the tests).

Utility
-------
:func:`utility_report`: accuracy, ROC AUC, log-loss, Brier score and the
expected calibration error of :func:`expected_calibration_error`. A defense
that hides a base rate by shifting a model's scores keeps the AUC (which is
invariant to monotone transformations of the scores) but pays in log-loss
and calibration error; all of them are reported so that this cost is seen.

References
----------
* [1] A. Suri and D. Evans, "Formalizing and Estimating Distribution
  Inference Risks", PETS 2022, arXiv:2109.06024 (n_leaked; code:
  github.com/iamgroot42/FormEstDistRisks).
* [2] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of
  Modern Neural Networks", ICML 2017 (expected calibration error).
* [3] E. B. Wilson, "Probable Inference, the Law of Succession, and
  Statistical Inference", JASA 1927 (score interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import stats
from scipy.special import gammaln, xlog1py, xlogy
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from .._param_validation import Interval, StrOptions, validate_params
from .._validation import check_binary, check_vector

__all__ = [
    "AttackAccuracy",
    "attack_accuracy",
    "wilson_interval",
    "optimal_test_accuracy",
    "n_leaked",
    "expected_calibration_error",
    "utility_report",
]


@dataclass(frozen=True)
class AttackAccuracy:
    """Accuracy of a property-inference attack with its Wilson interval.

    Attributes
    ----------
    accuracy, low, high : float
    n : int
        Number of target models.
    chance : float
        :math:`1/m` for m property classes.
    """

    accuracy: float
    low: float
    high: float
    n: int
    chance: float

    def __float__(self):
        return self.accuracy

    @property
    def advantage(self):
        """Accuracy above chance."""
        return self.accuracy - self.chance

    def contains(self, value):
        return self.low <= value <= self.high

    def __str__(self):
        return f"{self.accuracy:.3f} [{self.low:.3f}, {self.high:.3f}] (chance {self.chance:.3f}, n={self.n})"


@validate_params({
    "successes": [Interval(Integral, 0, None)],
    "n": [Interval(Integral, 0, None)],
    "confidence": [Interval(Real, 0, 1, closed="neither")],
})
def wilson_interval(successes, n, confidence=0.95):
    r"""Wilson score interval :math:`\frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}`."""
    if successes > n:
        raise ValueError(f"successes ({successes}) must not exceed n ({n}).")
    return _wilson(int(successes), int(n), float(confidence))


def _wilson(successes, n, confidence):
    if n == 0:
        return 0.0, 1.0
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    p = successes / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    # the score interval contains the estimate; at 0/n and n/n its end *is* the estimate (round-off aside)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@validate_params({
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "n_classes": [Interval(Integral, 2, None)],
    "confidence": [Interval(Real, 0, 1, closed="neither")],
})
def attack_accuracy(y_true, y_pred, n_classes, *, confidence=0.95):
    """Accuracy of predicted property classes, with a Wilson interval and chance ``1/n_classes``.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n,)
        True and predicted property classes of the target models.
    n_classes : int >= 2
    confidence : float in (0, 1)

    Returns
    -------
    AttackAccuracy
    """
    y_true = _check_classes(y_true, "y_true", n_classes)
    y_pred = _check_classes(y_pred, "y_pred", n_classes)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length, got {y_true.shape} and {y_pred.shape}.")
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty: an accuracy needs at least one target model.")
    k = int(np.sum(y_true == y_pred))
    n = int(y_true.size)
    lo, hi = _wilson(k, n, confidence)
    return AttackAccuracy(k / n if n else float("nan"), lo, hi, n, 1.0 / n_classes)


def _check_classes(y, name, n_classes):
    """Property classes ``0 .. n_classes - 1`` as a 1-D array (int-valued floats accepted)."""
    arr = check_vector(y, name)
    if np.any(arr != np.round(arr)) or np.any((arr < 0) | (arr >= n_classes)):
        raise ValueError(f"{name} must hold property classes 0..{n_classes - 1}.")
    return arr


# --------------------------------------------------------------------------------------
# n_leaked
# --------------------------------------------------------------------------------------
def _check_alpha(a, name):
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, Real) or not 0.0 <= float(a) <= 1.0:
        raise ValueError(f"{name} must be a proportion in [0, 1], got {a!r}.")
    return float(a)


def _optimal_accuracy(n, a0, a1):
    if n == 0 or a0 == a1:
        return 0.5
    # the mass of both binomials lies within 12 standard deviations of their means
    sd = math.sqrt(n * max(a0 * (1 - a0), a1 * (1 - a1), 1.0 / n))
    lo = max(0, int(math.floor(n * min(a0, a1) - 12 * sd)))
    hi = min(n, int(math.ceil(n * max(a0, a1) + 12 * sd)))
    k = np.arange(lo, hi + 1)
    p0 = _binom_pmf(k, n, a0)
    p1 = _binom_pmf(k, n, a1)
    # a*(n) = 1/2 + TV/2 lies in [1/2, 1]; scipy's pmf errs by ~1e-14 for tiny alphas (0.4999999999999947 at
    # n = 2, alpha ~ 1e-61), so the sum is clipped to the range, which it only leaves by round-off
    return float(min(1.0, max(0.5, 0.5 * np.sum(np.maximum(p0, p1)))))


def _binom_pmf(k, n, a):
    """``stats.binom.pmf``; in log space where scipy's incomplete-beta derivative overflows (``a`` ~ 1e-308)."""
    try:
        return stats.binom.pmf(k, n, a)
    except OverflowError:
        return np.exp(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) + xlogy(k, a) + xlog1py(n - k, -a))


@validate_params({
    "n": [Interval(Integral, 0, None)],
    "alpha0": [Interval(Real, 0, 1)],
    "alpha1": [Interval(Real, 0, 1)],
})
def optimal_test_accuracy(n, alpha0, alpha1):
    r"""Accuracy :math:`a^*(n)` of the Bayes-optimal test between Bin(n, alpha0) and Bin(n, alpha1).

    .. math:: a^*(n) = \tfrac12 \sum_k \max\{P_0(k), P_1(k)\}

    Parameters
    ----------
    n : int >= 0
        Records seen by the optimal adversary.
    alpha0, alpha1 : float in [0, 1]
        The two worlds' property proportions.
    """
    return _optimal_accuracy(int(n), float(alpha0), float(alpha1))


@validate_params({
    "accuracy": [Interval(Real, 0, 1)],
    "alpha0": [Interval(Real, 0, 1)],
    "alpha1": [Interval(Real, 0, 1)],
    "method": [StrOptions({"exact", "suri_evans"})],
})
def n_leaked(accuracy, alpha0, alpha1, *, method="exact"):
    r"""Records an optimal test needs to match an attack's accuracy in the two-world game.

    Parameters
    ----------
    accuracy : float in [0, 1]
        The attack's accuracy between world 0 (proportion ``alpha0``) and
        world 1 (``alpha1``), with the worlds equally likely.
    alpha0, alpha1 : float in [0, 1]
    method : {"exact", "suri_evans"}
        ``"exact"``: invert :math:`a^*(n)` (module docstring), linear in the
        accuracy between consecutive integers. ``"suri_evans"``: the closed
        form of Suri and Evans' code, a lower value from an upper bound on
        :math:`a^*`.

    Returns
    -------
    float
        0 for ``accuracy <= 0.5``, ``inf`` when no finite ``n`` reaches the
        accuracy, NaN when the worlds are identical.
    """
    a, a0, a1 = float(accuracy), float(alpha0), float(alpha1)
    if a0 == a1:
        return float("nan")
    if a <= 0.5:
        return 0.0
    if a >= 1.0:
        return float("inf")
    if method == "suri_evans":
        lo_, hi_ = min(a0, a1), max(a0, a1)
        rho = max(lo_ / hi_, (1 - hi_) / (1 - lo_))
        if rho == 0.0:   # worlds 0 and 1: one record tells them apart, the bound is 1 for every n >= 1
            return 0.0
        if rho >= 1.0:   # worlds apart by less than round-off: log(rho) = 0 (the form gave -inf)
            return float("inf")
        return float(np.log(1.0 - (2 * a - 1) ** 2) / np.log(rho))
    # exponential search for an n with a*(n) >= a, then bisection on the integers
    hi = 1
    while _optimal_accuracy(hi, a0, a1) < a:
        hi *= 2
        if hi > 2**40:
            return float("inf")
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _optimal_accuracy(mid, a0, a1) >= a:
            hi = mid
        else:
            lo = mid
    acc_lo, acc_hi = _optimal_accuracy(lo, a0, a1), _optimal_accuracy(hi, a0, a1)
    if acc_hi <= acc_lo:
        return float(hi)
    return float(lo + (a - acc_lo) / (acc_hi - acc_lo))


# --------------------------------------------------------------------------------------
# utility
# --------------------------------------------------------------------------------------
@validate_params({
    "y_true": ["array-like"],
    "y_prob": ["array-like"],
    "n_bins": [Interval(Integral, 1, None)],
})
def expected_calibration_error(y_true, y_prob, *, n_bins=10):
    r"""Expected calibration error of class-1 probabilities.

    .. math::

        \mathrm{ECE} = \sum_{b=1}^{B} \frac{n_b}{n}\,
        \Big|\frac{1}{n_b}\sum_{i \in b} y_i - \frac{1}{n_b}\sum_{i \in b} p_i\Big|

    over ``n_bins`` equal-width bins of :math:`p` in [0, 1] (the last bin
    closed; empty bins contribute nothing). A model whose scores are shifted
    away from the base rate has a large ECE even when its ranking (AUC) is
    intact.

    Parameters
    ----------
    y_true : array-like of {0, 1}, shape (n,)
    y_prob : array-like of float in [0, 1], shape (n,)
    n_bins : int >= 1
    """
    y, p = _check_binary_scores(y_true, y_prob)
    return _ece(y, p, n_bins)


def _check_binary_scores(y_true, y_prob):
    """Non-empty 0/1 labels and class-1 probabilities in [0, 1] of the same length."""
    y = check_binary(y_true, "y_true")
    if y.size == 0:
        raise ValueError("y_true must not be empty.")
    p = check_vector(y_prob, "y_prob")
    if p.shape != y.shape:
        raise ValueError(f"y_true and y_prob must have the same length, got {y.size} and {p.size}.")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("y_prob must contain probabilities in [0, 1].")
    return y, p


def _ece(y, p, n_bins):
    b = np.minimum((p * n_bins).astype(int), n_bins - 1)
    n = y.size
    ece = 0.0
    for j in range(n_bins):
        m = b == j
        if np.any(m):
            ece += m.sum() / n * abs(y[m].mean() - p[m].mean())
    return float(ece)


@validate_params({"y_true": ["array-like"], "y_prob": ["array-like"], "n_bins": [Interval(Integral, 1, None)]})
def utility_report(y_true, y_prob, *, n_bins=10):
    """Accuracy, AUC, log-loss, Brier score and ECE of class-1 probabilities.

    Returns
    -------
    dict with keys ``accuracy``, ``auc``, ``log_loss``, ``brier``, ``ece``
        (``auc`` is NaN when ``y_true`` holds one class only).
    """
    _check_binary_scores(y_true, y_prob)
    y = np.asarray(y_true).astype(int)
    p = np.clip(np.asarray(y_prob, dtype=float), 1e-15, 1 - 1e-15)
    out = {
        "accuracy": float(np.mean((p > 0.5) == (y == 1))),
        "auc": float(roc_auc_score(y, p)) if np.unique(y).size == 2 else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": _ece(y.astype(float), p, n_bins),
    }
    return out
