"""Base class of regression response mechanisms (defenses).

A defense answers a batch of queries ``X`` whose clean answers are
``y = f(X)`` with ``Y = y + e``; the perturbation ``e`` may depend on the whole
batch (query-dependent designs), on the target ``f`` and on the history of
earlier answers (sequential games).
"""

from __future__ import annotations

import numbers
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator

from .._param_validation import Interval
from .._validation import check_covariance, check_generator, check_matrix, check_queries, check_vector
from ..base import ParamsMixin

__all__ = ["Defense", "Moments", "PerturbationModel", "SIGMA_MAX"]

#: largest noise level: sigma**2 (the utility loss) and n * sigma**2 must stay finite
SIGMA_MAX = 1e100


class Moments:
    """Mean and covariance of a perturbation ``e`` given the queries.

    Parameters
    ----------
    mean : ndarray of shape (n,)
    cov : ndarray of shape (n, n)
    """

    def __init__(self, mean, cov):
        self.mean = np.asarray(mean, dtype=float)
        self.cov = np.asarray(cov, dtype=float)

    def expected_utility_loss(self):
        r"""Return :math:`E\,\frac1n\|e\|^2 = (\|\mu\|^2 + \operatorname{tr}\Sigma)/n`."""
        n = self.mean.shape[0]
        return float((self.mean @ self.mean + np.trace(self.cov)) / n)

    def __repr__(self):
        return f"Moments(n={self.mean.shape[0]})"


class PerturbationModel:
    r"""What an attacker who knows a defense's *form*, but not its budget, knows about ``e``.

    The perturbation on queries ``X`` is modelled as

    .. math::

        e = D c + \varepsilon,\qquad E\,\varepsilon = 0,\quad
        \operatorname{Cov}\varepsilon \propto \Sigma,

    with known directions :math:`D` (``n x k``), unknown coefficients
    :math:`c` (they carry the budget :math:`\sigma`) and a covariance known up
    to scale. Either part may be absent.

    Parameters
    ----------
    directions : ndarray of shape (n, k) or None
        Orthonormal columns spanning the deterministic part (``None``: none).
    cov : ndarray of shape (n, n) or None
        Shape of the covariance of the random part, scaled to unit mean
        variance (``None``: deterministic).

    Raises
    ------
    ValueError, TypeError
        When ``directions`` is not a finite non-empty matrix, ``cov`` not a
        finite symmetric positive semi-definite matrix, or their numbers of
        queries differ.
    """

    def __init__(self, directions=None, cov=None):
        if directions is not None:
            check_matrix(directions, "directions")
        if cov is not None:
            check_covariance(cov, "cov")
            if directions is not None and np.shape(cov)[0] != np.shape(directions)[0]:
                raise ValueError(f"cov describes {np.shape(cov)[0]} queries but directions "
                                 f"{np.shape(directions)[0]}.")
        # stored as given (the checks above work on copies: no round-off is introduced)
        self.directions = None if directions is None else np.asarray(directions, dtype=float)
        self.cov = None if cov is None else np.asarray(cov, dtype=float)

    def __repr__(self):
        k = 0 if self.directions is None else self.directions.shape[1]
        return f"PerturbationModel(directions={k}, random={self.cov is not None})"


def _orthonormal(D, rtol=1e-10):
    """Orthonormal basis of the column span of ``D`` (``None`` if it is empty)."""
    if D is None or D.size == 0:
        return None
    U, s, _ = np.linalg.svd(D, full_matrices=False)
    keep = s > rtol * max(float(s[0]), np.finfo(float).tiny) if s.size else s > 0
    return U[:, keep] if keep.any() else None


