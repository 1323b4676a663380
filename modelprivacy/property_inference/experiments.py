r"""One property-inference experiment as a pure function of a specification and a seed.

:class:`CPIExperiment` specifies a game (data set, property, classes, sampler,
target recipe, attacks, optional non-adaptive defense) with scikit-learn
parameters; it is a :class:`~modelprivacy.threat.Game` of the engine, so
:func:`~modelprivacy.simulate.simulate` / :func:`~modelprivacy.simulate.sweep`
play it (replication ``r`` of seed ``s`` is :func:`run_experiment` with
``SeedSequence(s, spawn_key=(r, 0))``), seeded, resumable and in parallel.
One play returns one record of scalar metrics:

1. split the data into the attacker's and the provider's disjoint
   stratified halves (a synthetic population is shared);
2. draw ``n_shadows`` shadow training sets per property class from the
   attacker's half and ``n_targets`` target training sets per class from the
   provider's half (each target also gets its own test set, with the same
   property value, from rows it was not trained on); train them all with
   the scikit-learn target recipe;
3. fit every attack on the shadows and score it on the targets:
   ``<attack>_accuracy`` with a Wilson interval (``_low``, ``_high``) against
   ``chance`` :math:`1/m`; for two worlds also ``<attack>_n_leaked``
   (:func:`~.metrics.n_leaked`, exact) and ``<attack>_n_leaked_se`` (Suri and
   Evans' closed form);
4. report the targets' utility on their test sets (``auc``, ``log_loss``,
   ``ece``, ``accuracy``, ``brier``, means over targets) and the label share
   of their training sets per class (``label_share_<c>``: how the sampler
   treated it);
5. with a ``defense``: apply it to the targets; the *fixed* attacker (the
   attack fitted on undefended shadows) scores ``<attack>_fixed_accuracy``,
   the *responsive* attacker (reruns the defense on its shadows and
   retrains; :class:`~.attacks.ResponsiveAttack`, which keeps the fixed
   attack when that does better on ``n_validation`` defended validation
   shadows per class) ``<attack>_responsive_accuracy``; the defended targets' utility
   is reported with the prefix ``defended_``. :class:`~.defenses.PropertyUnlearning`
   with ``attack=None`` is run against each differentiable meta-classifier
   attack in turn (it is defined against one given attacker).

Attack names: ``"<access>_<meta>"`` with access ``white``/``black`` and meta
``logistic``/``random_forest``/``mlp`` (:class:`~.attacks.MetaClassifierAttack`),
``"loss_test"`` and ``"threshold_test"`` (:class:`~.attacks.LossTest`,
:class:`~.attacks.ThresholdTest`, on reference data of every class drawn from
the attacker's half).
"""

from __future__ import annotations

import time
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._param_validation import HasMethods, Interval, StrOptions, validate_params
from ..base import ParamsMixin
from ..threat import Game
from .._fingerprint import fingerprint
from .._validation import check_seed_sequence, child_seed
from ._common import SETTING_CONSTRAINTS, build_environment, check_classes, draw_population, mean_utility, single_threaded
from .attacks import LossTest, MetaClassifierAttack, ResponsiveAttack, ThresholdTest
from .datasets import make_bins
from .defenses import PropertyUnlearning
from .metrics import attack_accuracy, n_leaked
from .models import ModelSet, _draw, train_model

__all__ = ["CPIExperiment", "run_experiment", "ATTACKS"]

ATTACKS = tuple(f"{a}_{m}" for a in ("white", "black") for m in ("logistic", "random_forest", "mlp")) + (
    "loss_test", "threshold_test")


_UTILITY = ("accuracy", "auc", "log_loss", "brier", "ece")


