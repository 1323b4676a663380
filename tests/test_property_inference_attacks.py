"""Attacks: chance with identical worlds, differentiable meta-classifiers, threshold search, responsive attacker."""

import itertools

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from modelprivacy.property_inference.attacks import (
    LossTest,
    MetaClassifierAttack,
    MetaNet,
    ResponsiveAttack,
    ThresholdTest,
    _monotone_thresholds,
)
from modelprivacy.property_inference.datasets import SyntheticCredit
from modelprivacy.property_inference.defenses import OutputNoise, ParameterNoise, PropertyUnlearning
from modelprivacy.property_inference.metrics import attack_accuracy
from modelprivacy.property_inference.models import LogisticFamily, ModelSet, train_model

POP = SyntheticCredit(4, separation=1.5)
EST = LogisticRegression(C=1.0)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _models(values, per_class, n, seed):
    rng = np.random.default_rng(seed)
    thetas, labels, vals, data = [], [], [], []
    for c, v in enumerate(values):
        for _ in range(per_class):
            X, y = POP.sample(n, v, rng)
            thetas.append(train_model(EST, X, y))
            labels.append(c)
            vals.append(v)
            data.append((X, y))
    return ModelSet(LogisticFamily(4), np.array(thetas), np.array(labels), np.array(vals), data)


@pytest.fixture(scope="module")
def queries():
    return POP.sample(40, 0.3, 99)[0]


@pytest.fixture(scope="module")
def references():
    return [POP.sample(300, v, 98 + i) for i, v in enumerate((0.2, 0.5))]


@pytest.fixture(scope="module")
def separated():
    return _models((0.2, 0.5), 40, 100, 1), _models((0.2, 0.5), 40, 100, 2)


@pytest.fixture(scope="module")
def identical():
    return _models((0.3, 0.3), 40, 100, 3), _models((0.3, 0.3), 60, 100, 4)


ATTACKS = [MetaClassifierAttack("logistic", access="white"), MetaClassifierAttack("logistic", access="black"),
           MetaClassifierAttack("random_forest", access="white", random_state=0), LossTest(), ThresholdTest()]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: repr(a)[:40])
def test_identical_worlds_leave_attacks_at_chance(identical, queries, references, attack):
    shadows, targets = identical
    attack.fit(shadows, queries=queries, references=references)
    acc = attack_accuracy(targets.labels, attack.predict(targets), 2)
    assert acc.low <= 0.5 <= acc.high


def test_white_box_attack_on_logistic_regression_is_near_perfect(separated):
    shadows, targets = separated
    att = MetaClassifierAttack("logistic", access="white").fit(shadows)
    assert att.score(targets) >= 0.95
    # the base rate sits in the intercept: the intercept alone separates the worlds
    assert np.corrcoef(targets.thetas[:, -1], targets.values)[0, 1] > 0.9


def test_meta_net_reproduces_the_meta_classifier_and_its_jacobian(separated, queries, rng):
    shadows, _ = separated
    three = _models((0.2, 0.35, 0.5), 15, 100, 5)
    for ms, meta, access in [(shadows, "logistic", "white"), (three, "logistic", "white"),
                             (three, "mlp", "black"), (shadows, "mlp", "white")]:
        att = MetaClassifierAttack(meta, access=access, random_state=0).fit(ms, queries=queries)
        net = att.meta_net()
        Phi = att.features(ms)
        P = np.exp(net.logits(Phi) - net.logits(Phi).max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        assert np.allclose(P, att.predict_proba(ms), atol=1e-10)
        phi = Phi[0]
        z, J = net.logits_and_jacobian(phi)
        e = rng.standard_normal(phi.size) * 1e-6
        z2, _ = net.logits_and_jacobian(phi + e)
        assert np.allclose(z2 - z, J @ e, atol=1e-9)
    rf = MetaClassifierAttack("random_forest", random_state=0).fit(shadows)
    assert not rf.differentiable
    with pytest.raises(ValueError, match="not differentiable"):
        MetaNet.from_estimator(rf.meta_classifier_)


def _brute_force_thresholds(s, labels, m):
    best = 0
    for cuts in itertools.combinations_with_replacement(np.concatenate([[-np.inf], np.sort(s), [np.inf]]), m - 1):
        pred = np.searchsorted(np.array(cuts), s, side="right")
        best = max(best, np.sum(pred == labels))
    return best


@pytest.mark.parametrize("m", [2, 3])
def test_threshold_search_is_optimal(rng, m):
    for _ in range(5):
        s = rng.standard_normal(12)
        labels = rng.integers(0, m, 12)
        thr, correct = _monotone_thresholds(s, labels, m)
        assert correct == _brute_force_thresholds(s, labels, m)
        assert np.sum(np.searchsorted(thr, s, side="right") == labels) == correct


def test_bad_input_is_refused(separated, queries):
    shadows, _ = separated
    one_each = shadows.subset([0, 40])
    with pytest.raises(ValueError, match="at least two shadow models"):
        MetaClassifierAttack().fit(one_each)
    with pytest.raises(ValueError, match="query set"):
        MetaClassifierAttack(access="black").fit(shadows)
    with pytest.raises(ValueError, match="access"):
        MetaClassifierAttack(access="grey").fit(shadows)
    with pytest.raises(ValueError, match="reference data"):
        LossTest().fit(shadows)
    with pytest.raises(TypeError, match="ModelSet"):
        MetaClassifierAttack().fit(np.zeros((4, 5)))


@pytest.mark.parametrize("make_defense", [lambda a: OutputNoise(0.15), lambda a: ParameterNoise(0.3),
                                          lambda a: PropertyUnlearning(a)], ids=["output", "parameter", "unlearning"])
def test_responsive_attacker_is_never_worse_than_the_fixed_one(separated, queries, make_defense):
    shadows, targets = separated
    validation = _models((0.2, 0.5), 25, 100, 6)
    access = "black"
    fixed = MetaClassifierAttack("logistic", access=access).fit(shadows, queries=queries)
    defense = make_defense(fixed)
    defended = defense.apply(targets, random_state=11)
    resp = ResponsiveAttack([MetaClassifierAttack("logistic", access=access)], defense, fixed_attack=fixed)
    resp.fit(shadows, validation=validation, queries=queries, random_state=12)
    # by construction on the validation shadows ...
    assert max(resp.scores_) >= resp.scores_[-1]
    # ... and on the defended targets up to the sampling error of 80 targets
    assert resp.score(defended) >= fixed.score(defended) - 0.05
