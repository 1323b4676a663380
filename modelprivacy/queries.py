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
*evaluation distribution* needs.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from ._validation import (
    check_int,
    check_interval,
    check_matrix,
    check_queries,
    check_generator,
    check_scalar,
    check_vector,
)

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
    "toeplitz_covariance",
]


class QueryStrategy:
    """Base class. ``__init__`` stores parameters; ``sample``/``collect`` do the work."""

    #: True when queries are answered one at a time
    interactive = False

    def _validate(self):
        pass

    def sample(self, n, rng=None):
        """Draw ``n`` queries as an array of shape ``(n, d)``."""
        raise NotImplementedError(f"{type(self).__name__} cannot sample a batch of queries.")

    def collect(self, n, server, rng=None):
        """Query ``server`` ``n`` times and return ``(X, Y)``.

        Batch strategies send all ``n`` queries at once.
        """
        X = self.sample(n, rng)
        return X, server.answer(X)

    def min_queries(self):
        return 1

    def check_budget(self, n, name="n"):
        """Raise if this strategy cannot produce ``n`` queries."""

    def _params(self):
        return dict(vars(self))

    def __repr__(self):
        args = ", ".join(f"{k}={_short(v)}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array{v.shape}"
    return repr(v)


def _check_n(n):
    return check_int(n, "n", low=1)


class UniformQueries(QueryStrategy):
    """IID queries from the uniform distribution on ``[lb, ub]^d``."""

    def __init__(self, lb=0.0, ub=1.0, d=1):
        self.lb = lb
        self.ub = ub
        self.d = d

    def sample(self, n, rng=None):
        lb, ub = check_interval(self.lb, self.ub, "interval (lb, ub)")
        if not (np.isfinite(lb) and np.isfinite(ub)):
            raise ValueError("UniformQueries needs a finite interval (lb, ub).")
        d = check_int(self.d, "d", low=1)
        return check_generator(rng, "rng").uniform(lb, ub, size=(_check_n(n), d))


class GaussianQueries(QueryStrategy):
    """IID Gaussian queries ``N(mean, std^2)`` clipped to ``[lb, ub]``."""

    def __init__(self, mean=0.0, std=1.0, lb=-np.inf, ub=np.inf, d=1):
        self.mean = mean
        self.std = std
        self.lb = lb
        self.ub = ub
        self.d = d

    def sample(self, n, rng=None):
        lb, ub = check_interval(self.lb, self.ub, "interval (lb, ub)")
        std = check_scalar(self.std, "std", low=0.0, low_inclusive=False)
        mean = check_scalar(self.mean, "mean")
        d = check_int(self.d, "d", low=1)
        x = check_generator(rng, "rng").normal(mean, std, size=(_check_n(n), d))
        return np.clip(x, lb, ub)


class BetaQueries(QueryStrategy):
    """IID queries ``lb + (ub - lb) Beta(a, b)``.

    The authors' code ignores the interval (always [0, 1]); here it is honoured,
    and the default interval [0, 1] reproduces their queries.
    """

    def __init__(self, a=1.0, b=3.0, lb=0.0, ub=1.0):
        self.a = a
        self.b = b
        self.lb = lb
        self.ub = ub

    def sample(self, n, rng=None):
        a = check_scalar(self.a, "a", low=0.0, low_inclusive=False)
        b = check_scalar(self.b, "b", low=0.0, low_inclusive=False)
        lb, ub = check_interval(self.lb, self.ub, "interval (lb, ub)")
        if not (np.isfinite(lb) and np.isfinite(ub)):
            raise ValueError("BetaQueries needs a finite interval (lb, ub).")
        x = check_generator(rng, "rng").beta(a, b, size=(_check_n(n), 1))
        return lb + (ub - lb) * x


def toeplitz_covariance(d, rho=0.5):
    r"""Covariance :math:`\Sigma_{ij} = \rho^{|i-j|}` of dimension ``d``."""
    d = check_int(d, "d", low=1)
    rho = check_scalar(rho, "rho", low=-1.0, high=1.0, low_inclusive=False, high_inclusive=False)
    idx = np.arange(d)
    return rho ** np.abs(idx[:, None] - idx[None, :])


class MultivariateGaussianQueries(QueryStrategy):
    """IID Gaussian design ``N(0, cov)`` (the high-dimensional sparse game)."""

    def __init__(self, cov):
        self.cov = cov

    def _chol(self):
        cov = check_matrix(self.cov, "cov", square=True)
        try:
            return np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as exc:
            raise ValueError("cov must be symmetric positive definite.") from exc

    def sample(self, n, rng=None):
        L = self._chol()
        z = check_generator(rng, "rng").standard_normal((_check_n(n), L.shape[0]))
        return z @ L.T


class GridQueries(QueryStrategy):
    """Deterministic equal-space grid ``linspace(lb, ub, n)``."""

    def __init__(self, lb=0.0, ub=1.0):
        self.lb = lb
        self.ub = ub

    def sample(self, n, rng=None):
        lb, ub = check_interval(self.lb, self.ub, "interval (lb, ub)")
        if not (np.isfinite(lb) and np.isfinite(ub)):
            raise ValueError("GridQueries needs a finite interval (lb, ub).")
        return np.linspace(lb, ub, _check_n(n))[:, None]


class PoolQueries(QueryStrategy):
    """Queries drawn from a pool of inputs the attacker owns.

    Parameters
    ----------
    pool : array-like of shape (N, d)
    replace : bool
        Draw with replacement (the regression code) or without (the image and
        text experiments); without replacement needs ``n <= N``.
    """

    def __init__(self, pool, replace=True):
        self.pool = pool
        self.replace = replace

    def check_budget(self, n, name="n"):
        size = check_queries(self.pool, "pool").shape[0]
        if not self.replace and n > size:
            raise ValueError(f"pool has {size} inputs, fewer than {name}={n} queries drawn without replacement.")

    def sample(self, n, rng=None):
        pool = check_queries(self.pool, "pool")
        n = _check_n(n)
        self.check_budget(n)
        idx = check_generator(rng, "rng").choice(pool.shape[0], size=n, replace=bool(self.replace))
        return pool[idx]


class SequentialQueries(QueryStrategy):
    """Truly sequential queries: each is answered before the next is drawn.

    Queries are IID from ``base`` but reach the server one at a time, so a
    defense sees only the current query and the history of earlier answers
    (a batch-level design cannot use the whole query set).
    """

    interactive = True

    def __init__(self, base=None):
        self.base = base

    def _base(self):
        return UniformQueries() if self.base is None else self.base

    def sample(self, n, rng=None):
        return self._base().sample(n, rng)

    def collect(self, n, server, rng=None):
        rng = check_generator(rng, "rng")
        n = _check_n(n)
        base = self._base()
        X, Y = [], []
        for _ in range(n):
            x = base.sample(1, rng)
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
    learner : scikit-learn regressor
        The attacker's learner used for the committee.
    base : QueryStrategy
        Candidate distribution (default U(0, 1)).
    n_init, n_candidates, committee_size : int
    """

    interactive = True

    def __init__(self, learner=None, base=None, n_init=10, n_candidates=200, committee_size=8):
        self.learner = learner
        self.base = base
        self.n_init = n_init
        self.n_candidates = n_candidates
        self.committee_size = committee_size

    def _base(self):
        return UniformQueries() if self.base is None else self.base

    def sample(self, n, rng=None):
        return self._base().sample(n, rng)

    def min_queries(self):
        return check_int(self.n_init, "n_init", low=2)

    def collect(self, n, server, rng=None):
        from .attacks.regression import OLSRegression

        rng = check_generator(rng, "rng")
        n = _check_n(n)
        n_init = check_int(self.n_init, "n_init", low=2)
        n_cand = check_int(self.n_candidates, "n_candidates", low=1)
        B = check_int(self.committee_size, "committee_size", low=2)
        if n < n_init:
            raise ValueError(f"n={n} is smaller than n_init={n_init} of AdaptiveQueries.")
        learner = OLSRegression(n_terms=3) if self.learner is None else self.learner
        base = self._base()
        X = base.sample(n_init, rng)
        Y = server.answer(X)
        for _ in range(n - n_init):
            cand = base.sample(n_cand, rng)
            preds = np.empty((B, n_cand))
            for b in range(B):
                idx = rng.integers(0, X.shape[0], size=X.shape[0])
                preds[b] = clone(learner).fit(X[idx], Y[idx]).predict(cand)
            x = cand[[int(np.argmax(preds.var(axis=0)))]]
            X = np.vstack([X, x])
            Y = np.concatenate([Y, server.answer(x)])
        return X, check_vector(Y, "Y")
