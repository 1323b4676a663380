"""Base class of regression response mechanisms (defenses).

A defense answers a batch of queries ``X`` whose clean answers are
``y = f(X)`` with ``Y = y + e``; the perturbation ``e`` may depend on the whole
batch (query-dependent designs), on the target ``f`` and on the history of
earlier answers (sequential games).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator

from .._param_validation import Interval
from .._validation import check_generator, check_queries, check_vector
from ..base import ParamsMixin

__all__ = ["Defense", "Moments", "SIGMA_MAX"]

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

    # ----- private, trusted -----------------------------------------------------------
    def _perturbation(self, X, y, *, rng, target=None, history=None):
        raise NotImplementedError

    def _moments(self, X):
        raise NotImplementedError(
            f"{type(self).__name__} is a query-dependent design; its perturbation is "
            "deterministic given the queries and the target: call perturbation()."
        )
