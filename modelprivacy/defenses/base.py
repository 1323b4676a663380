"""Base class of regression response mechanisms (defenses).

A defense answers a batch of queries ``X`` whose clean answers are
``y = f(X)`` with ``Y = y + e``; the perturbation ``e`` may depend on the whole
batch (query-dependent designs), on the target ``f`` and on the history of
earlier answers (sequential games).
"""

from __future__ import annotations

import numpy as np

from .._params import ParamsMixin
from .._validation import check_queries, check_generator, check_scalar, check_vector

__all__ = ["Defense", "Moments"]


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


class Defense(ParamsMixin):
    """Base class of a regression defense calibrated to a utility budget.

    Subclasses implement :meth:`perturbation`. ``__init__`` only stores
    parameters (scikit-learn convention); validation happens in
    :meth:`_validate`, called before every use.

    Parameters
    ----------
    sigma : float
        Utility budget as a noise level: the defense is calibrated so that the
        utility loss :math:`U_n = E\\,\\frac1n\\sum_i (Y_i - f(X_i))^2` equals
        ``sigma**2``.
    """

    #: display name used in tables and figures
    display_name = "Defense"
    #: True when e depends on the queries/target (no fixed moments)
    query_dependent = False

    def __init__(self, sigma=0.1):
        self.sigma = sigma

    def __eq__(self, other):
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self):
        return hash(repr(self))

    # ----- the mechanism --------------------------------------------------------
    def _validate(self):
        check_scalar(self.sigma, "sigma", low=0.0)

    def perturbation(self, X, y, *, rng, target=None, history=None):
        """Return the perturbation ``e`` (shape ``(n,)``) for queries ``X``.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            The queries of this call.
        y : ndarray of shape (n,)
            Clean answers ``f(X)``.
        rng : numpy.random.Generator
            The defense's random stream.
        target : callable, optional
            The server's model ``f``; designs that need ``f`` off the queries
            (e.g. on evaluation points) use it.
        history : tuple (X_prev, Y_prev), optional
            Earlier queries and answers of a sequential game.
        """
        raise NotImplementedError

    def respond(self, X, y, *, rng=None, target=None, history=None):
        """Return the answers ``Y = y + e`` to queries ``X``."""
        self._validate()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        rng = check_generator(rng, "rng")
        e = self.perturbation(X, y, rng=rng, target=target, history=history)
        e = check_vector(e, f"{type(self).__name__} perturbation", n=X.shape[0])
        return y + e

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
        raise NotImplementedError(
            f"{type(self).__name__} is a query-dependent design; its perturbation is "
            "deterministic given the queries and the target: call perturbation()."
        )
