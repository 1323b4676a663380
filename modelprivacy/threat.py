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

import copy
import dataclasses
import itertools
import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ._fingerprint import fingerprint
from ._validation import check_generator, check_int, check_queries, check_vector
from .attacks import OLSRegression, PolynomialRegression, make_attacker
from .base import ParamsMixin
from .attacks import SoftLabelLogisticRegression
from .defenses import Defense, NoPostprocessing, Postprocessor, make_defense
from .metrics import agreement, auc_f1, flip_rate, kl_per_query, mean_squared_difference, stolen_accuracy
from .queries import QueryStrategy
from .targets import Target

__all__ = [
    "Game",
    "RoundGame",
    "Draw",
    "ThreatModel",
    "ClassificationThreatModel",
    "Server",
    "attacker_min_queries",
    "needs_attacker",
    "round_stream",
    "hook_fields",
]


class Game:
    """What the simulation engine needs of a game description (a cell of a sweep).

    A game is a complete, fingerprintable description of one setting
    (``get_params(deep=True)``). The engine runs replication ``r`` of a list
    of games that share their draws (same :meth:`shared_key`: common random
    numbers) with :meth:`replicate`, which receives the replication's four
    independent seed streams (queries, defense, attacker, evaluation) and
    returns one record (a dict of numbers, the :attr:`record_fields` and any
    hook outputs) per game.

    Attributes
    ----------
    record_fields : tuple of str
        Numeric fields of every record.
    text_fields : tuple of str
        String fields of every record.
    finite_fields : tuple of str
        Those that must be finite (a NaN there marks a stored record garbled).
    primary_metric : str
        The field a precision target refers to.
    shared : tuple of str
        Attributes that games drawing together must share.
    chunk : int
        Consecutive replications per task (many cheap ones amortise the
        task overhead; a slow game uses 1, so workers share its replications).
    """

    record_fields = ()
    text_fields = ()
    finite_fields = ()
    primary_metric = None
    shared = ()
    chunk = 16

    def shared_key(self):
        """Games with equal keys share queries and evaluation points within a replication."""
        return fingerprint([type(self).__name__] + [getattr(self, name) for name in self.shared])

    def labels(self):
        """Default labels of the game's records (overridden by a cell's own labels)."""
        return {}

    @classmethod
    def replicate(cls, games, rep, streams, hooks):
        """Run replication ``rep`` of ``games`` (sharing their draws); one record per game."""
        raise NotImplementedError


class RoundGame(Game):
    r"""A game played in rounds that carry state: an arms race.

    Replication ``r`` of a round game is one whole race. The engine builds
    the state from the replication's first stream and plays rounds until a
    round's record names a stop reason::

        state = game.init_state(SeedSequence(seed, spawn_key=(r, 0)))
        for t = 0, 1, ...:
            state, record = game.step(state, SeedSequence(seed, spawn_key=(r, 1, t)))
            if record["stop_reason"]: break

    so the numbers of round ``t`` depend only on ``(seed, r, t)`` and the
    game, and a race resumed from the state saved after round ``t - 1``
    continues exactly as an uninterrupted one. The engine stores one record
    per round (with a ``round`` field) and, when the sweep writes a records
    file, the state after every completed round
    (``<out>.rounds/<fingerprint>-<r>.pkl``, replaced atomically), so an
    interrupted race restarts from its last completed round, not from round 0.

    Subclasses implement :meth:`init_state` and :meth:`step` (a pure function
    of the state and the round's seed) and declare the fields of a round's
    record: :attr:`record_fields` (numbers; ``bool`` values are stored as
    0/1) and :attr:`text_fields` (strings; ``stop_reason`` is always one).
    Fields named ``seconds`` or ``*_seconds`` are timings, the only values
    that may differ between two runs of the same round.
    """

    text_fields = ("stop_reason",)
    max_rounds = None
    chunk = 1

    def shared_key(self):
        # one race per task: races do not share draws, and a long race should not wait for another
        return fingerprint(["round", self])

    def init_state(self, seed):
        """The state before round 0, drawn from ``seed`` (a ``numpy.random.SeedSequence``)."""
        raise NotImplementedError

    def step(self, state, seed):
        """Play one round: ``(state, seed) -> (new_state, record)``; ``state`` is not modified."""
        raise NotImplementedError

    def play(self, seed=0, rep=0):
        """Play replication ``rep`` of the race in this process, yielding ``(state, record)`` per round.

        The records are those :func:`~modelprivacy.simulate.sweep` stores for
        replication ``rep`` with this ``seed`` (timings aside); the states let
        a notebook inspect the race (or attack the final state) afterwards.
        """
        seed = check_int(seed, "seed", low=0)
        rep = check_int(rep, "rep", low=0)
        state = self.init_state(round_stream(seed, rep, None))
        for t in itertools.count():
            state, record = self.step(state, round_stream(seed, rep, t))
            record = _round_record(self, t, record)
            yield state, record
            if record["stop_reason"]:
                return


