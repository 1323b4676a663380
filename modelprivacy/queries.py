r"""Query strategies: how the attacker chooses its ``n`` queries.

Two kinds of strategy exist:

* **batch** strategies (IID uniform, clipped Gaussian, Beta, multivariate
  Gaussian design, equal-space grid, pool sampling) draw all ``n`` queries
  first; the server answers them as one batch, so a defense sees the whole
  query set (this is what makes query-dependent perturbations possible);
* **interactive** strategies (:class:`SequentialQueries`,
  :class:`AdaptiveQueries`) send one query at a time and receive its answer
  before choosing the next, so a defense sees only the history.

Every strategy implements ``collect(n, server, rng) -> (X, Y)``; batch
strategies also implement ``sample(n, rng) -> X``, which is what an
*evaluation distribution* needs. Both validate the strategy's parameters
once and then call the private ``_sample``/``_collect``, which the simulation
engine calls directly after validating a game once.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy import special
from sklearn.base import BaseEstimator, clone

from ._param_validation import HasMethods, Interval, StrOptions
from ._validation import check_generator, check_int, check_interval, check_queries, check_symmetric, check_vector
from .attacks.regression import OLSRegression
from .base import ParamsMixin

__all__ = [
    "QueryStrategy",
    "UniformQueries",
    "GaussianQueries",
    "BetaQueries",
    "MultivariateGaussianQueries",
    "GridQueries",
    "PoolQueries",
    "SequentialQueries",
    "AdaptiveQueries",
    "RepeatedQueries",
    "OwnedPointQueries",
    "toeplitz_covariance",
    "QUERY_STRATEGIES",
]


def _check_n(n, name="n"):
    return check_int(n, name, low=1)


class QueryStrategy(ParamsMixin, BaseEstimator):
    """Base class. ``__init__`` stores parameters; ``sample``/``collect`` do the work."""

    #: True when queries are answered one at a time
    interactive = False

    def sample(self, n, rng=None):
        """Draw ``n`` queries as an array of shape ``(n, d)``.

        Parameters
        ----------
        n : int
            Number of queries, ``>= 1``.
        rng : None, int, SeedSequence or numpy.random.Generator
        """
        self._validate_params()
        n = _check_n(n)
        self.check_budget(n)
        return self._sample(n, check_generator(rng, "rng"))

    def _sample(self, n, rng):
        raise NotImplementedError(f"{type(self).__name__} cannot sample a batch of queries.")

    def collect(self, n, server, rng=None):
        """Query ``server`` ``n`` times and return ``(X, Y)``.

        Batch strategies send all ``n`` queries at once.
        """
        self._validate_params()
        n = _check_n(n)
        self.check_budget(n)
        return self._collect(n, server, check_generator(rng, "rng"))

    def _collect(self, n, server, rng):
        X = self._sample(n, rng)
        return X, server.answer(X)

    def min_queries(self):
        """Smallest budget this strategy can run with."""
        return 1

    def quadrature(self, n_nodes=256):
        r"""Nodes and weights integrating against the query distribution: :math:`E\,h(X) \approx \sum_j w_j h(x_j)`.

        Implemented by the one-dimensional distributions with a density
        (uniform, Beta) as Gauss-Jacobi rules, exact for polynomials of degree
        up to ``2 * n_nodes - 1``.

        Parameters
        ----------
        n_nodes : int

        Returns
        -------
        nodes : ndarray of shape (n_nodes, 1)
        weights : ndarray of shape (n_nodes,)
            Positive, summing to 1.

        Raises
        ------
        NotImplementedError
            For distributions without a rule (use Monte Carlo with :meth:`sample`).
        """
        self._validate_params()
        return self._quadrature(check_int(n_nodes, "n_nodes", low=1))

    def _quadrature(self, n_nodes):
        raise NotImplementedError(f"{type(self).__name__} has no quadrature rule; sample it instead.")

    def check_budget(self, n, name="n"):
        """Raise if this strategy cannot produce ``n`` queries."""


class _IntervalMixin:
    """Validation of an ``interval = (lb, ub)`` parameter (finite unless ``infinite_ok``)."""

    infinite_ok = False

    def _validate_params(self):
        super()._validate_params()
        lb, ub = check_interval(*_pair(self.interval), name="interval")
        if not self.infinite_ok and not (np.isfinite(lb) and np.isfinite(ub)):
            raise ValueError(f"{type(self).__name__} needs a finite interval, got {self.interval!r}.")


def _pair(value):
    try:
        lb, ub = value
    except (TypeError, ValueError) as exc:
        raise TypeError(f"interval must be a pair (lb, ub), got {value!r}.") from exc
    return lb, ub


class UniformQueries(_IntervalMixin, QueryStrategy):
    """IID queries from the uniform distribution on ``interval^d``.

    Parameters
    ----------
    interval : (float, float)
        ``(lb, ub)`` with ``lb < ub``.
    d : int
        Dimension.
    """

    _parameter_constraints = {"d": [Interval(Integral, 1, None)]}

    def __init__(self, interval=(0.0, 1.0), *, d=1):
        self.interval = interval
        self.d = d

    def _sample(self, n, rng):
        lb, ub = (float(v) for v in self.interval)
        return rng.uniform(lb, ub, size=(n, int(self.d)))

    def _quadrature(self, n_nodes):
        if int(self.d) != 1:
            raise NotImplementedError("UniformQueries has a quadrature rule in one dimension only.")
        return _jacobi_rule(n_nodes, 1.0, 1.0, self.interval)


class GaussianQueries(_IntervalMixin, QueryStrategy):
    """IID Gaussian queries ``N(mean, std^2)`` clipped to ``interval``.

    Parameters
    ----------
    mean : float
    std : float > 0
    interval : (float, float)
        Clipping interval (infinite ends allowed).
    d : int
    """

    infinite_ok = True
    _parameter_constraints = {
        "mean": [Interval(Real, None, None)],
        "std": [Interval(Real, 0, None, closed="neither")],
        "d": [Interval(Integral, 1, None)],
    }

    def __init__(self, mean=0.0, *, std=1.0, interval=(-np.inf, np.inf), d=1):
        self.mean = mean
        self.std = std
        self.interval = interval
        self.d = d

    def _sample(self, n, rng):
        lb, ub = (float(v) for v in self.interval)
        x = rng.normal(float(self.mean), float(self.std), size=(n, int(self.d)))
        return np.clip(x, lb, ub)


class BetaQueries(_IntervalMixin, QueryStrategy):
    """IID queries ``lb + (ub - lb) Beta(a, b)``.

    The authors' code ignores the interval (always [0, 1]); here it is honoured,
    and the default interval [0, 1] reproduces their queries.

    Parameters
    ----------
    a, b : float > 0
        Shape parameters.
    interval : (float, float)
    """

    _parameter_constraints = {
        "a": [Interval(Real, 0, None, closed="neither")],
        "b": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, a=1.0, *, b=3.0, interval=(0.0, 1.0)):
        self.a = a
        self.b = b
        self.interval = interval

    def _sample(self, n, rng):
        lb, ub = (float(v) for v in self.interval)
        x = rng.beta(float(self.a), float(self.b), size=(n, 1))
        return lb + (ub - lb) * x

    def _quadrature(self, n_nodes):
        return _jacobi_rule(n_nodes, float(self.a), float(self.b), self.interval)


def _jacobi_rule(n_nodes, a, b, interval):
    r"""Gauss-Jacobi rule of ``lb + (ub - lb) Beta(a, b)``.

    With :math:`t = (1 + s)/2`, the Beta density :math:`\propto t^{a-1}(1-t)^{b-1}`
    is the Jacobi weight :math:`(1-s)^{b-1}(1+s)^{a-1}` on [-1, 1].
    """
    s, w = special.roots_jacobi(n_nodes, b - 1.0, a - 1.0)
    lb, ub = (float(v) for v in interval)
    return (lb + (ub - lb) * (1.0 + s) / 2.0)[:, None], w / w.sum()


def toeplitz_covariance(d, rho=0.5):
    r"""Covariance :math:`\Sigma_{ij} = \rho^{|i-j|}` of dimension ``d``."""
    d = check_int(d, "d", low=1)
    if isinstance(rho, bool) or not isinstance(rho, Real) or not -1.0 < float(rho) < 1.0:
        raise ValueError(f"rho must be a float in (-1, 1), got {rho!r}.")
    idx = np.arange(d)
    return float(rho) ** np.abs(idx[:, None] - idx[None, :])


class MultivariateGaussianQueries(QueryStrategy):
    """IID Gaussian design ``N(0, cov)`` (the high-dimensional sparse game).

    Parameters
    ----------
    cov : array-like of shape (d, d)
        Symmetric positive definite covariance.
    """

    _parameter_constraints = {"cov": ["array-like"]}

    def __init__(self, cov):
        self.cov = cov

    def _validate_params(self):
        super()._validate_params()
        self._chol()

    def _chol(self):
        cov = check_symmetric(self.cov, "cov")
        try:
            return np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as exc:
            raise ValueError("cov must be symmetric positive definite.") from exc

    def _sample(self, n, rng):
        L = self._chol()
        z = rng.standard_normal((n, L.shape[0]))
        return z @ L.T


class GridQueries(_IntervalMixin, QueryStrategy):
    """Deterministic equal-space grid ``linspace(lb, ub, n)``.

    Parameters
    ----------
    interval : (float, float)
    """

    def __init__(self, interval=(0.0, 1.0)):
        self.interval = interval

    def _sample(self, n, rng):
        lb, ub = (float(v) for v in self.interval)
        return np.linspace(lb, ub, n)[:, None]


class PoolQueries(QueryStrategy):
    """Queries drawn from a pool of inputs the attacker owns.

    Parameters
    ----------
    pool : array-like of shape (N, d)
    replace : bool
        Draw with replacement (the regression code) or without (the image and
        text experiments); without replacement needs ``n <= N``.
    """

    _parameter_constraints = {"pool": ["array-like"], "replace": ["boolean"]}

    def __init__(self, pool, *, replace=True):
        self.pool = pool
        self.replace = replace

    def _validate_params(self):
        super()._validate_params()
        check_queries(self.pool, "pool")

    def check_budget(self, n, name="n"):
        size = np.asarray(self.pool).shape[0]
        if not self.replace and n > size:
            raise ValueError(f"pool has {size} inputs, fewer than {name}={n} queries drawn without replacement.")

    def _sample(self, n, rng):
        pool = check_queries(self.pool, "pool")
        idx = rng.choice(pool.shape[0], size=n, replace=bool(self.replace))
        return pool[idx]


class SequentialQueries(QueryStrategy):
    """Truly sequential queries: each is answered before the next is drawn.

    Queries are IID from ``base`` but reach the server one at a time, so a
    defense sees only the current query and the history of earlier answers
    (a batch-level design cannot use the whole query set).

    Parameters
    ----------
    base : QueryStrategy, optional
        Batch strategy of the individual queries (default U(0, 1)).
    """

    interactive = True
    _parameter_constraints = {"base": [QueryStrategy, None]}

    def __init__(self, base=None):
        self.base = base

    def _validate_params(self):
        super()._validate_params()
        self._base()._validate_params()

    def _base(self):
        return UniformQueries() if self.base is None else self.base

    def _sample(self, n, rng):
        return self._base()._sample(n, rng)

    def _collect(self, n, server, rng):
        base = self._base()
        X, Y = [], []
        for _ in range(n):
            x = base._sample(1, rng)
            Y.append(server.answer(x)[0])
            X.append(x[0])
        return np.asarray(X), np.asarray(Y)


class AdaptiveQueries(QueryStrategy):
    r"""Adaptive queries by query-by-committee: ask where the current copy is least certain.

    After ``n_init`` IID queries from ``base``, each further query is the
    candidate (from ``n_candidates`` fresh draws of ``base``) where a committee
    of ``committee_size`` bootstrap refits of ``learner`` on the answers so far
    disagrees most (largest prediction variance). The next query therefore
    depends on the past *answers*, not only on past queries.

    Parameters
    ----------
    learner : scikit-learn regressor, optional
        The attacker's learner used for the committee (default quadratic least squares).
    base : QueryStrategy, optional
        Candidate distribution (default U(0, 1)).
    n_init, n_candidates, committee_size : int
    """

    interactive = True
    _parameter_constraints = {
        "learner": [HasMethods(["fit", "predict"]), None],
        "base": [QueryStrategy, None],
        "n_init": [Interval(Integral, 2, None)],
        "n_candidates": [Interval(Integral, 1, None)],
        "committee_size": [Interval(Integral, 2, None)],
    }

    def __init__(self, learner=None, *, base=None, n_init=10, n_candidates=200, committee_size=8):
        self.learner = learner
        self.base = base
        self.n_init = n_init
        self.n_candidates = n_candidates
        self.committee_size = committee_size

    def _base(self):
        return UniformQueries() if self.base is None else self.base

    def _sample(self, n, rng):
        return self._base()._sample(n, rng)

    def min_queries(self):
        return int(self.n_init)

    def check_budget(self, n, name="n"):
        if n < int(self.n_init):
            raise ValueError(f"{name}={n} is smaller than n_init={self.n_init} of AdaptiveQueries.")

    def _collect(self, n, server, rng):
        B = int(self.committee_size)
        learner = OLSRegression(n_terms=3) if self.learner is None else self.learner
        base = self._base()
        X = base._sample(int(self.n_init), rng)
        Y = server.answer(X)
        for _ in range(n - int(self.n_init)):
            cand = base._sample(int(self.n_candidates), rng)
            preds = np.empty((B, cand.shape[0]))
            for b in range(B):
                idx = rng.integers(0, X.shape[0], size=X.shape[0])
                preds[b] = clone(learner).fit(X[idx], Y[idx]).predict(cand)
            x = cand[[int(np.argmax(preds.var(axis=0)))]]
            X = np.vstack([X, x])
            Y = np.concatenate([Y, server.answer(x)])
        return X, check_vector(Y, "Y")


class RepeatedQueries(QueryStrategy):
    r"""Ask each of :math:`m = \lceil n/k \rceil` points ``k`` times; the budget counts every answer.

    The defense-aware query strategy against perturbations drawn afresh for
    each answer: the attacker averages the ``k`` answers to each point
    (:class:`~modelprivacy.attacks.RepeatAveraging`), which divides the
    variance of independent noise by ``k`` -- at the price of ``k`` times
    fewer distinct points for the same budget ``n``. Against a defense that
    answers a repeated query identically (constant shift, Order Disguise, a
    random perturbation *function*, the online designs) repetition buys
    nothing.

    Parameters
    ----------
    base : QueryStrategy, optional
        Batch strategy of the distinct points (default U(0, 1)).
    repeats : int
        ``k``, the number of times each point is asked.
    schedule : {"rounds", "batch"}
        ``"rounds"``: ``k`` successive batches, each holding the ``m``
        distinct points (the server sees the same batch ``k`` times and keeps
        the history; a batch-level random defense such as long-range noise
        draws an independent series for each round). ``"batch"``: one batch
        of ``n`` queries, the distinct points tiled ``k`` times (long-range
        noise then correlates the repeats). When ``k`` does not divide ``n``
        the last round (or tile) holds only the first ``n - (k-1)m`` points.
    """

    _parameter_constraints = {
        "base": [QueryStrategy, None],
        "repeats": [Interval(Integral, 1, None)],
        "schedule": [StrOptions({"rounds", "batch"})],
    }

    def __init__(self, base=None, *, repeats=2, schedule="rounds"):
        self.base = base
        self.repeats = repeats
        self.schedule = schedule

    @property
    def interactive(self):
        """True with ``schedule="rounds"`` (the server answers one round before the next is sent)."""
        return self.schedule == "rounds"

    def _validate_params(self):
        super()._validate_params()
        self._base()._validate_params()

    def _base(self):
        return UniformQueries() if self.base is None else self.base

    def _distinct(self, n, rng):
        return self._base()._sample(-(-n // int(self.repeats)), rng)

    def _sample(self, n, rng):
        return np.tile(self._distinct(n, rng), (int(self.repeats), 1))[:n]

    def _collect(self, n, server, rng):
        if self.schedule == "batch":
            X = self._sample(n, rng)
            return X, server.answer(X)
        P = self._distinct(n, rng)
        X, Y = [], []
        left = n
        while left > 0:
            batch = P[: min(left, P.shape[0])]
            X.append(batch)
            Y.append(server.answer(batch))
            left -= batch.shape[0]
        return np.vstack(X), np.concatenate(Y)


class OwnedPointQueries(QueryStrategy):
    """Send a few points whose clean answers the attacker owns among ``n - k`` points from ``base``.

    The owned points sit at evenly spread positions of the batch
    (:meth:`positions`; a perturbation correlated along the batch, such as
    long-range noise, is then sampled across its whole length). They travel
    in the same batch as the other queries, so a
    query-dependent defense perturbs them as part of the batch; the attacker
    compares their answers with its clean values to estimate the perturbation
    (:class:`~modelprivacy.attacks.KnownDefenseAttacker`). The budget ``n``
    counts them.

    Parameters
    ----------
    base : QueryStrategy, optional
        Batch strategy of the other queries (default U(0, 1)).
    points : array-like of shape (k, d)
        The owned points.
    """

    _parameter_constraints = {"base": [QueryStrategy, None], "points": ["array-like"]}

    def __init__(self, base=None, *, points=((0.5,),)):
        self.base = base
        self.points = points

    def _validate_params(self):
        super()._validate_params()
        self._base()._validate_params()
        check_queries(self.points, "points")

    def _base(self):
        return UniformQueries() if self.base is None else self.base

    def min_queries(self):
        return check_queries(self.points, "points").shape[0]

    def check_budget(self, n, name="n"):
        k = check_queries(self.points, "points").shape[0]
        if n < k:
            raise ValueError(f"{name}={n} is smaller than the {k} owned points of OwnedPointQueries.")

    def positions(self, n):
        """Indices of the owned points in a batch of ``n`` queries: evenly spread, first and last included."""
        k = check_queries(self.points, "points").shape[0]
        return np.round(np.linspace(0, n - 1, k)).astype(int) if k > 1 else np.zeros(1, dtype=int)

    def _sample(self, n, rng):
        P = check_queries(self.points, "points")
        X = np.empty((n, P.shape[1]))
        pos = self.positions(n)
        rest = np.setdiff1d(np.arange(n), pos)
        X[pos] = P
        if rest.size:
            X[rest] = self._base()._sample(rest.size, rng)
        return X


#: registry name -> query strategy class
QUERY_STRATEGIES = {
    "uniform": UniformQueries,
    "gaussian": GaussianQueries,
    "beta": BetaQueries,
    "multivariate_gaussian": MultivariateGaussianQueries,
    "grid": GridQueries,
    "pool": PoolQueries,
    "sequential": SequentialQueries,
    "adaptive": AdaptiveQueries,
    "repeated": RepeatedQueries,
    "owned_points": OwnedPointQueries,
}