class CPIExperiment(ParamsMixin, BaseEstimator, Game):
    """Specification of one confidential-property-inference experiment.

    Parameters
    ----------
    dataset : {"german", "adult"}, TabularData or SyntheticCredit, default="german"
    prop : str, callable, array-like or None, default=None
        The property (``None``: the data set's default; share of women on
        Adult, default rate on German Credit).
    label_share : {"follow", "fixed"} or float, default="follow"
        See :class:`~.datasets.PropertySampler`.
    bins : int, sequence of edges or None, default=3
    property_range : (low, high) or None, default=(0.1, 0.5)
    property_values : sequence of float or None, default=None
        Point worlds instead of bins: ``(0.5, alpha)`` is the two-world game
        of Suri and Evans (set ``bins=None``).
    n_train : int, default=150
    n_test : int, default=100
    target : LogisticRegression, MLPClassifier or None, default=None
        The provider's recipe (``None``: ``LogisticRegression(C=1)``),
        trained by scikit-learn for shadows and targets alike.
    n_queries : int, default=128
    n_shadows : int >= 2, default=100
        Per class.
    n_targets : int >= 1, default=50
        Per class.
    n_reference : int, default=200
        Rows of each class's reference data (loss and threshold tests).
    n_validation : int >= 2, default=50
        Validation shadows per class of the responsive attacker (only with
        a defense; see :class:`~.attacks.ResponsiveAttack`).
    attacks : tuple of str, default=ATTACKS
    defense : None, OutputNoise, ParameterNoise or PropertyUnlearning, default=None
    responsive : {"all", "same"}, default="all"
        The responsive attacker's candidates against the defense: the
        attack's own meta-classifier only (``"same"``), or every
        meta-classifier with the same access (``"all"``: its best response;
        the fixed attack is always an option too). The tests have one
        candidate: themselves.
    """

    _parameter_constraints = {
        **SETTING_CONSTRAINTS,
        "n_reference": [Interval(Integral, 2, None)],
        "n_validation": [Interval(Integral, 2, None)],
        "attacks": [tuple, list],
        "defense": [None, HasMethods(["apply"])],
        "responsive": [StrOptions({"all", "same"})],
    }

    def __init__(self, dataset="german", *, prop=None, label_share="follow", bins=3, property_range=(0.1, 0.5),
                 property_values=None, n_train=150, n_test=100, target=None, n_queries=128, n_shadows=100,
                 n_targets=50, n_reference=200, n_validation=50, attacks=ATTACKS, defense=None, responsive="all"):
        self.dataset = dataset
        self.prop = prop
        self.label_share = label_share
        self.bins = bins
        self.property_range = property_range
        self.property_values = property_values
        self.n_train = n_train
        self.n_test = n_test
        self.target = target
        self.n_queries = n_queries
        self.n_shadows = n_shadows
        self.n_targets = n_targets
        self.n_reference = n_reference
        self.n_validation = n_validation
        self.attacks = attacks
        self.defense = defense
        self.responsive = responsive

    def _validate_params(self):
        super()._validate_params()
        check_classes(self)
        bad = [a for a in self.attacks if a not in ATTACKS]
        if not list(self.attacks) or bad:
            raise ValueError(f"unknown attacks {bad}; choose from {list(ATTACKS)}.")

    # ----- the engine's game --------------------------------------------------------------------
    chunk = 1  # one play trains hundreds of models: let workers share the replications

    def _n_classes(self):
        if self.property_values is not None:
            return len(self.property_values)
        prange = self.property_range if self.property_range is not None else (0.0, 1.0)
        return len(make_bins(self.bins, prange)) - 1 if self.bins is not None else 0

    @property
    def record_fields(self):
        """Numeric fields of a record (see the module docstring)."""
        m = self._n_classes()
        fields = ["n_classes", "chance", *(f"label_share_{c}" for c in range(m)), *_UTILITY]
        for name in self.attacks:
            fields += [f"{name}_accuracy", f"{name}_low", f"{name}_high"]
            if self.property_values is not None and m == 2:
                fields += [f"{name}_n_leaked", f"{name}_n_leaked_se"]
        if self.defense is not None:
            fields += [f"defended_{k}" for k in _UTILITY]
            for name in self.attacks:
                fields += [f"{name}_fixed_accuracy", f"{name}_responsive_accuracy", f"{name}_responsive_uses_fixed"]
        return tuple(fields + ["train_seconds", "seconds"])

    @property
    def text_fields(self):
        return tuple(f"{name}_responsive_meta" for name in self.attacks) if self.defense is not None else ()

    @property
    def primary_metric(self):
        return f"{self.attacks[0]}_accuracy"

    @property
    def summary_fields(self):
        """Fields ``modelprivacy play`` summarises: every attack's accuracy (fixed and responsive), utility."""
        fields = [f"{name}_accuracy" for name in self.attacks]
        if self.defense is not None:
            fields += [f"{name}_{kind}_accuracy" for name in self.attacks for kind in ("fixed", "responsive")]
        return tuple(fields + ["auc", "log_loss", "ece"] + (["defended_auc", "defended_log_loss", "defended_ece"]
                                                             if self.defense is not None else []))

    def labels(self):
        data = self.dataset if isinstance(self.dataset, str) else type(self.dataset).__name__
        return {"dataset": data, "defense": "none" if self.defense is None else type(self.defense).__name__}

    def shared_key(self):
        return fingerprint(["cpi", self])

    @classmethod
    def replicate(cls, games, rep, streams, hooks):
        if hooks:
            raise ValueError("hooks are not supported for property-inference experiments.")
        return [_check_record(g, run_experiment(g, streams[0])) for g in games]


