r"""Closed-form perturbation directions.

Order Disguise (spec 3.1 item 5): the direction that makes the answers look
like a polynomial of the attacker's largest candidate order.
"""

from __future__ import annotations

import functools

import numpy as np

from .._validation import check_int
from ..features import basis_matrix

__all__ = ["order_disguise_direction"]


def order_disguise_direction(x, n_terms, *, basis="monomial", interval=(0.0, 1.0)):
    r"""Unit direction of Order Disguise for 1-D queries ``x``.

    With :math:`B = [\phi_0(x), \dots, \phi_{p-1}(x)]` (``n x p``),
    :math:`e_1 = B_{:,p-1}` (the highest-order column) and
    :math:`e_2 = B (B^\top B)^{+}_{:,p-1}` (the vector whose inner product with
    the responses is the OLS estimate of the top coefficient),

    .. math::

        e = \frac{\bar e_1 + \bar e_2}{\|\bar e_1 + \bar e_2\|},\qquad
        \bar e_k = e_k/\|e_k\| .

    Parameters
    ----------
    x : array-like of shape (n,) or (n, 1)
    n_terms : int
        ``p``, the attacker's largest candidate number of columns.
    basis, interval : see :func:`~modelprivacy.features.basis_matrix`.

    Returns
    -------
    ndarray of shape (n,), unit norm
    """
    p = check_int(n_terms, "n_terms", low=1)
    B = basis_matrix(x, p, basis=basis, interval=interval)
    return _direction(B.tobytes(), B.shape)


@functools.lru_cache(maxsize=4)
def _direction(data, shape):
    """The direction for the design ``B`` (given as bytes: cells of one replication share it)."""
    B = np.frombuffer(data).reshape(shape)
    p = shape[1]
    e1 = B[:, p - 1]
    G = B.T @ B
    unit = np.zeros(p)
    unit[p - 1] = 1.0
    try:
        w = np.linalg.solve(G, unit)  # the OLS weights of the top coefficient, (B'B)^{-1} e_p
        solved = np.allclose(G @ w, unit, rtol=0.0, atol=1e-6)
    except np.linalg.LinAlgError:
        solved = False
    if not solved:  # a (numerically) rank-deficient design, e.g. repeated queries: the pseudo-inverse
        w = np.linalg.pinv(G, hermitian=True)[:, p - 1]
    e2 = B @ w
    n1, n2 = np.linalg.norm(e1), np.linalg.norm(e2)
    if not (n1 > 0 and n2 > 0):
        raise ValueError("x makes the top basis column vanish; Order Disguise is undefined.")
    e = e1 / n1 + e2 / n2
    e = e / np.linalg.norm(e)
    e.setflags(write=False)  # shared by every caller of the cache
    return e