class Defense(ParamsMixin, BaseEstimator):
    r"""Base class of a regression defense calibrated to a utility budget.

    Subclasses implement :meth:`_perturbation` (and :meth:`_moments` when
    the law of ``e`` given the queries has known moments). ``__init__`` only
    stores parameters; the public methods (:meth:`respond`,
    :meth:`perturbation`, :meth:`moments`) validate them once and call the
    private ones, which the simulator calls directly after validating a game.

    Parameters
    ----------
    sigma : float
        Utility budget as a noise level: the defense is calibrated so that the
        utility loss :math:`U_n = E\,\frac1n\sum_i (Y_i - f(X_i))^2` equals
        ``sigma**2``.
    """

    #: display name used in tables and figures
    display_name = "Defense"
    #: True when e depends on the queries/target (no fixed moments)
    query_dependent = False
    _parameter_constraints = {"sigma": [Interval(Real, 0, SIGMA_MAX, closed="both")]}

    def __init__(self, sigma=0.1):
        self.sigma = sigma

    # ----- public, validated --------------------------------------------------------
    def perturbation(self, X, y, *, rng=None, target=None, history=None):
        """Return the perturbation ``e`` (shape ``(n,)``) for queries ``X``.

        Parameters
        ----------
        X : array-like of shape (n, d)
            The queries of this call.
        y : array-like of shape (n,)
            Clean answers ``f(X)``.
        rng : None, int, SeedSequence or numpy.random.Generator
            The defense's random stream.
        target : callable, optional
            The server's model ``f``; designs that need ``f`` off the queries
            (e.g. on evaluation points) use it.
        history : tuple (X_prev, Y_prev), optional
            Earlier queries and answers of a sequential game.
        """
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        e = self._perturbation(X, y, rng=check_generator(rng, "rng"), target=target, history=history)
        return check_vector(e, f"{type(self).__name__} perturbation", n=X.shape[0])

    def respond(self, X, y, *, rng=None, target=None, history=None):
        """Return the answers ``Y = y + e`` to queries ``X`` (arguments as in :meth:`perturbation`)."""
        y = check_vector(y, "y")
        return y + self.perturbation(X, y, rng=rng, target=target, history=history)

    def moments(self, X):
        """Mean and covariance of ``e`` given the queries ``X``.

        Returns
        -------
        Moments
            For perturbations whose law does not depend on ``y``.

        Raises
        ------
        NotImplementedError
            For query- and target-dependent designs, whose perturbation is a
            deterministic function of the game (use ``perturbation`` instead).
        """
        self._validate_params()
        return self._moments(check_queries(X, "X"))

    def perturbation_model(self, X, *, rng=None, n_directions=3):
        r"""The attacker's model of ``e`` on queries ``X`` when it knows this defense but not ``sigma``.

        By default it is read off :meth:`moments`: the direction of the mean
        :math:`\mu/\|\mu\|` (its length is the unknown budget) and the
        covariance scaled to unit mean variance. Query-dependent designs
        override it with what can be computed from the queries alone (Order
        Disguise: its direction; the linear-smoother designs: the top
        eigenvectors of the curvature :math:`M`, which does not depend on
        ``f``).

        Parameters
        ----------
        X : array-like of shape (n, d)
        rng : None, int, SeedSequence or Generator
            Randomness of the model (e.g. evaluation points of a design).
        n_directions : int
            Number of directions of designs whose perturbation is not one fixed direction.

        Returns
        -------
        PerturbationModel

        Raises
        ------
        NotImplementedError
            When nothing about ``e`` can be computed without the target.
        """
        self._validate_params()
        if isinstance(n_directions, bool) or not isinstance(n_directions, numbers.Integral) or n_directions < 1:
            raise ValueError(f"n_directions must be an int >= 1, got {n_directions!r}.")
        return self._perturbation_model(check_queries(X, "X"), check_generator(rng, "rng"), int(n_directions))

    # ----- private, trusted -----------------------------------------------------------
    def _perturbation(self, X, y, *, rng, target=None, history=None):
        raise NotImplementedError

    def _perturbation_model(self, X, rng, n_directions):
        mom = self._moments(X)
        n = X.shape[0]
        mean_norm = float(np.linalg.norm(mom.mean))
        D = _orthonormal((mom.mean / mean_norm)[:, None]) if mean_norm > 0 else None
        scale = float(np.trace(mom.cov)) / n
        cov = mom.cov / scale if scale > 0 else None
        return PerturbationModel(D, cov)

    def _moments(self, X):
        raise NotImplementedError(
            f"{type(self).__name__} is a query-dependent design; its perturbation is "
            "deterministic given the queries and the target: call perturbation()."
        )