def _check_record(spec, rec):
    """The record with bools as 0/1, checked against the declared fields."""
    expected = {*spec.record_fields, *spec.text_fields}
    if set(rec) != expected:
        raise RuntimeError(f"CPIExperiment record fields differ from the declared ones: missing "
                           f"{sorted(expected - set(rec))}, undeclared {sorted(set(rec) - expected)}.")
    return {k: int(v) if isinstance(v, (bool, np.bool_)) else v for k, v in rec.items()}


def _make_attack(name, seed):
    if name == "loss_test":
        return LossTest()
    if name == "threshold_test":
        return ThresholdTest()
    access, meta = name.split("_", 1)
    return MetaClassifierAttack(meta, access=access, random_state=seed)


def _train(env, datasets, rng):
    thetas = np.array([train_model(env.estimator, X, y, rng) for X, y in datasets])
    return thetas


@validate_params({"spec": [CPIExperiment], "seed": [None, Interval(Integral, 0, None), np.random.SeedSequence]})
def run_experiment(spec, seed=0):
    """Play one experiment; return one record (dict of scalars).

    Parameters
    ----------
    spec : CPIExperiment
    seed : None, int or SeedSequence
        All randomness derives from it (same seed, same numbers).

    Returns
    -------
    dict
        Keys described in the module docstring, plus ``n_classes``,
        ``chance``, ``seconds`` and ``train_seconds``.
    """
    if not isinstance(spec, CPIExperiment):
        raise TypeError(f"spec must be a CPIExperiment, got {type(spec).__name__}.")
    spec._validate_params()
    ss = check_seed_sequence(seed)
    t_start = time.perf_counter()
    rec = {}
    with single_threaded():
        env = build_environment(spec, ss)
        rs, rt, ra, rd, rr = (np.random.default_rng(child_seed(ss, k)) for k in (2, 3, 4, 5, 6))
        sh_data, sh_lab, sh_val, _ = draw_population(env, env.attacker, spec.n_shadows, spec.n_train, rs)
        tg_data, tg_lab, tg_val, tests = draw_population(env, env.provider, spec.n_targets, spec.n_train, rt,
                                                         n_test=spec.n_test)
        t0 = time.perf_counter()
        shadows = ModelSet(env.family, _train(env, sh_data, rs), sh_lab, sh_val, sh_data)
        targets = ModelSet(env.family, _train(env, tg_data, rt), tg_lab, tg_val, tg_data)
        rec["train_seconds"] = time.perf_counter() - t0
        m = env.n_classes
        rec["n_classes"] = m
        rec["chance"] = 1.0 / m
        for c in range(m):
            rec[f"label_share_{c}"] = float(np.mean([y.mean() for (X, y), l in zip(tg_data, tg_lab) if l == c]))
        references = []
        for vals in env.class_values:
            v = float(np.median(vals))
            k = int(round(v * spec.n_reference))
            Xr, yr, _ = _draw(env.attacker, spec.n_reference, k / spec.n_reference, rr)
            references.append((Xr, yr))
        two_worlds = spec.property_values is not None and m == 2
        rec.update({k: v for k, v in mean_utility(targets, tests).items()})
        fitted = {}
        for name in spec.attacks:
            att = _make_attack(name, int(ra.integers(2**31 - 1)))
            att.fit(shadows, queries=env.queries, references=references)
            fitted[name] = att
            acc = attack_accuracy(targets.labels, att.predict(targets), m)
            rec[f"{name}_accuracy"] = acc.accuracy
            rec[f"{name}_low"] = acc.low
            rec[f"{name}_high"] = acc.high
            if two_worlds:
                a0, a1 = (float(v) for v in spec.property_values)
                rec[f"{name}_n_leaked"] = n_leaked(acc.accuracy, a0, a1)
                rec[f"{name}_n_leaked_se"] = n_leaked(acc.accuracy, a0, a1, method="suri_evans")
        if spec.defense is not None:
            rv = np.random.default_rng(child_seed(ss, 7))
            v_data, v_lab, v_val, _ = draw_population(env, env.attacker, spec.n_validation, spec.n_train, rv)
            validation = ModelSet(env.family, _train(env, v_data, rv), v_lab, v_val, v_data)
            _defended(spec, env, shadows, validation, targets, tests, references, fitted, rec, rd)
    rec["seconds"] = time.perf_counter() - t_start
    return rec