def round_stream(seed, rep, t):
    """Seed of round ``t`` of replication ``rep`` (``t=None``: the race's initial state).

    ``seed``, ``rep`` and ``t`` are non-negative integers (a ``TypeError`` or
    ``ValueError`` names the one that is not).
    """
    seed = check_int(seed, "seed", low=0)
    rep = check_int(rep, "rep", low=0)
    t = None if t is None else check_int(t, "t", low=0)
    if t is None:
        return np.random.SeedSequence(seed, spawn_key=(rep, 0))
    return np.random.SeedSequence(seed, spawn_key=(rep, 1, t))


def _round_record(game, t, record):
    """Check a round's record against the game's declared fields; bools become 0/1."""
    if not isinstance(record, dict):
        raise TypeError(f"{type(game).__name__}.step must return (state, dict), got a {type(record).__name__}.")
    expected = {*game.record_fields, *game.text_fields}
    got = set(record) - {"round"}
    if got != expected:
        raise ValueError(f"round {t} of {type(game).__name__}: record fields differ from the declared ones "
                         f"(missing {sorted(expected - got)}, undeclared {sorted(got - expected)}).")
    out = {"round": t}
    for k in game.record_fields:
        v = record[k]
        out[k] = int(v) if isinstance(v, (bool, np.bool_)) else v
    for k in game.text_fields:
        if not isinstance(record[k], str):
            raise TypeError(f"round {t}: text field {k!r} must be a str, got {type(record[k]).__name__}.")
        out[k] = record[k]
    if not out["stop_reason"] and game.max_rounds is not None and t + 1 >= int(game.max_rounds):
        raise ValueError(f"{type(game).__name__} played round {t} of max_rounds={game.max_rounds} "
                         "without a stop reason.")
    return out


@dataclass
class Draw:
    """What one replication drew, handed to hooks (``hook(draw) -> number or dict``).

    Attributes
    ----------
    game : Game
    rep : int
    X : ndarray
        Queries.
    y : ndarray
        Clean answers.
    Y : ndarray
        The defense's answers.
    Z : ndarray
        Evaluation points.
    f_Z : ndarray
        The target (or the victim's answers) on the evaluation points.
    prediction : ndarray
        The copy on the evaluation points.
    attacker : estimator or None
        The fitted copy, when a hook asked for it (see :func:`needs_attacker`).
    """

    game: object
    rep: int
    X: np.ndarray
    y: np.ndarray
    Y: np.ndarray
    Z: np.ndarray
    f_Z: np.ndarray
    prediction: np.ndarray
    attacker: object = None


def needs_attacker(hook):
    """Mark a hook that needs the fitted attacker (the engine then fits each copy on its own)."""
    hook.needs_attacker = True
    return hook


