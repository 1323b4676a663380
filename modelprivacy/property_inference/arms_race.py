r"""The attack-defense arms race against responsive property inference.

*Inspired by* Yang, Xu, Zhang and Fang, "Secure Confidential Business
Information When Sharing Machine Learning Models" (arXiv:2509.16352). Its
full text was not available; the abstract states the objective (keep the
shared model useful, defeat a *responsive* attacker that adapts its attack
to the defense), an iterative attack-defense framework and an approximate
strategy that removes its computational bottleneck. The algorithm below is
the reconstruction of ``neighbours.md`` B.5, not the paper's.

The game
--------
A provider trains a target on a private loan book :math:`D_p` whose default
rate lies in one of :math:`m` bins; an attacker holds auxiliary data from the
same population (a disjoint stratified half). A *defense procedure*
:math:`\mathrm{Def}_t` maps a training set to a released model. Round
:math:`t = 0, 1, \dots`:

1. **Defense applied.** :math:`\mathrm{Def}_t` (:class:`~.defenses.PoolPenaltyDefense`
   with the pool :math:`\{g_1, \dots, g_t\}`; round 0 has an empty pool,
   i.e. no defense) is applied to *every* model: the attacker's shadows of
   every bin (the responsive attacker knows the procedure and reruns it) and
   the provider's targets. The defended distribution of models, not one
   released model, is what must carry no property information.
2. **Attack step.** The responsive attacker trains its candidate
   meta-classifiers on the defended shadows and keeps the best by
   cross-validation (:class:`~.attacks.ResponsiveAttack`): its best response
   :math:`g_{t+1}` to :math:`\mathrm{Def}_t`. Its accuracy on the defended
   targets is the round's leakage.
3. **Record** the attack accuracy (with a Wilson interval) against chance
   :math:`1/m`, the fixed round-0 attacker's and the last pool member's
   accuracy on the same targets, the targets' utility on their own test sets
   (AUC, log-loss, ECE, accuracy, Brier), training time and evaluations.
4. **Stop** when the attack accuracy is within ``epsilon`` of chance for
   ``patience`` consecutive rounds (``"converged"``), when the targets' mean
   AUC falls more than ``max_auc_drop`` below round 0's (``"utility_floor"``),
   or after ``max_rounds`` rounds.
5. **Defense step.** :math:`g_{t+1}` joins the pool (the best differentiable
   candidate if the best is a random forest);
   :math:`\mathrm{Def}_{t+1}` retrains with the penalty
   :math:`\lambda\,\operatorname{agg}_s \mathrm{KL}(g_s(\phi)\|U_m)` against
   the whole pool, which keeps every past attacker defeated and so avoids
   the cycling of pure alternation.

Strategies
----------
``strategy="exact"`` retrains every model from a cold start in every round
(L-BFGS to convergence). ``strategy="approximate"`` (:mod:`.approximate`):
round 0 fits one reference model per bin and moves every other shadow and
target from it by one Newton step; later rounds move each model from its
previous round by one Newton step on the new penalised objective (logistic
regression) or a short warm-started L-BFGS run (MLP).

Playing it
----------
:class:`ArmsRace` is a :class:`~modelprivacy.threat.RoundGame` of the
engine: :func:`~modelprivacy.simulate.sweep` plays independent races as
replications (one record per round, the state saved after every round so a
killed race resumes from its last completed round), ``modelprivacy play
property-race`` does so from the command line and :meth:`ArmsRace.play` plays one
race in a notebook; :func:`evaluate` attacks a finished race's state with
fresh responsive attackers.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._param_validation import Interval, StrOptions, validate_params
from .._validation import check_seed_sequence, child_seed
from ..base import ParamsMixin
from ..threat import RoundGame
from ._common import (SETTING_CONSTRAINTS, build_environment, check_classes, draw_population, make_models,
                      mean_utility, single_threaded)
from .approximate import approximate_fits, exact_fits
from .attacks import MetaClassifierAttack, ResponsiveAttack
from .defenses import PoolPenaltyDefense
from .metrics import attack_accuracy

__all__ = ["ArmsRace", "ArmsRaceState", "evaluate"]

#: numeric fields of a round's record that do not depend on the attackers (see :meth:`ArmsRace.step`)
_NUMBERS = ("pool_size", "n_classes", "chance", "attack_accuracy", "attack_low", "attack_high",
            "attack_cv_accuracy", "fixed_accuracy", "previous_accuracy", "pool_kl", "constraint_violation",
            "n_targets", "accuracy", "auc", "log_loss", "brier", "ece", "auc_drop", "train_seconds",
            "train_evaluations", "attack_seconds", "eval_seconds", "round_seconds")

_TIME_FIELDS = ("train_seconds", "attack_seconds", "eval_seconds", "round_seconds")


class ArmsRace(ParamsMixin, BaseEstimator, RoundGame):
    """Specification of an arms race (see the module docstring).

    Parameters
    ----------
    dataset : {"german", "adult"}, TabularData or SyntheticCredit, default="german"
    prop : str, callable, array-like or None, default=None
        The property (``None``: the data set's default, the default rate on
        German Credit).
    label_share : {"follow", "fixed"} or float, default="follow"
        See :class:`~.datasets.PropertySampler`.
    bins : int or sequence of edges, default=3
    property_range : (low, high), default=(0.1, 0.5)
    property_values : sequence of float or None, default=None
        Point worlds instead of bins (e.g. ``(0.5, 0.2)``).
    n_train : int, default=150
        Training-set size of shadows and targets.
    n_test : int, default=100
        Size of each target's own test set (same property value).
    target : LogisticRegression, MLPClassifier or None, default=None
        ``None``: ``LogisticRegression(C=1)``.
    access : {"white", "black"}, default="white"
    n_queries : int, default=128
    n_shadows : int >= 2, default=100
        Shadow models per bin.
    n_targets : int >= 1, default=40
        Provider targets per bin (the attack accuracy is measured on them).
    attackers : tuple of {"logistic", "mlp", "random_forest"}, default=("logistic",)
        The responsive attacker's candidates (at least one differentiable).
    penalty : {"constraint", "kl"}, default="constraint"
        The defense step (:class:`~.defenses.PoolPenaltyDefense`).
    lam : float >= 0, default=1.0
        Weight of ``penalty="kl"``.
    aggregate : {"mean", "max"}, default="mean"
    epsilon : float > 0, default=0.1
    patience : int >= 1, default=2
    max_auc_drop : float > 0, default=0.02
    max_rounds : int >= 1, default=8
    strategy : {"exact", "approximate"}, default="exact"
    n_newton_steps : int >= 1, default=1
        Newton steps per model and round of the approximate strategy.
    initial_newton_steps : int >= 1, default=2
        Newton steps from the per-bin reference in round 0 of the
        approximate strategy (shadow models of one bin differ by far more
        than one round's update, see :mod:`.approximate`).
    warm_iter : int >= 1, default=20
    tol : float > 0, default=1e-8
    cv : int >= 2, default=3
    """

    _parameter_constraints = {
        **SETTING_CONSTRAINTS,
        "access": [StrOptions({"white", "black"})],
        "attackers": [tuple, list],
        "penalty": [StrOptions({"constraint", "kl"})],
        "lam": [Interval(Real, 0, None)],
        "aggregate": [StrOptions({"mean", "max"})],
        "epsilon": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None)],
        "max_auc_drop": [Interval(Real, 0, 1, closed="neither")],
        "max_rounds": [Interval(Integral, 1, None)],
        "strategy": [StrOptions({"exact", "approximate"})],
        "n_newton_steps": [Interval(Integral, 1, None)],
        "initial_newton_steps": [Interval(Integral, 1, None)],
        "warm_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "cv": [Interval(Integral, 2, None)],
    }

    def __init__(self, dataset="german", *, prop=None, label_share="follow", bins=3, property_range=(0.1, 0.5),
                 property_values=None, n_train=150, n_test=100, target=None, access="white", n_queries=128,
                 n_shadows=100, n_targets=40, attackers=("logistic",), penalty="constraint", lam=1.0,
                 aggregate="mean", epsilon=0.1, patience=2, max_auc_drop=0.02, max_rounds=8, strategy="exact",
                 n_newton_steps=1, initial_newton_steps=2, warm_iter=20, tol=1e-8, cv=3):
        self.dataset = dataset
        self.prop = prop
        self.label_share = label_share
        self.bins = bins
        self.property_range = property_range
        self.property_values = property_values
        self.n_train = n_train
        self.n_test = n_test
        self.target = target
        self.access = access
        self.n_queries = n_queries
        self.n_shadows = n_shadows
        self.n_targets = n_targets
        self.attackers = attackers
        self.penalty = penalty
        self.lam = lam
        self.aggregate = aggregate
        self.epsilon = epsilon
        self.patience = patience
        self.max_auc_drop = max_auc_drop
        self.max_rounds = max_rounds
        self.strategy = strategy
        self.n_newton_steps = n_newton_steps
        self.initial_newton_steps = initial_newton_steps
        self.warm_iter = warm_iter
        self.tol = tol
        self.cv = cv

    def _validate_params(self):
        super()._validate_params()
        check_classes(self)
        names = list(self.attackers)
        bad = [a for a in names if a not in ("logistic", "mlp", "random_forest")]
        if not names or bad:
            raise ValueError(f"attackers must be a non-empty tuple of 'logistic', 'mlp', 'random_forest'; got {self.attackers!r}.")
        if not any(a in ("logistic", "mlp") for a in names):
            raise ValueError("attackers: the arms race needs at least one differentiable attacker ('logistic' or "
                             "'mlp') to penalise; a random forest alone has no gradient.")

    def defense(self, pool=()):
        """The defense procedure :math:`\\mathrm{Def}` with a given pool of attackers."""
        return PoolPenaltyDefense(list(pool), penalty=self.penalty, lam=self.lam, aggregate=self.aggregate, strategy=self.strategy,
                                  n_newton_steps=self.n_newton_steps, warm_iter=self.warm_iter, tol=self.tol)

    # ----- the engine's round game ------------------------------------------------------------
    text_fields = ("attack_meta_classifier", "stop_reason")
    primary_metric = "attack_accuracy"
    #: fields ``modelprivacy play`` shows per round
    summary_fields = ("attack_accuracy", "fixed_accuracy", "auc", "log_loss", "ece")

    @property
    def record_fields(self):
        """Numeric fields of a round's record (see :meth:`step`)."""
        return _NUMBERS + tuple(f"cv_accuracy_{name}" for name in self.attackers)

    def labels(self):
        data = self.dataset if isinstance(self.dataset, str) else type(self.dataset).__name__
        return {"dataset": data, "access": self.access, "strategy": self.strategy, "penalty": self.penalty}

    def init_state(self, seed=None):
        """Build the game: the data split, the shadows' and targets' training sets (no model is fitted yet).

        Parameters
        ----------
        seed : None, int or SeedSequence
            The engine passes ``SeedSequence(seed, spawn_key=(r, 0))`` for race ``r``.

        Returns
        -------
        ArmsRaceState
        """
        return _init_state(self, check_seed_sequence(seed))

    def step(self, state, seed):
        """One round: apply the current defense, attack, record, update the pool (``state`` is not modified).

        Parameters
        ----------
        state : ArmsRaceState
        seed : None, int or SeedSequence
            The round's randomness; the engine passes ``SeedSequence(seed, spawn_key=(r, 1, t))``
            in round ``t`` of race ``r``.

        Returns
        -------
        new_state : ArmsRaceState
        record : dict
            ``attack_accuracy`` (the responsive attacker's best response on
            the defended targets) with its Wilson interval
            (``attack_low``, ``attack_high``), ``chance`` (:math:`1/m`),
            ``n_classes``, ``attack_meta_classifier`` and
            ``attack_cv_accuracy`` (its cross-validated accuracy on the
            shadows; ``cv_accuracy_<candidate>`` for each candidate),
            ``fixed_accuracy`` (the round-0 attacker on the same targets),
            ``previous_accuracy`` (the last pool member), ``pool_size``,
            ``pool_kl`` (largest mean KL to uniform of a pool attacker's
            posterior), ``constraint_violation`` (logits; NaN without a pool
            or with the KL penalty), the targets' utility on their own test
            sets (``accuracy``, ``auc``, ``log_loss``, ``brier``, ``ece``;
            ``n_targets``) and ``auc_drop`` from round 0, the work done
            (``train_seconds``, ``train_evaluations``, ``attack_seconds``,
            ``eval_seconds``, ``round_seconds``) and ``stop_reason`` (``""``,
            ``"converged"``, ``"utility_floor"`` or ``"max_rounds"``).
        """
        if not isinstance(state, ArmsRaceState):
            raise TypeError(f"state must be an ArmsRaceState, got {type(state).__name__}.")
        if state.spec != self:
            raise ValueError("state belongs to another arms race (its spec differs from this one).")
        return _step(state, check_seed_sequence(seed))


@dataclass
class ArmsRaceState:
    """Everything between two rounds (picklable).

    Attributes
    ----------
    spec : ArmsRace
    env : the game's data (samplers, class values, queries, family)
    shadows, targets : ModelSet
        Training sets, labels and the current round's (defended) parameters.
    tests : list of (X, y)
        Each target's own test set.
    pool : list of fitted attacks
    fixed_attack : the round-0 attacker (fitted on undefended shadows)
    round : int
        Completed rounds.
    streak : int
        Consecutive rounds within epsilon of chance.
    baseline_auc : float or None
    stopped : bool
    stop_reason : str
    """

    spec: object
    env: object
    shadows: object
    targets: object
    tests: list
    pool: list = field(default_factory=list)
    fixed_attack: object = None
    round: int = 0
    streak: int = 0
    baseline_auc: float = None
    stopped: bool = False
    stop_reason: str = ""


_SEED = [None, Interval(Integral, 0, None), np.random.SeedSequence]


def _init_state(spec, ss):
    spec._validate_params()
    with single_threaded():
        env = build_environment(spec, ss)
        spec.defense()._check_family(env.family)
        rs = np.random.default_rng(child_seed(ss, 2))
        sh_data, sh_lab, sh_val, _ = draw_population(env, env.attacker, spec.n_shadows, spec.n_train, rs)
        rt = np.random.default_rng(child_seed(ss, 3))
        tg_data, tg_lab, tg_val, tests = draw_population(env, env.provider, spec.n_targets, spec.n_train, rt,
                                                         n_test=spec.n_test)
    p = env.family.n_params
    shadows = make_models(env, np.zeros((len(sh_data), p)), sh_lab, sh_val, sh_data)
    targets = make_models(env, np.zeros((len(tg_data), p)), tg_lab, tg_val, tg_data)
    return ArmsRaceState(spec=spec, env=env, shadows=shadows, targets=targets, tests=tests)


def _candidates(spec, rng):
    return [MetaClassifierAttack(name, access=spec.access, random_state=int(rng.integers(2**31 - 1)))
            for name in spec.attackers]


def _step(state, ss):
    if state.stopped:
        raise ValueError(f"the arms race has stopped ({state.stop_reason}); start a new one.")
    spec, env = state.spec, state.env
    s_train, s_att, s_eval = (np.random.default_rng(child_seed(ss, k)) for k in range(3))
    t = state.round
    t_round = time.perf_counter()
    with single_threaded():
        # 1. the current defense, applied to every shadow and target
        fam = env.family
        shadows, targets = state.shadows, state.targets
        if t == 0:
            if spec.strategy == "exact":
                th_s, sec_s, ev_s = exact_fits(fam, shadows.data, tol=spec.tol, random_state=s_train)
                th_t, sec_t, ev_t = exact_fits(fam, targets.data, tol=spec.tol, random_state=s_train)
            else:
                th_s, sec_s, ev_s = approximate_fits(fam, shadows.data, shadows.labels, random_state=s_train,
                                                     n_newton_steps=spec.initial_newton_steps,
                                                     warm_iter=spec.warm_iter, tol=spec.tol)
                th_t, sec_t, ev_t = approximate_fits(fam, targets.data, targets.labels, random_state=s_train,
                                                     n_newton_steps=spec.initial_newton_steps,
                                                     warm_iter=spec.warm_iter, tol=spec.tol)
            shadows, targets = shadows.with_thetas(th_s), targets.with_thetas(th_t)
        else:
            defense = spec.defense(state.pool)
            shadows = defense.apply(shadows, random_state=s_train, init=shadows.thetas)
            sec_s, ev_s = defense.last_seconds_, defense.last_evaluations_
            targets = defense.apply(targets, random_state=s_train, init=targets.thetas)
            sec_t, ev_t = defense.last_seconds_, defense.last_evaluations_
        train_seconds = sec_s + sec_t
        # 2. the responsive attacker's best response
        t0 = time.perf_counter()
        cands = _candidates(spec, s_att)
        responsive = ResponsiveAttack(cands, None, cv=spec.cv).fit(shadows, queries=env.queries, random_state=s_att)
        best = responsive.best_attack_
        attack_seconds = time.perf_counter() - t0
        # 3. record
        t0 = time.perf_counter()
        m = env.n_classes
        acc = attack_accuracy(targets.labels, best.predict(targets), m)
        fixed = state.fixed_attack if state.fixed_attack is not None else best
        fixed_acc = float(np.mean(fixed.predict(targets) == targets.labels))
        prev_acc = float(np.mean(state.pool[-1].predict(targets) == targets.labels)) if state.pool else float("nan")
        # how informative the pool attackers' posteriors still are on the defended targets
        pool_kl = max((float(np.mean(np.sum(P * np.log(np.clip(P, 1e-300, None)), axis=1))) + np.log(P.shape[1])
                       for P in (a.predict_proba(targets) for a in state.pool)), default=float("nan"))
        util = mean_utility(targets, state.tests)
        violation = spec.defense(state.pool).constraint_violation(targets) if spec.penalty == "constraint" \
            else float("nan")
        eval_seconds = time.perf_counter() - t0
    baseline = util["auc"] if state.baseline_auc is None else state.baseline_auc
    streak = state.streak + 1 if abs(acc.accuracy - acc.chance) <= spec.epsilon else 0
    auc_drop = baseline - util["auc"]
    stopped, reason = False, ""
    if t > 0 and auc_drop > spec.max_auc_drop:
        stopped, reason = True, "utility_floor"
    elif streak >= spec.patience:
        stopped, reason = True, "converged"
    elif t + 1 >= spec.max_rounds:
        stopped, reason = True, "max_rounds"
    record = {
        "pool_size": len(state.pool),
        "n_classes": m,
        "chance": acc.chance,
        "attack_accuracy": acc.accuracy,
        "attack_low": acc.low,
        "attack_high": acc.high,
        "attack_meta_classifier": type(best.meta_classifier_[-1] if hasattr(best.meta_classifier_, "steps")
                                       else best.meta_classifier_).__name__,
        "attack_cv_accuracy": float(max(responsive.scores_)),
        "fixed_accuracy": fixed_acc,
        "previous_accuracy": prev_acc,
        "pool_kl": pool_kl,
        "constraint_violation": violation,
        "n_targets": int(len(targets)),
        **{k: v for k, v in util.items()},
        "auc_drop": float(auc_drop),
        "train_seconds": train_seconds,
        "train_evaluations": int(ev_s + ev_t),
        "attack_seconds": attack_seconds,
        "eval_seconds": eval_seconds,
        "round_seconds": time.perf_counter() - t_round,
        "stop_reason": reason,
    }
    for name, sc in zip(spec.attackers, responsive.scores_):
        record[f"cv_accuracy_{name}"] = float(sc)
    # 5. the defense step: the best differentiable response joins the pool (not after the last round:
    #    the pool then is the one of the released defense)
    pool = list(state.pool)
    if not stopped:
        if best is not state.fixed_attack and _differentiable(best):
            pool.append(best)
        else:
            order = np.argsort(responsive.scores_[:len(cands)], kind="stable")[::-1]
            j = next(int(j) for j in order if cands[j].meta_classifier in ("logistic", "mlp"))
            pool.append(clone(cands[j]).fit(shadows, queries=env.queries))
    new = replace(state, shadows=shadows, targets=targets, pool=pool,
                  fixed_attack=state.fixed_attack if state.fixed_attack is not None else best,
                  round=t + 1, streak=streak, baseline_auc=baseline,
                  stopped=stopped, stop_reason=reason)
    return new, record


def _differentiable(attack):
    return getattr(attack, "meta_classifier", None) in ("logistic", "mlp")


@validate_params({"state": [ArmsRaceState], "seed": _SEED, "attackers": [tuple, list],
                  "n_shadows": [None, Interval(Integral, 2, None)]})
def evaluate(state, seed=0, *, attackers=("logistic", "random_forest", "mlp"), n_shadows=None):
    """Attack the final defense with fresh responsive attackers of every kind.

    The attacker draws new shadow training sets, applies the final defense
    procedure *exactly* (cold-start retraining with the final pool, as a
    real attacker who knows the procedure would) and trains each
    meta-classifier; each is scored on the race's final targets. The random
    forest was never penalised by the defense: it measures how far the
    defense generalises beyond the attackers it was trained against.

    Returns
    -------
    dict of scalars
        ``final_accuracy_<attacker>``, ``final_low_<attacker>``,
        ``final_high_<attacker>`` and ``final_accuracy_max``.
    """
    spec, env = state.spec, state.env
    ss = check_seed_sequence(seed)
    if isinstance(attackers, (str, bytes)) or not list(attackers) or \
            any(a not in ("logistic", "random_forest", "mlp") for a in attackers):
        raise ValueError(f"attackers must be a non-empty sequence of 'logistic', 'random_forest', 'mlp'; "
                         f"got {attackers!r}.")
    n = spec.n_shadows if n_shadows is None else n_shadows
    out = {}
    with single_threaded():
        rs = np.random.default_rng(child_seed(ss, 0))
        data, lab, val, _ = draw_population(env, env.attacker, n, spec.n_train, rs)
        fresh = make_models(env, np.zeros((len(data), env.family.n_params)), lab, val, data)
        pool = state.pool  # the pool of the last completed round's (released) defense
        defense = _replace_strategy(spec.defense(pool), "exact")
        if pool:
            fresh = defense.apply(fresh, random_state=rs)
        else:
            th, _, _ = exact_fits(env.family, data, tol=spec.tol, random_state=rs)
            fresh = fresh.with_thetas(th)
        best = 0.0
        for name in attackers:
            a = MetaClassifierAttack(name, access=spec.access, random_state=int(rs.integers(2**31 - 1)))
            a.fit(fresh, queries=env.queries)
            acc = attack_accuracy(state.targets.labels, a.predict(state.targets), env.n_classes)
            out[f"final_accuracy_{name}"] = acc.accuracy
            out[f"final_low_{name}"] = acc.low
            out[f"final_high_{name}"] = acc.high
            best = max(best, acc.accuracy)
    out["final_accuracy_max"] = best
    out["chance"] = 1.0 / env.n_classes
    return out


def _replace_strategy(defense, strategy):
    d = copy.copy(defense)
    d.strategy = strategy
    return d
