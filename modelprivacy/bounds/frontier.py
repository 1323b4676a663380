r"""Ceiling and frontier of the privacy level against a known linear-smoother attacker."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_matrix, check_scalar, check_vector
from ..solvers import trust_region_eigen
from ._common import check_budgets, residual, scalar_or_array, weights_or_uniform

__all__ = ["privacy_ceiling", "Frontier", "privacy_frontier"]


def privacy_ceiling(S, y, f_Z, budgets, *, weights=None):
    r"""Ceiling on the privacy level of any defense against a known linear smoother.

    By the triangle inequality in the evaluation norm
    :math:`\|v\|_W^2 = v^\top W v` (default :math:`\|v\|^2/m`),

    .. math::

        \ell(e) = \|r_0 + Se\|_W^2 \le \bigl(\|r_0\|_W + \|W^{1/2}S\|_{op}\|e\|\bigr)^2
        \le \Bigl(\sqrt{c} + \|S\|_{op}\sqrt{nu/m}\Bigr)^2

    whenever :math:`\frac1n\|e\|^2 \le u`, with :math:`c = \|r_0\|_W^2` the
    error without defense. The right side is concave in ``u``, so by Jensen it
    also bounds :math:`E\,\ell` of a *random* perturbation at its expected
    utility loss :math:`u = E\,U_n`. For least squares evaluated on the
    queries (:math:`S = \Pi_X`, ``m = n``) with :math:`c = 0`, it is
    :math:`PL_n \le U_n` (spec P3).

    Parameters
    ----------
    S : array-like of shape (m, n)
    y : array-like of shape (n,)
    f_Z : array-like of shape (m,)
    budgets : float or array-like
        Utility budgets ``u > 0``.
    weights : array-like of shape (m,), optional

    Returns
    -------
    float or ndarray
    """
    S = check_matrix(S, "S")
    m, n = S.shape
    w = weights_or_uniform(weights, m)
    u, scalar = check_budgets(budgets)
    r0 = residual(S, y, f_Z)
    c = float(r0 @ (w * r0))
    op = float(np.linalg.norm(np.sqrt(w)[:, None] * S, 2))
    return scalar_or_array((np.sqrt(c) + op * np.sqrt(n * u)) ** 2, scalar)


@dataclass(frozen=True)
class Frontier:
    r"""The utility-privacy frontier :math:`PL^*(u)` of a known linear smoother.

    Attributes
    ----------
    budgets : ndarray of shape (k,)
        Utility budgets ``u``.
    privacy_level : ndarray of shape (k,)
        :math:`PL^*(u) = \max_{\|e\|^2 \le nu} \ell(e)`.
    designs : ndarray of shape (n, k)
        The optimal perturbations (column ``i`` for ``budgets[i]``).
    multipliers : ndarray of shape (k,)
        Lagrange multipliers of the norm constraint.
    certified : ndarray of bool, shape (k,)
        Whether each solution passed its KKT certificate.
    approximation : float
        :math:`c = \ell(0)`, the privacy level without a defense.
    """

    budgets: np.ndarray
    privacy_level: np.ndarray
    designs: np.ndarray
    multipliers: np.ndarray
    certified: np.ndarray
    approximation: float

    @property
    def privacy_gain(self):
        """:math:`PL^*(u)/u` at each budget."""
        return self.privacy_level / self.budgets


def privacy_frontier(S, y, f_Z, budgets, *, weights=None, certificate_tol=1e-7):
    r"""Utility-privacy frontier of a known linear-smoother attacker on given queries.

    .. math::

        PL^*(u) = \max_{e:\ \frac1n\|e\|^2 \le u}\ \ell(e),\qquad
        \ell(e) = e^\top M e + 2u_0^\top e + c,

    solved globally by :func:`modelprivacy.solvers.trust_region` at radius
    :math:`\sqrt{nu}` (the quadratic of
    :func:`modelprivacy.solvers.stealing_quadratic`), restricted exactly to the
    row space of :math:`W^{1/2}S`, which holds both :math:`M` and
    :math:`u_0`: one SVD serves every budget. The certificate (KKT
    conditions in that subspace) is equivalent to the full one, since
    :math:`e` and :math:`u_0` have no component outside it.

    Notes
    -----
    The frontier bounds *every* defense, random ones included, at its
    expected utility loss: for ``e`` with second moment
    :math:`E = E\,ee^\top`, :math:`E\,\ell(e) = \operatorname{tr}(ME) + 2u_0^\top E\,e + c`
    is the objective of the SDP relaxation
    :math:`\max\{\operatorname{tr}(ME) + 2u_0^\top x + c:\ E \succeq xx^\top,\ \operatorname{tr}E \le nu\}`,
    which is tight for trust-region problems (S-lemma). Hence
    :math:`E\,\ell(e) \le PL^*(E\,U_n)`, and :math:`PL^*` is concave in ``u``.

    Parameters
    ----------
    S : array-like of shape (m, n)
        Smoother matrix of the attacker on the queries and evaluation points.
    y : array-like of shape (n,)
    f_Z : array-like of shape (m,)
    budgets : float or array-like
        Utility budgets ``u > 0``.
    weights : array-like of shape (m,), optional
    certificate_tol : float
        Tolerance of the KKT certificate check.

    Returns
    -------
    Frontier
    """
    S = check_matrix(S, "S")
    m, n = S.shape
    u, _ = check_budgets(budgets)
    y = check_vector(y, "y", n=n)
    f_Z = check_vector(f_Z, "f_Z", n=m)
    w = weights_or_uniform(weights, m)
    certificate_tol = check_scalar(certificate_tol, "certificate_tol", low=0.0)
    r0 = S @ y - f_Z
    c = float(r0 @ (w * r0))
    # M = A'A with A = W^(1/2) S and the linear term A' W^(1/2) r0 both live in the row space
    # of A: solving there (dimension rank(S) <= min(m, n)) is exact and needs one SVD for
    # all budgets, instead of one n x n eigendecomposition per budget
    A = np.sqrt(w)[:, None] * S
    _, sv, Vt = np.linalg.svd(A, full_matrices=False)
    keep = sv > (sv[0] * 1e-10 if sv.size and sv[0] > 0 else np.inf)
    V, d = Vt[keep].T, sv[keep] ** 2
    lin = V.T @ (A.T @ (np.sqrt(w) * r0))
    values, designs, lams, ok = [], [], [], []
    for ui in u:
        r = math.sqrt(n * ui)
        if d.size == 0:  # the attacker ignores its answers
            values.append(c)
            designs.append(np.zeros(n))
            lams.append(0.0)
            ok.append(True)
            continue
        b = lin
        # a linear term at round-off level (the attacker reproduces f) is zero: the solver's
        # hard-case test is relative to ||u|| and would divide by a zero gap otherwise
        if float(np.linalg.norm(b)) * r <= 1e-12 * (d[0] * r * r + c):
            b = np.zeros_like(lin)
        wv, lam = trust_region_eigen(d, b, r)[:2]
        obj = float(wv @ (d * wv) + 2.0 * b @ wv)
        values.append(obj + c)
        designs.append(V @ wv)
        lams.append(lam)
        ok.append(_diagonal_kkt(d, b, r, wv, lam) <= certificate_tol)
    return Frontier(u, np.array(values), np.column_stack(designs), np.array(lams), np.array(ok), c)


def _diagonal_kkt(d, b, r, wv, lam):
    """Largest relative KKT violation of a trust-region solution in the eigenbasis."""
    scale = max(abs(float(d.max())), abs(lam), float(np.linalg.norm(b)) / r, np.finfo(float).tiny)
    norm = float(np.linalg.norm(wv))
    return max(
        max(0.0, norm - r) / r,                                               # feasibility
        float(np.linalg.norm((lam - d) * wv - b)) / (scale * r + float(np.linalg.norm(b))),  # stationarity
        max(0.0, -lam) / scale,                                              # multiplier
        max(0.0, float(d.max()) - lam) / scale,                              # second order
        abs(lam) * abs(r * r - norm * norm) / (scale * r * r),               # slackness
    )