def hook_fields(name, hook):
    """Record fields of a hook: ``name``, or ``name_<field>`` for each of its declared ``fields``."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str (the record field of the hook), got {name!r}.")
    fields = getattr(hook, "fields", None)
    return [name] if fields is None else [f"{name}_{f}" for f in fields]


def _apply_hooks(hooks, draw, record):
    for name, hook in hooks.items():
        out = hook(draw)
        fields = getattr(hook, "fields", None)
        if fields is None:
            record[name] = float(out)
        else:
            if not isinstance(out, dict) or set(out) != set(fields):
                raise ValueError(f"hook {name!r} must return a dict with its declared fields {tuple(fields)}.")
            record.update({f"{name}_{k}": float(out[k]) for k in fields})


def _attacker_seed(streams):
    """The attacker's seed: the first draw of the replication's attacker stream."""
    return int(np.random.default_rng(streams[2]).integers(2**31 - 1))


def _values(target, X):
    """Clean answers ``f(X)`` (a validated target's own evaluation, or any callable)."""
    if isinstance(target, Target):
        return target._evaluate(X)
    return check_vector(target(X), "target(X)", n=X.shape[0])


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
class ThreatModel(Game):
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

    record_fields = ("utility_loss", "stealing_error")
    finite_fields = ("utility_loss", "stealing_error")
    primary_metric = "stealing_error"
    shared = ("target", "queries", "n", "attacker", "evaluation_distribution", "n_eval")

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

    def labels(self):
        sigma = self.defense.get_params(deep=False).get("sigma", 0.0)
        return {"defense": type(self.defense).__name__, "attacker": type(self.attacker).__name__,
                "n": self.n, "sigma": float(sigma)}

    @classmethod
    def replicate(cls, games, rep, streams, hooks):
        r"""One replication of regression games sharing their queries and evaluation points.

        Queries, evaluation points and the attacker's seed are drawn once;
        every defense answers from the same defense stream (common random
        numbers). Batch games whose attacker can fit many answer vectors at
        once (``_fit_predict_many``: polynomial, OLS, kernel ridge) fit every
        game's copy together, sharing the factorisation of the design; the
        numbers do not depend on which games share a task.

        Records: :math:`U_{n,r} = \frac1n\|Y - y\|^2` and
        :math:`\ell_r = \frac1m\|\hat f(Z) - f(Z)\|^2`.
        """
        s_q, s_d, s_e = streams[0], streams[1], streams[3]
        tm0 = games[0]
        t0 = time.perf_counter()
        Z = tm0.evaluation_distribution._sample(tm0.n_eval, np.random.default_rng(s_e))
        fZ = _values(tm0.target, Z)
        interactive = tm0.queries.interactive
        answers = []  # (X, clean y, answers Y) per game
        if interactive:
            for tm in games:
                server = Server(tm.target, tm.defense, rng=np.random.default_rng(s_d))
                Xq, Y = tm.queries._collect(tm.n, server, np.random.default_rng(s_q))
                answers.append((Xq, server.clean_answers, Y))
        else:
            X = tm0.queries._sample(tm0.n, np.random.default_rng(s_q))
            y = _values(tm0.target, X)
            rng_d = np.random.default_rng(s_d)
            start = rng_d.bit_generator.state
            for tm in games:
                rng_d.bit_generator.state = start  # every defense draws from the same stream (CRN)
                e = tm.defense._perturbation(X, y, rng=rng_d, target=tm.target)
                answers.append((X, y, y + check_vector(e, f"{type(tm.defense).__name__} perturbation", n=tm.n)))
        fitted = [None] * len(games)
        wants_fit = any(getattr(h, "needs_attacker", False) for h in hooks.values())
        if not interactive and not wants_fit and hasattr(tm0.attacker, "_fit_predict_many"):
            preds = list(tm0.attacker._fit_predict_many(X, np.column_stack([a[2] for a in answers]), Z).T)
        else:
            preds = []
            for i, (tm, (Xq, _, Y)) in enumerate(zip(games, answers)):
                attacker = copy.deepcopy(tm.attacker)  # unfitted (the game holds a fresh clone)
                if "random_state" in attacker.get_params(deep=False):
                    attacker.set_params(random_state=_attacker_seed(streams))
                fitted[i] = attacker.fit(Xq, Y)
                preds.append(attacker.predict(Z))
        seconds = (time.perf_counter() - t0) / len(games)
        records = []
        for tm, (Xq, yq, Y), pred, att in zip(games, answers, preds, fitted):
            # utility_loss(yq, Y) and stealing_error(fZ, pred) on arrays this replication validated
            rec = {"utility_loss": mean_squared_difference(yq, Y), "stealing_error": mean_squared_difference(fZ, pred)}
            if hooks:
                _apply_hooks(hooks, Draw(tm, rep, Xq, yq, Y, Z, fZ, pred, att), rec)
            rec["seconds"] = seconds
            records.append(rec)
        return records

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


@dataclass(frozen=True)
class ClassificationThreatModel(Game):
    """A classifier-stealing game: queries to a victim API defended by a postprocessor.

    ::

        queries X = Q(n, rng)           # a pool of the victim's task, or a strategy
        clean   P = f(X)                # the victim's probabilities (class 1 only for a binary API)
        answers P_hat = M(P, rng)       # a postprocessor (the defense)
        copy    f_hat = L(X, P_hat)     # a classification attacker
        score   on the victim's test split: agreement (fidelity) with the victim, accuracy,
                AUC and F1 against the true labels; utility on the queries: KL and flip rate

    Parameters
    ----------
    victim : Victim
    queries : str or QueryStrategy
        A pool of the victim's task (``"in"``, ``"out"``, ``"augmented"``):
        replication ``r`` draws one random order of the pool and asks its
        first ``n`` inputs, so budgets are nested and every cell of the same
        victim and pool shares the order (common random numbers). Or any
        batch query strategy (e.g. Gaussian queries for the equation-solving
        attack).
    n : int
        Query budget.
    defense : Postprocessor
    attacker : classification estimator
        Fitted on ``(X, P_hat)``; a ``random_state`` parameter is set from
        the replication's attacker stream.

    Notes
    -----
    The record of a replication holds ``agreement`` and its complement ``disagreement`` (the privacy level of
    the Model Privacy paper's Fashion-MNIST study), ``stolen_acc``, ``auc``
    (NaN when the test labels have one class), ``f1``; ``kl_fwd`` =
    KL(P || P_hat), ``kl_bwd``, and ``flip_queries``, the top-1 flip rate of
    the answers.
    """

    victim: object
    queries: object = "in"
    n: int = 100
    defense: object = dataclasses.field(default_factory=NoPostprocessing)
    attacker: object = dataclasses.field(default_factory=lambda: SoftLabelLogisticRegression(solver="lbfgs"))

    record_fields = ("agreement", "disagreement", "stolen_acc", "auc", "f1", "kl_fwd", "kl_bwd", "flip_queries")
    finite_fields = ("agreement", "disagreement", "stolen_acc", "f1", "kl_fwd", "kl_bwd", "flip_queries")
    primary_metric = "disagreement"
    shared = ("victim", "queries")

    def __post_init__(self):
        # any object with the Victim interface (the victims module is not imported here, so a
        # regression game's code digest does not depend on it)
        if not all(hasattr(self.victim, m) for m in ("_fitted", "answers", "predict_proba")):
            raise TypeError(f"victim must be a Victim, got {type(self.victim).__name__}.")
        if not isinstance(self.defense, Postprocessor):
            raise TypeError(f"defense must be a Postprocessor, got {type(self.defense).__name__}.")
        if not (hasattr(self.attacker, "fit") and hasattr(self.attacker, "predict_proba")):
            raise TypeError(f"attacker must have fit and predict_proba, got {type(self.attacker).__name__}.")
        object.__setattr__(self, "n", check_int(self.n, "n", low=1))
        for part in (self.victim, self.defense, self.attacker, self.queries):
            if isinstance(part, ParamsMixin):
                part._validate_params()
        task = self.victim._fitted().task_
        if isinstance(self.queries, str):
            if self.queries not in task.pools:
                raise ValueError(f"queries must be a pool of task {task.name!r} {sorted(task.pools)} or a "
                                 f"QueryStrategy, got {self.queries!r}.")
            size = task.pools[self.queries].shape[0]
            if self.n > size:
                raise ValueError(f"n={self.n} exceeds the size {size} of pool {self.queries!r}.")
        elif not isinstance(self.queries, QueryStrategy) or self.queries.interactive:
            raise TypeError(f"queries must be a pool name or a batch QueryStrategy, got {self.queries!r}.")
        else:
            self.queries.check_budget(self.n, "n")

    def get_params(self, deep=True):
        """The game's fields (and with ``deep``, each component's parameters as ``field__param``)."""
        return ThreatModel.get_params(self, deep)

    def labels(self):
        return {"defense": type(self.defense).__name__, "attacker": type(self.attacker).__name__,
                "queries": self.queries if isinstance(self.queries, str) else type(self.queries).__name__,
                "n": self.n}

    def replace(self, **changes):
        """Return a copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def replicate(cls, games, rep, streams, hooks):
        """One replication of classification games sharing the victim and the query order."""
        s_q, s_d = streams[0], streams[1]
        g0 = games[0]
        t0 = time.perf_counter()
        victim = g0.victim._fitted()
        task = victim.task_
        rng_q = np.random.default_rng(s_q)
        if isinstance(g0.queries, str):
            pool = task.pools[g0.queries]
            order = rng_q.permutation(pool.shape[0])
            draw = lambda n: pool[order[:n]]  # noqa: E731 - nested budgets
        else:
            X_all = g0.queries._sample(max(g.n for g in games), rng_q)
            draw = lambda n: X_all[:n]  # noqa: E731
        Z, y_test = task.X_test, task.y_test
        P_test = victim.predict_proba(Z)
        answers = {}
        records = []
        rng_d = np.random.default_rng(s_d)
        start = rng_d.bit_generator.state
        for g in games:
            if g.n not in answers:
                X = draw(g.n)
                answers[g.n] = (X, victim.answers(X))
            X, P = answers[g.n]
            rng_d.bit_generator.state = start  # every defense draws from the same stream (CRN)
            P_hat = g.defense._apply(P, rng_d)
            est = clone(g.attacker)
            if "random_state" in est.get_params(deep=False):
                est.set_params(random_state=_attacker_seed(streams))
            est.fit(X, P_hat)
            Q = est.predict_proba(Z)
            rec = {"agreement": agreement(P_test, Q)}
            rec["disagreement"] = 1.0 - rec["agreement"]
            rec["stolen_acc"] = stolen_accuracy(y_test, Q)
            rec.update(auc_f1(y_test, Q))
            rec["kl_fwd"], rec["kl_bwd"] = kl_per_query(P, P_hat), kl_per_query(P_hat, P)
            rec["flip_queries"] = flip_rate(P, P_hat)
            if hooks:
                _apply_hooks(hooks, Draw(g, rep, X, P, P_hat, Z, P_test, Q, est), rec)
            records.append(rec)
        seconds = (time.perf_counter() - t0) / len(games)
        for rec in records:
            rec["seconds"] = seconds
        return records


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
