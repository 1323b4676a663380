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
    constant shifts), :func:`two_point_games` (with
    :class:`~modelprivacy.defenses.TwoPointDefense`) to simulate it.

References
----------
G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
Understanding Model Stealing Attacks and Defenses", arXiv:2502.15567.

J. J. Moré and D. C. Sorensen, "Computing a trust region step", SIAM J. Sci.
Stat. Comput. 4(3), 1983.

A. B. Tsybakov, *Introduction to Nonparametric Estimation*, Springer 2009
(two-point lower bounds, section 2.3; projection estimators, section 1.7).
"""

from .exact import (
    ExactPrivacyLevel,
    conditional_privacy_level,
    constant_shift_privacy_level,
    exact_privacy_level,
    iid_privacy_level,
    long_range_privacy_level,
)
from .frontier import Frontier, privacy_ceiling, privacy_frontier
from .minimax import minimax_lower_bound, two_point_games
from .rates import (
    least_squares_rate,
    long_range_mean_variance,
    long_range_rate,
    nonparametric_rate,
    tuned_series_privacy_level,
)

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
    "tuned_series_privacy_level",
    "Frontier",
    "privacy_frontier",
    "privacy_ceiling",
    "minimax_lower_bound",
    "two_point_games",
]
