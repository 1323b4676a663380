r"""The threat model: one description of a model stealing game.

::

    queries X = Q(n, rng)           # query strategy
    clean   y = f(X)                # the server's model (target)
    answers Y = M(X, y, rng)        # response mechanism = defense
    copy    f_hat = L(X, Y)         # learning algorithm = attacker
    score   PL_n = E l(f_hat, f)    # stealing error on the evaluation distribution
    cost    U_n  = E (1/n)||Y - y||^2
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ._validation import check_generator, check_int, check_queries, check_vector
from .attacks import OLSRegression, PolynomialRegression, make_attacker
from .base import ParamsMixin
from .defenses import Defense, make_defense
from .queries import QueryStrategy

__all__ = ["ThreatModel", "Server", "attacker_min_queries"]


def attacker_min_queries(attacker):
    """Smallest budget ``n`` the attacker can fit with."""
    if isinstance(attacker, OLSRegression):
        return check_int(attacker.n_terms, "n_terms", low=1)
    if isinstance(attacker, PolynomialRegression):
        return 2
    cv = getattr(attacker, "cv", None)
    if isinstance(cv, int):
        return max(cv, 2)
    if cv is None and type(attacker).__name__ in ("LassoCV", "ElasticNetCV"):
        return 5
    return 1


def _name(obj):
    if hasattr(obj, "__name__"):
        return obj.__name__
    return repr(obj)


@dataclass(frozen=True)
class ThreatModel:
    """A model stealing game: who queries what, who answers how, who learns what.

    Parameters
    ----------
    target : callable
        The server's model ``f``: array of shape ``(n, d)`` -> ``(n,)``.
    queries : QueryStrategy
        The attacker's query strategy ``Q``.
    n : int
        Query budget.
    defense : Defense or str
        Response mechanism ``M`` (a registry name like ``"iid"`` is built with
        default parameters).
    attacker : estimator or str
        Learning algorithm ``L``: any scikit-learn regressor, or a registry name.
    evaluation : QueryStrategy, optional
        Evaluation (test) distribution of the stealing error; defaults to the
        query distribution.
    n_eval : int
        Number of fresh evaluation points per replication.
    """

    target: object
    queries: QueryStrategy
    n: int
    defense: object
    attacker: object
    evaluation: QueryStrategy | None = None
    n_eval: int = 1000

    def __post_init__(self):
        if not callable(self.target):
            raise TypeError(f"target must be callable (X -> y), got {type(self.target).__name__}.")
        if not isinstance(self.queries, QueryStrategy):
            raise TypeError(f"queries must be a QueryStrategy, got {type(self.queries).__name__}.")
        object.__setattr__(self, "n", check_int(self.n, "n", low=1))
        object.__setattr__(self, "n_eval", check_int(self.n_eval, "n_eval", low=1))
        if isinstance(self.defense, str):
            object.__setattr__(self, "defense", make_defense(self.defense))
        if not isinstance(self.defense, Defense):
            raise TypeError(f"defense must be a Defense or a registry name, got {type(self.defense).__name__}.")
        object.__setattr__(self, "attacker", make_attacker(self.attacker))
        if self.evaluation is not None and not isinstance(self.evaluation, QueryStrategy):
            raise TypeError(f"evaluation must be a QueryStrategy, got {type(self.evaluation).__name__}.")
        # every component's parameters, once: the simulator then calls their private methods
        for part in (self.target, self.queries, self.defense, self.attacker, self.evaluation):
            if isinstance(part, ParamsMixin):
                part._validate_params()
        need = max(attacker_min_queries(self.attacker), self.queries.min_queries())
        if self.n < need:
            raise ValueError(
                f"n={self.n} is below what the attacker {type(self.attacker).__name__} "
                f"and the query strategy need (n >= {need})."
            )
        self.queries.check_budget(self.n, "n")
        self.evaluation_distribution.check_budget(self.n_eval, "n_eval")

    @property
    def evaluation_distribution(self):
        return self.queries if self.evaluation is None else self.evaluation

    def get_params(self, deep=True):
        """The game's fields (and with ``deep``, each component's parameters as ``field__param``).

        The same contract as :meth:`sklearn.base.BaseEstimator.get_params`:
        the simulator fingerprints a game from it.
        """
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if deep:
            for name, value in list(out.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    out.update((f"{name}__{k}", v) for k, v in value.get_params(deep=True).items())
        return out

    def replace(self, **changes):
        """Return a copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    def fresh_attacker(self):
        """An unfitted copy of the attacker."""
        return clone(self.attacker)

    def __str__(self):
        return (
            "ThreatModel(\n"
            f"  target     = {_name(self.target)}\n"
            f"  queries    = {self.queries!r}\n"
            f"  budget n   = {self.n}\n"
            f"  defense    = {self.defense!r}\n"
            f"  attacker   = {self.attacker!r}\n"
            f"  evaluation = {self.evaluation_distribution!r} (n_eval={self.n_eval})\n"
            ")"
        )


class Server:
    """The server: answers queries with ``defense.respond(X, f(X))`` and keeps the history.

    Parameters
    ----------
    target : callable
    defense : Defense
    rng : numpy.random.Generator or seed
        The defense's random stream.
    """

    def __init__(self, target, defense, rng=None):
        if not callable(target):
            raise TypeError(f"target must be callable (X -> y), got {type(target).__name__}.")
        if not isinstance(defense, Defense):
            raise TypeError(f"defense must be a Defense, got {type(defense).__name__}.")
        defense._validate_params()  # once: every answer then calls the defense's private method
        self.target = target
        self.defense = defense
        self.rng = check_generator(rng, "rng")
        self._X, self._y, self._Y = [], [], []

    def answer(self, X):
        """Answer a batch (or one) of queries; returns ``Y`` of shape ``(len(X),)``."""
        X = check_queries(X, "X")
        y = check_vector(self.target(X), "target(X)", n=X.shape[0])
        history = None
        if self._X:
            history = (np.vstack(self._X), np.concatenate(self._Y))
        e = self.defense._perturbation(X, y, rng=self.rng, target=self.target, history=history)
        Y = y + check_vector(e, f"{type(self.defense).__name__} perturbation", n=X.shape[0])
        self._X.append(X)
        self._y.append(y)
        self._Y.append(Y)
        return Y

    @property
    def clean_answers(self):
        """Clean answers ``f(X)`` of every query so far, in order."""
        return np.concatenate(self._y) if self._y else np.empty(0)
