r"""The stealing error of a linear-smoother attacker as a quadratic in the perturbation.

A linear-smoother attacker answers evaluation points :math:`Z` (``m`` points)
with :math:`\hat f(Z) = S\,(y + e)`, where the ``m x n`` matrix :math:`S` depends
on the queries only. Its stealing error is then an exact quadratic in ``e``:

.. math::

    \ell(e) = \frac1m \|S(y+e) - f(Z)\|^2 = e^\top M e + 2u^\top e + c,\qquad
    M = \tfrac1m S^\top S,\;\; u = \tfrac1m S^\top (Sy - f(Z)),\;\;
    c = \tfrac1m \|Sy - f(Z)\|^2 .
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._memory import available_memory, check_memory, memory_bytes
from .._validation import check_matrix, check_queries, check_scalar, check_vector
from ..features import kernel_matrix

__all__ = [
    "StealingQuadratic",
    "stealing_quadratic",
    "kernel_ridge_smoother",
    "available_memory",
    "check_memory",
    "REGULARIZATIONS",
]

#: regularisation conventions of a kernel-ridge smoother
REGULARIZATIONS = ("attacker", "authors")


class StealingQuadratic:
    r"""The quadratic :math:`\ell(e) = e^\top M e + 2u^\top e + c`.

    Attributes
    ----------
    M : ndarray of shape (n, n) or scipy LinearOperator
        Symmetric positive semi-definite curvature :math:`S^\top W S`.
    u : ndarray of shape (n,)
        Linear term :math:`S^\top W (Sy - f(Z))`.
    c : float
        Stealing error without perturbation (the attacker's approximation
        error at ``e = 0``).
    """

    def __init__(self, M, u, c):
        self.M = M
        self.u = u
        self.c = float(c)

    @property
    def n(self):
        return self.u.shape[0]

    def value(self, e):
        r"""Return :math:`\ell(e) = e^\top M e + 2u^\top e + c` (shape ``(n,)`` or ``(n, k)``)."""
        e = np.asarray(e, dtype=float)
        Me = self.M @ e
        if e.ndim == 1:
            return float(e @ Me + 2.0 * self.u @ e + self.c)
        return np.einsum("ik,ik->k", e, Me) + 2.0 * (self.u @ e) + self.c

    def __repr__(self):
        return f"StealingQuadratic(n={self.n}, c={self.c:.4g})"


def stealing_quadratic(S, y, f_Z, *, weights=None, as_operator=False, max_memory=None):
    r"""Write the stealing error of a linear smoother as a quadratic in ``e``.

    With :math:`\hat f(Z) = S(y+e)` and evaluation weights :math:`w` (default
    :math:`w_j = 1/m`, i.e. the empirical mean over ``Z``),

    .. math::

        \sum_j w_j\,(\hat f(z_j) - f(z_j))^2 = e^\top M e + 2u^\top e + c,\quad
        M = S^\top W S,\; u = S^\top W r_0,\; c = r_0^\top W r_0,\;
        r_0 = Sy - f(Z),\; W = \operatorname{diag}(w).

    Parameters
    ----------
    S : ndarray of shape (m, n)
        Smoother matrix of the attacker (``attacker.smoother_matrix(X, Z)``).
    y : array-like of shape (n,)
        Clean answers :math:`f(X)` on the queries.
    f_Z : array-like of shape (m,)
        Target on the evaluation points.
    weights : array-like of shape (m,), optional
        Non-negative quadrature weights of the evaluation points.
    as_operator : bool
        Return ``M`` as a :class:`scipy.sparse.linalg.LinearOperator`
        (``S' W S`` applied factor by factor) instead of an ``n x n`` array; this is
        what the Lanczos strategy needs at large ``n``.
    max_memory : int, optional
        Memory budget (bytes) for the dense ``M``; a :class:`MemoryError` is
        raised before allocating if it would not fit.

    Returns
    -------
    StealingQuadratic
    """
    S = check_matrix(S, "S")
    m, n = S.shape
    y = check_vector(y, "y", n=n)
    f_Z = check_vector(f_Z, "f_Z", n=m)
    if weights is None:
        w = np.full(m, 1.0 / m)
    else:
        w = check_vector(weights, "weights", n=m)
        if np.any(w < 0):
            raise ValueError("weights must be non-negative.")
    r0 = S @ y - f_Z
    u = S.T @ (w * r0)
    c = float(r0 @ (w * r0))
    if as_operator:
        M = _SymmetricOperator(S * np.sqrt(w)[:, None])
        return StealingQuadratic(M, u, c)
    check_memory(memory_bytes("quadratic", n, m), f"The dense {n}x{n} curvature M", max_memory=max_memory,
                 need=lambda k: memory_bytes("quadratic", k, m),
                 hint="Use as_operator=True with trust_region(method='lanczos'), which needs O(n) memory.")
    Sw = S * np.sqrt(w)[:, None]
    M = Sw.T @ Sw
    M = 0.5 * (M + M.T)
    return StealingQuadratic(M, u, c)


class _SymmetricOperator(LinearOperator):
    """``v -> A' (A v)`` for a tall or wide factor ``A`` (symmetric PSD operator)."""

    def __init__(self, A):
        self.A = A
        super().__init__(dtype=float, shape=(A.shape[1], A.shape[1]))

    def _matvec(self, v):
        return self.A.T @ (self.A @ v)

    def _matmat(self, V):
        return self.A.T @ (self.A @ V)

    def _adjoint(self):
        return self


def kernel_ridge_smoother(X, Z, *, kernel="rbf", alpha=1e-3, gamma=None, degree=3, coef0=1.0,
                          regularization="attacker", max_memory=None):
    r"""Smoother matrix of kernel ridge regression, under either regularisation convention.

    .. math::

        S = k(Z, X)\,(K + \tilde\alpha I)^{+},\qquad
        \tilde\alpha = \begin{cases} \alpha & \text{regularization = 'attacker'}\\
                                     n\alpha & \text{regularization = 'authors'}\end{cases}

    The authors' attacker fits :math:`(K+\alpha I)^{+}Y` while their Kernel
    Confusion defender models it with :math:`(K + n\alpha I)^{+}`; ``'attacker'``
    reproduces :class:`~modelprivacy.attacks.KernelRidgeAttacker` exactly.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Queries.
    Z : array-like of shape (m, d)
        Evaluation points.
    kernel : str or callable
        A :func:`sklearn.metrics.pairwise.pairwise_kernels` name.
    alpha : float
        Ridge, :math:`\alpha \ge 0`.
    gamma, degree, coef0 : kernel parameters (scikit-learn meaning).
    regularization : {'attacker', 'authors'}
    max_memory : int, optional
        Memory budget in bytes (default: available memory); a
        :class:`MemoryError` is raised before the Gram matrix is built if its
        measured peak (:math:`6.25n^2 + mn` doubles, :data:`MEMORY_DOUBLES`) would not fit.

    Returns
    -------
    ndarray of shape (m, n)
    """
    X = check_queries(X, "X")
    Z = check_queries(Z, "Z", n_features=X.shape[1])
    alpha = check_scalar(alpha, "alpha", low=0.0)
    if regularization not in REGULARIZATIONS:
        raise ValueError(f"regularization must be one of {REGULARIZATIONS}, got {regularization!r}.")
    n, m = X.shape[0], Z.shape[0]
    check_memory(memory_bytes("smoother", n, m), f"The kernel ridge smoother (n={n}, m={m})",
                 max_memory=max_memory, need=lambda k: memory_bytes("smoother", k, m))
    ridge = alpha * n if regularization == "authors" else alpha
    K = kernel_matrix(X, X, kernel, gamma=gamma, degree=degree, coef0=coef0)
    A = np.linalg.pinv(K + ridge * np.eye(n), hermitian=True)
    return kernel_matrix(Z, X, kernel, gamma=gamma, degree=degree, coef0=coef0) @ A
