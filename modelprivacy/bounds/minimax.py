r"""The two-point minimax lower bound and its two worlds, as games to simulate."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_matrix, check_queries, check_scalar, check_vector
from ..defenses import TwoPointDefense
from ..targets import ShiftedTarget
from ._common import check_budgets, scalar_or_array, weights_or_uniform

__all__ = ["minimax_lower_bound", "two_point_games"]


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
    u, scalar = check_budgets(budgets)
    if basis is None:
        if X is not None or Z is not None:
            raise ValueError("X and Z are only used with basis; the constant direction gives c = 1.")
        return scalar_or_array(u.copy(), scalar)
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
    w = weights_or_uniform(weights, Z.shape[0])
    c = _top_generalised_eigenvalue(BZ.T @ (w[:, None] * BZ), BX.T @ BX / X.shape[0])
    return scalar_or_array(c * u, scalar)


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
    if not callable(getattr(threat_model, "replace", None)) or not hasattr(threat_model, "target"):
        raise TypeError(f"threat_model must be a ThreatModel, got {type(threat_model).__name__}.")
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
    f1 = ShiftedTarget(threat_model.target, amount=2.0 * root / scale, direction=direction)
    tm1 = threat_model.replace(target=f1, defense=TwoPointDefense(sigma=root, sign=-1, direction=direction,
                                                                   scale=scale))
    return tm0, tm1