def _defended(spec, env, shadows, validation, targets, tests, references, fitted, rec, rng):
    """Fixed versus responsive attackers against a non-adaptive defense."""
    defense = spec.defense
    per_attack = isinstance(defense, PropertyUnlearning) and defense.attack is None
    shared = None if per_attack else defense.apply(targets, random_state=_child_rng(rng))
    if shared is not None:
        rec.update({f"defended_{k}": v for k, v in mean_utility(shared, tests).items()})
    utilities = []
    for name, att in fitted.items():
        if per_attack:
            if not (isinstance(att, MetaClassifierAttack) and att.differentiable):
                rec[f"{name}_fixed_accuracy"] = float("nan")
                rec[f"{name}_responsive_accuracy"] = float("nan")
                rec[f"{name}_responsive_uses_fixed"] = float("nan")
                rec[f"{name}_responsive_meta"] = ""
                continue
            d = clone(defense).set_params(attack=att)
            defended = d.apply(targets, random_state=_child_rng(rng))
            utilities.append(mean_utility(defended, tests))
        else:
            d, defended = defense, shared
        rec[f"{name}_fixed_accuracy"] = float(np.mean(att.predict(defended) == defended.labels))
        candidates = [clone(att)]
        if spec.responsive == "all" and isinstance(att, MetaClassifierAttack):
            candidates += [MetaClassifierAttack(m, access=att.access, random_state=int(rng.integers(2**31 - 1)))
                           for m in ("logistic", "random_forest", "mlp") if m != att.meta_classifier]
        resp = ResponsiveAttack(candidates, d, fixed_attack=att).fit(
            shadows, validation=validation, queries=env.queries, references=references,
            random_state=_child_rng(rng))
        rec[f"{name}_responsive_accuracy"] = float(np.mean(resp.predict(defended) == defended.labels))
        rec[f"{name}_responsive_uses_fixed"] = bool(resp.uses_fixed_)
        best = resp.best_attack_
        rec[f"{name}_responsive_meta"] = (best.meta_classifier if isinstance(best, MetaClassifierAttack)
                                          else type(best).__name__)
    if per_attack:  # the mean over the attack-specific defenses (NaN when no attack is differentiable)
        rec.update({f"defended_{k}": float(np.mean([u[k] for u in utilities])) if utilities else float("nan")
                    for k in _UTILITY})


def _child_rng(rng):
    return np.random.default_rng(rng.integers(2**63 - 1))
