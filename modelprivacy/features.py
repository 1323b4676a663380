r"""Feature maps shared by attackers, designs and bounds: polynomial and cosine bases, kernels.

These are the low-level building blocks of the linear-smoother attackers
(:mod:`modelprivacy.attacks`), of the designs that model them
(:mod:`modelprivacy.defenses.optimal`, :mod:`modelprivacy.solvers`) and of the
bounds; they import nothing from the rest of the package but validation.
"""

from __future__ import annotations

import numpy as np
from scipy import special
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels

from ._validation import check_int, check_interval, check_queries, check_scalar

__all__ = ["BASES", "default_p_max", "basis_matrix", "kernel_matrix", "KERNELS"]

#: 1-D bases of :func:`basis_matrix`
BASES = ("monomial", "legendre", "cosine")
#: kernel names accepted by :func:`kernel_matrix` (scikit-learn's pairwise kernels)
KERNELS = tuple(sorted(PAIRWISE_KERNEL_FUNCTIONS))


def default_p_max(n):
    r"""The attacker's number of candidate orders, :math:`p_{\max} = \lfloor n^{1/3} \rfloor`.

    Computed in integers, so that perfect cubes (n = 8, 27, 125, ...) are
    not lost to floating-point rounding.
    """
    n = check_int(n, "n", low=1)
    p = int(round(n ** (1.0 / 3.0)))
    while p**3 > n:
        p -= 1
    while (p + 1) ** 3 <= n:
        p += 1
    return max(p, 1)


def basis_matrix(x, n_terms, *, basis="monomial", interval=(0.0, 1.0)):
    r"""Design matrix :math:`[\phi_0(x), \dots, \phi_{p-1}(x)]` of a 1-D basis.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)
    n_terms : int
        Number of columns ``p``.
    basis : {"monomial", "legendre", "cosine"}
        * ``monomial``: :math:`x^j`;
        * ``legendre``: :math:`P_j(t)`, ``t`` the affine map of ``interval``
          onto [-1, 1] (spans the same space as ``monomial``, better conditioned);
        * ``cosine``: :math:`1, \sqrt2\cos(\pi j t)`, ``t`` the affine map of
          ``interval`` onto [0, 1], orthonormal in :math:`L^2` of the interval
          (the projection estimator of smoothness classes).
    interval : (float, float)
        Domain of the Legendre and cosine bases.

    Returns
    -------
    ndarray of shape (n, n_terms)
    """
    X = check_queries(x, "x", n_features=1)[:, 0]
    p = check_int(n_terms, "n_terms", low=1)
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}.")
    lb, ub = check_interval(*interval, name="interval")
    return _basis_matrix(X, p, basis, lb, ub)


def _basis_matrix(X, p, basis, lb=0.0, ub=1.0):
    """:func:`basis_matrix` on validated input (1-D ``X``, int ``p``, finite ``lb < ub``)."""
    if basis == "monomial":
        # column by column, x^j = x^(j-1) * x: the products of np.vander(increasing=True), 6x faster
        B = np.empty((X.shape[0], p), order="F")
        B[:, 0] = 1.0
        for j in range(1, p):
            np.multiply(B[:, j - 1], X, out=B[:, j])
        return B
    if basis == "legendre":
        t = (2.0 * X - (lb + ub)) / (ub - lb)
        return np.column_stack([special.eval_legendre(j, t) for j in range(p)])
    t = (X - lb) / (ub - lb)
    B = np.sqrt(2.0) * np.cos(np.pi * np.outer(t, np.arange(p)))
    B[:, 0] = 1.0
    return B


def kernel_matrix(A, B, kernel, *, gamma=None, degree=3, coef0=1.0):
    """Kernel matrix ``k(A, B)`` for any scikit-learn pairwise kernel name (or a callable).

    Parameters
    ----------
    A : ndarray of shape (n, d)
    B : ndarray of shape (m, d)
    kernel : str or callable
        A :func:`sklearn.metrics.pairwise.pairwise_kernels` name, or
        ``kernel(A, B) -> (n, m)``.
    gamma, degree, coef0 : kernel parameters (scikit-learn meaning; ``gamma=None``
        is ``1/d``).

    Returns
    -------
    ndarray of shape (n, m)

    Raises
    ------
    ValueError
        If scikit-learn does not know ``kernel``, ``A`` or ``B`` is not a finite
        non-empty array with the same number of columns, or a kernel parameter is
        out of its domain (``gamma > 0``, ``degree >= 0``, finite ``coef0``).
    """
    A = check_queries(A, "A")
    B = check_queries(B, "B", n_features=A.shape[1])
    if callable(kernel):
        return np.asarray(kernel(A, B), dtype=float)
    if not isinstance(kernel, str) or kernel not in PAIRWISE_KERNEL_FUNCTIONS:
        raise ValueError(f"kernel {kernel!r} is not a scikit-learn pairwise kernel; known: {list(KERNELS)}.")
    # checked, but passed on as given (a float degree could round differently)
    if gamma is not None:
        check_scalar(gamma, "gamma", low=0.0, low_inclusive=False)
    check_scalar(degree, "degree", low=0.0)
    check_scalar(coef0, "coef0")
    params = {}
    if kernel in ("rbf", "laplacian", "poly", "polynomial", "sigmoid", "chi2"):
        if gamma is not None:
            params["gamma"] = gamma
    if kernel in ("poly", "polynomial"):
        params["degree"] = degree
    if kernel in ("poly", "polynomial", "sigmoid"):
        params["coef0"] = coef0
    return pairwise_kernels(A, B, metric=kernel, **params)
