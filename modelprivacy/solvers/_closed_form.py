r"""Closed-form perturbation directions.

Order Disguise (spec 3.1 item 5): the direction that makes the answers look
like a polynomial of the attacker's largest candidate order.
"""

from __future__ import annotations

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
    e1 = B[:, p - 1]
    e2 = B @ np.linalg.pinv(B.T @ B, hermitian=True)[:, p - 1]
    n1, n2 = np.linalg.norm(e1), np.linalg.norm(e2)
    if not (n1 > 0 and n2 > 0):
        raise ValueError("x makes the top basis column vanish; Order Disguise is undefined.")
    e = e1 / n1 + e2 / n2
    return e / np.linalg.norm(e)
