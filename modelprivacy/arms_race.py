r"""The stealing arms race: defender and attacker best responses in turn.

The designs of :mod:`modelprivacy.defenses.optimal` assume the defender knows
the attacker's learner. A real attacker answers the defense it faces. The race
alternates the two best responses on one regression game (:func:`~modelprivacy.games.krr_game`
or :func:`~modelprivacy.games.poly_game`) at a fixed budget ``n`` and utility
loss :math:`U_n = \sigma^2`, with an attacker family :math:`\mathcal F` of
linear smoothers (:func:`~modelprivacy.games.game_attacker_family`).

Round :math:`t = 0, 1, \dots` with the pool :math:`P_t \subseteq \mathcal F`
(:math:`P_0` = the game's own attacker):

1. **Defender's best response.** On each of ``reps`` query sets :math:`X_r`
   the defender answers with the robust design against the pool,

   .. math::

       e_r = \arg\max_{\|e\| \le \sigma\sqrt n}\;\min_{k \in P_t}\;
       \frac1m\|S_k(y_r + e) - f(Z)\|^2

   (the exact trust-region optimum when :math:`|P_t| = 1`; otherwise the SDP
   relaxation and rounding of :func:`~modelprivacy.solvers.robust_design`,
   whose relaxation bound gives the gap), put on the sphere so that
   :math:`U_n = \sigma^2` exactly.
2. **Measurement.** Every member :math:`j` of the family is fitted on the
   answers and scored on fresh evaluation points: :math:`PL_n(j)` is the
   mean over the query sets. The defense's *worst case over the pool* is
   :math:`\min_{k \in P_t} PL_n(k)`; the same is computed for each
   single-attacker design :math:`e^{(k)}` (the trust-region optimum against
   :math:`S_k` alone) on the same queries, so the robust design can be
   compared with every single design on the same pool.
3. **Attacker's best response.** The attacker picks the member with the
   lowest validation error on its own answers
   (:class:`~modelprivacy.attacks.CrossValidatedAttacker`, leave-one-out by
   default), pooled over the query sets. It does not know ``f``; the member
   with the lowest true :math:`PL_n` (the oracle) is recorded beside it.
4. **Stop or grow.** If the chosen member is already in the pool, the pool
   stops changing (``"converged"``); after ``max_rounds`` rounds the race
   stops (``"max_rounds"``); otherwise the chosen member joins the pool.

The query sets and evaluation points are drawn from the race's seed once and
reused in every round (common random numbers: rounds differ by the pool
only); the defender's evaluation points and the rounding draws come from the
round's seed.

Playing it
----------
:class:`StealingArmsRace` is a :class:`~modelprivacy.threat.RoundGame` of the
engine: :func:`~modelprivacy.simulate.sweep` (or
:func:`~modelprivacy.simulate.simulate`) plays independent races as
replications, one record per round, saving the state after every round so a
killed race resumes where it stopped; :meth:`StealingArmsRace.play` plays one
race in the notebook. :func:`evaluate_pool` plays one round against a given
pool without updating anything.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from threadpoolctl import threadpool_limits

from ._param_validation import Interval, StrOptions
from ._validation import check_seed_sequence, child_seed
from .attacks import CrossValidatedAttacker, is_linear_smoother
from .attacks.aware import _first_minimum
from .base import ParamsMixin
from .defenses import SIGMA_MAX, OptimalLinearSmoother, RobustLinearSmoother
from .games import game_attacker_family, make_game
from .solvers import trust_region
from .threat import RoundGame

__all__ = ["StealingArmsRace", "StealingArmsRaceState", "evaluate_pool"]

_child = child_seed

#: string fields of a round's record
_TEXT = ("pool", "chosen", "oracle_best", "worst_case_pool_attacker", "worst_case_family_attacker",
         "best_single_design", "stop_reason")
#: numeric fields of a round's record that do not depend on the family
_NUMBERS = ("pool_size", "chosen_in_pool", "worst_case_pool", "worst_case_pool_se", "worst_case_family",
            "best_single_worst_case", "robust_minus_best_single", "robust_minus_best_single_se", "utility_loss",
            "gap", "gap_max", "relative_gap", "seconds")


class StealingArmsRace(ParamsMixin, BaseEstimator, RoundGame):
    """Specification of a stealing arms race (see the module docstring).

    Parameters
    ----------
    game : {"krr", "poly"}
        The regression game (target, query and evaluation distributions).
    n : int
        Query budget.
    sigma : float
        Utility budget, :math:`U_n = \\sigma^2`.
    family : tuple of (str, estimator), optional
        The attacker family, linear smoothers with distinct names
        (default :func:`~modelprivacy.games.game_attacker_family`).
    initial : str or None
        The member the defender designs against first (``None``: the family's first).
    reps : int
        Query sets per round.
    max_rounds : int
        Round limit.
    n_emp : int
        The defender's evaluation points per design.
    n_eval : int
        Fresh evaluation points of the measured :math:`PL_n`.
    cv : int or "loo"
        The attacker's validation (folds, or closed-form leave-one-out).
    conic_solver : {None, "CLARABEL", "SCS"}
        Solver of the robust design's relaxation.
    n_samples : int
        Randomised rounding draws of the robust design.
    """

    _parameter_constraints = {
        "game": [StrOptions({"krr", "poly"})],
        "n": [Interval(Integral, 2, None)],
        "sigma": [Interval(Real, 0, SIGMA_MAX, closed="neither")],
        "family": [tuple, list, None],
        "initial": [str, None],
        "reps": [Interval(Integral, 1, None)],
        "max_rounds": [Interval(Integral, 1, None)],
        "n_emp": [Interval(Integral, 1, None)],
        "n_eval": [Interval(Integral, 1, None)],
        "cv": [Interval(Integral, 2, None), StrOptions({"loo"})],
        "conic_solver": [StrOptions({"CLARABEL", "SCS"}), None],
        "n_samples": [Interval(Integral, 1, None)],
    }

    def __init__(self, game="krr", *, n=100, sigma=0.5, family=None, initial=None, reps=20, max_rounds=6,
                 n_emp=500, n_eval=1000, cv="loo", conic_solver=None, n_samples=100):
        self.game = game
        self.n = n
        self.sigma = sigma
        self.family = family
        self.initial = initial
        self.reps = reps
        self.max_rounds = max_rounds
        self.n_emp = n_emp
        self.n_eval = n_eval
        self.cv = cv
        self.conic_solver = conic_solver
        self.n_samples = n_samples

    def _validate_params(self):
        super()._validate_params()
        family = self.members()
        names = [name for name, _ in family]
        if len(set(names)) != len(names):
            raise ValueError(f"family names must be distinct, got {names}.")
        for name, att in family:
            if not is_linear_smoother(att):
                raise TypeError(f"family member {name!r} must be a linear smoother (smoother_matrix).")
        if self.initial is not None and self.initial not in names:
            raise ValueError(f"initial={self.initial!r} is not a family member; members: {names}.")

    def members(self):
        """The family as a list of ``(name, attacker)`` pairs."""
        family = game_attacker_family(self.game) if self.family is None else self.family
        out = []
        for item in family:
            if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
                raise TypeError(f"family items must be (name, attacker) pairs, got {item!r}.")
            out.append((item[0], item[1]))
        if not out:
            raise ValueError("family must not be empty.")
        return out

    def threat_model(self):
        """The game's :class:`~modelprivacy.threat.ThreatModel` at budget ``n``."""
        return make_game(self.game, n=int(self.n))

    # ----- the engine's round game ------------------------------------------------------------
    text_fields = _TEXT
    primary_metric = "worst_case_pool"
    #: fields ``modelprivacy play`` shows per round
    summary_fields = ("worst_case_pool", "worst_case_family", "utility_loss", "gap")

    @property
    def record_fields(self):
        """Numeric fields of a round's record (see :meth:`step`)."""
        names = [name for name, _ in self.members()]
        per_member = [f"{kind}_{name}" for name in names for kind in ("pl", "pl_se", "cv")]
        return _NUMBERS + tuple(per_member) + tuple(f"single_worst_case_{name}" for name in names)

    def labels(self):
        return {"game": self.game, "n": int(self.n), "sigma": float(self.sigma)}

    def init_state(self, seed=None):
        """The state before round 0: the pool holds the initial attacker.

        Parameters
        ----------
        seed : None, int or SeedSequence
            Seed of the race; its child 0 draws the query sets of every round.

        Returns
        -------
        StealingArmsRaceState
        """
        self._validate_params()
        names = [name for name, _ in self.members()]
        initial = names[0] if self.initial is None else self.initial
        return StealingArmsRaceState(spec=self, game_seed=_child(check_seed_sequence(seed), 0), pool=(initial,))

    def step(self, state, seed):
        r"""One round: the defender's best response to the pool, measurement, the attacker's best response.

        Parameters
        ----------
        state : StealingArmsRaceState
            Not modified.
        seed : None, int or SeedSequence
            The round's randomness (the defender's evaluation points and
            rounding, the attacker's folds); the engine passes
            ``SeedSequence(seed, spawn_key=(r, 1, t))`` in round ``t`` of race ``r``.

        Returns
        -------
        new_state : StealingArmsRaceState
        record : dict
            Strings ``pool``, ``chosen`` (the attacker's best response),
            ``oracle_best``, ``worst_case_pool_attacker``,
            ``worst_case_family_attacker``, ``best_single_design``,
            ``stop_reason`` (``""``, ``"converged"`` or ``"max_rounds"``) and
            numbers ``pool_size``, ``chosen_in_pool``, ``worst_case_pool``
            (:math:`\min_{k \in P_t} PL_n(k)`, with its standard error),
            ``worst_case_family``, ``best_single_worst_case`` (the best
            single-attacker design's worst case over the same pool),
            ``robust_minus_best_single`` (with its paired standard error),
            ``utility_loss``, ``gap``/``gap_max``/``relative_gap`` (relaxation
            gap on the defender's evaluation points; 0 for one attacker),
            ``seconds``, and for every member ``pl_<member>``,
            ``pl_se_<member>``, ``cv_<member>`` and
            ``single_worst_case_<member>`` (the worst case over the pool of the
            design against that member alone; NaN outside the pool). Ties in
            the validation error go to the member listed first in the family
            (scores within :math:`10^{-12}` times the mean square answer of the
            minimum are ties).
        """
        if not isinstance(state, StealingArmsRaceState):
            raise TypeError(f"state must be a StealingArmsRaceState, got {type(state).__name__}.")
        if state.spec != self:
            raise ValueError("state belongs to another race (its spec differs from this one).")
        if state.stopped:
            raise ValueError(f"the race has stopped ({state.stop_reason}); start a new one.")
        self._validate_params()
        with threadpool_limits(limits=1, user_api="blas"):
            record, chosen = _play(self, state.pool, state.game_seed, check_seed_sequence(seed))
        t = state.round
        pool = state.pool
        if chosen in pool:
            stopped, reason = True, "converged"
        elif t + 1 >= int(self.max_rounds):
            stopped, reason = True, "max_rounds"
        else:
            stopped, reason, pool = False, "", pool + (chosen,)
        record = {**record, "stop_reason": reason}
        new = dataclasses.replace(state, pool=pool, round=t + 1, stopped=stopped, stop_reason=reason)
        return new, record


@dataclass
class StealingArmsRaceState:
    """Everything between two rounds (picklable).

    Attributes
    ----------
    spec : StealingArmsRace
    game_seed : numpy.random.SeedSequence
        Seed of the query sets and evaluation points (the same in every round).
    pool : tuple of str
        The attackers the next defense is designed against.
    round : int
        Completed rounds.
    stopped : bool
    stop_reason : str
        ``"converged"`` (the pool stopped changing) or ``"max_rounds"``.
    """

    spec: StealingArmsRace
    game_seed: np.random.SeedSequence
    pool: tuple
    round: int = 0
    stopped: bool = False
    stop_reason: str = ""


def _design(spec, pool, family, X, y, target, rng):
    """The robust (or, for one attacker, exact) design on ``X``; ``(e, gap, quadratics)`` with ``e`` on the sphere."""
    tm = spec.threat_model()
    radius = float(spec.sigma) * np.sqrt(X.shape[0])
    attackers = [family[k] for k in pool]
    if len(attackers) == 1:
        d = OptimalLinearSmoother(float(spec.sigma), attacker=attackers[0], evaluation=tm.evaluation_distribution,
                                  n_emp=int(spec.n_emp))
        res, q = d.design(X, y, rng=rng, target=target)
        quads, e = [q], res.e
        bound = None
    else:
        d = RobustLinearSmoother(float(spec.sigma), attackers=attackers, evaluation=tm.evaluation_distribution,
                                 n_emp=int(spec.n_emp), conic_solver=spec.conic_solver,
                                 n_samples=int(spec.n_samples))
        res, quads = d.design(X, y, rng=rng, target=target)
        e, bound = res.e, res.bound
    norm = float(np.linalg.norm(e))
    e = e * (radius / norm) if norm > 0 else e
    objective = min(q.value(e) for q in quads)
    # one attacker: the trust region is solved exactly (its certificate), no relaxation gap
    gap = 0.0 if bound is None else bound - objective
    return e, gap, objective, quads


def _replication(spec, pool, game_seed, design_seed, r):
    """Replication ``r`` of a round: one query set, the design against ``pool``, every member's error.

    Returns a dict of arrays: ``loss`` (every member's stealing error),
    ``single`` (``[design k, pool attacker j]`` errors of the single designs),
    ``cv`` (every member's validation error on the answers) and the scalars
    ``gap``, ``relative_gap``, ``utility``, ``energy`` (mean square answer).
    """
    tm = spec.threat_model()
    f = tm.target
    members = spec.members()
    names = [name for name, _ in members]
    family = dict(members)
    n = int(spec.n)
    g = np.random.default_rng(_child(game_seed, r))
    X = tm.queries.sample(n, g)
    Z = tm.evaluation_distribution.sample(int(spec.n_eval), g)
    y, fZ = np.asarray(f(X), dtype=float), np.asarray(f(Z), dtype=float)
    e, gap, objective, quads = _design(spec, pool, family, X, y, f, np.random.default_rng(_child(design_seed, r)))
    Y = y + e
    S = [np.asarray(clone(family[name]).smoother_matrix(X, Z), dtype=float) for name in names]
    pool_idx = [names.index(k) for k in pool]
    radius = float(spec.sigma) * np.sqrt(n)
    single = np.array([[np.mean((S[j] @ (y + trust_region(q.M, q.u, radius).e) - fZ) ** 2) for j in pool_idx]
                       for q in quads])
    cv = CrossValidatedAttacker(members, cv=spec.cv, random_state=_child(design_seed, r, 1)).fit(X, Y).cv_scores_
    return {
        "loss": np.array([np.mean((Sj @ Y - fZ) ** 2) for Sj in S]),
        "single": single,
        "cv": cv,
        "gap": gap,
        "relative_gap": gap / max(abs(objective + gap), np.finfo(float).tiny),
        "utility": float(e @ e) / n,
        "energy": float(Y @ Y) / n,
    }


def _play(spec, pool, game_seed, design_seed):
    """Play one round against ``pool``; return the record (without round bookkeeping) and the chosen member."""
    t0 = time.perf_counter()
    names = [name for name, _ in spec.members()]
    R = int(spec.reps)
    reps = [_replication(spec, pool, game_seed, design_seed, r) for r in range(R)]
    loss = np.array([d["loss"] for d in reps])
    single = np.array([d["single"] for d in reps])  # [rep, design k, attacker j]
    cv = np.array([d["cv"] for d in reps])
    gaps, rel_gaps, utility, energy = (np.array([d[k] for d in reps])
                                       for k in ("gap", "relative_gap", "utility", "energy"))
    pool_idx = [names.index(k) for k in pool]
    pl = loss.mean(axis=0)
    se = loss.std(axis=0, ddof=1) / np.sqrt(R) if R > 1 else np.full(len(names), np.nan)
    cv_mean = cv.mean(axis=0)
    chosen = names[_first_minimum(cv_mean, float(np.mean(energy)))]
    in_pool = pl[pool_idx]
    worst = int(np.argmin(in_pool))
    single_worst = single.mean(axis=0).min(axis=1)  # worst case over the pool of each single design
    best_single = int(np.argmax(single_worst))
    # paired over query sets: the robust design's worst-case attacker against the best single design's
    single_attacker = int(np.argmin(single.mean(axis=0)[best_single]))
    diff = loss[:, pool_idx[worst]] - single[:, best_single, single_attacker]
    record = {
        "pool": "+".join(pool),
        "pool_size": len(pool),
        "chosen": chosen,
        "chosen_in_pool": chosen in pool,
        "oracle_best": names[int(np.argmin(pl))],
        "worst_case_pool": float(in_pool[worst]),
        "worst_case_pool_se": float(se[pool_idx[worst]]),
        "worst_case_pool_attacker": pool[worst],
        "worst_case_family": float(pl.min()),
        "worst_case_family_attacker": names[int(np.argmin(pl))],
        "best_single_design": pool[best_single],
        "best_single_worst_case": float(single_worst[best_single]),
        "robust_minus_best_single": float(in_pool[worst] - single_worst[best_single]),
        "robust_minus_best_single_se": float(diff.std(ddof=1) / np.sqrt(R)) if R > 1 else float("nan"),
        "utility_loss": float(utility.mean()),
        "gap": float(gaps.mean()),
        "gap_max": float(gaps.max()),
        "relative_gap": float(rel_gaps.mean()),
    }
    for j, name in enumerate(names):
        record[f"pl_{name}"] = float(pl[j])
        record[f"pl_se_{name}"] = float(se[j])
        record[f"cv_{name}"] = float(cv_mean[j])
    for name in names:  # the same keys in every round (NaN: not in the pool)
        record[f"single_worst_case_{name}"] = (float(single_worst[pool.index(name)]) if name in pool
                                               else float("nan"))
    record["seconds"] = time.perf_counter() - t0
    return record, chosen


def evaluate_pool(spec, pool, seed=0):
    """Play one round against a given pool (nothing is updated): the robust-versus-single comparison.

    Parameters
    ----------
    spec : StealingArmsRace
    pool : sequence of str
        Family members the design is against.
    seed : None, int or SeedSequence
        Query sets from its child 0 (as :meth:`StealingArmsRace.init_state`), design randomness from child 1.

    Returns
    -------
    dict
        The record of :func:`step` (without the round bookkeeping).
    """
    if not isinstance(spec, StealingArmsRace):
        raise TypeError(f"spec must be a StealingArmsRace, got {type(spec).__name__}.")
    spec._validate_params()
    names = [name for name, _ in spec.members()]
    if isinstance(pool, (str, bytes)) or not hasattr(pool, "__iter__"):
        raise TypeError(f"pool must be a sequence of family members {names}, got {pool!r}.")
    pool = tuple(pool)
    bad = [k for k in pool if k not in names]
    if not pool or bad or len(set(pool)) != len(pool):
        raise ValueError(f"pool must hold distinct family members {names}, got {list(pool)}.")
    ss = check_seed_sequence(seed)
    with threadpool_limits(limits=1, user_api="blas"):
        record, _ = _play(spec, pool, _child(ss, 0), _child(ss, 1))
    return record
