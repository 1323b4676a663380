"""One experiment as a pure function of a specification and a seed."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from modelprivacy._fingerprint import fingerprint
from modelprivacy.property_inference.datasets import SyntheticCredit, TabularData
from modelprivacy.property_inference.defenses import OutputNoise, PropertyUnlearning
from modelprivacy.property_inference.experiments import CPIExperiment, run_experiment
from modelprivacy.simulate import Cell, sweep


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


POP = SyntheticCredit(4, separation=1.5)
SMALL = dict(n_train=60, n_test=30, n_shadows=12, n_targets=12, n_queries=16, n_reference=60, n_validation=6)


def test_record_is_scalar_deterministic_and_fingerprintable():
    spec = CPIExperiment(POP, bins=None, property_values=(0.5, 0.2), property_range=None,
                         attacks=("white_logistic", "black_random_forest", "loss_test", "threshold_test"), **SMALL)
    a, b = run_experiment(spec, 3), run_experiment(spec, 3)
    drop = {"seconds", "train_seconds"}
    same = lambda r: {k: ("nan" if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items() if k not in drop}
    assert same(a) == same(b)
    assert all(np.isscalar(v) for v in a.values())
    assert a["chance"] == 0.5 and a["white_logistic_accuracy"] > 0.8
    assert a["white_logistic_n_leaked"] >= a["white_logistic_n_leaked_se"]
    assert a["label_share_0"] == pytest.approx(0.5) and a["label_share_1"] == pytest.approx(0.2)
    assert fingerprint(spec) == fingerprint(CPIExperiment(**spec.get_params(deep=False)))
    assert fingerprint(spec) != fingerprint(spec.set_params(n_train=61))


def test_defended_records_fixed_and_responsive_accuracies():
    spec = CPIExperiment(POP, bins=2, property_range=(0.2, 0.5), attacks=("black_logistic", "black_random_forest"),
                         defense=OutputNoise(0.2), **SMALL)
    r = run_experiment(spec, 0)
    for name in ("black_logistic", "black_random_forest"):
        assert 0 <= r[f"{name}_fixed_accuracy"] <= 1 and 0 <= r[f"{name}_responsive_accuracy"] <= 1
    assert r["defended_log_loss"] > r["log_loss"]
    r = run_experiment(spec.set_params(defense=PropertyUnlearning(), attacks=("white_logistic",
                                                                               "white_random_forest")), 0)
    assert np.isnan(r["white_random_forest_fixed_accuracy"])  # unlearning needs a gradient
    assert r["white_logistic_fixed_accuracy"] < r["white_logistic_accuracy"]


def test_label_share_choice_is_reported():
    rng = np.random.default_rng(0)
    X, y = POP.sample(6000, 0.3, rng)
    z = (rng.random(6000) < np.where(y == 1, 0.2, 0.5))  # the property correlates with the label
    data = TabularData.from_arrays(X, y, prop=z)
    base = dict(bins=None, property_range=None, property_values=(0.5, 0.1), attacks=("white_logistic",), **SMALL)
    follow = run_experiment(CPIExperiment(data, label_share="follow", **base), 1)
    fixed = run_experiment(CPIExperiment(data, label_share="fixed", **base), 1)
    assert follow["label_share_1"] > follow["label_share_0"] + 0.05
    assert fixed["label_share_0"] == pytest.approx(fixed["label_share_1"], abs=1e-12)


def test_bad_specifications_are_refused():
    with pytest.raises(ValueError, match="unknown attacks"):
        run_experiment(CPIExperiment(POP, attacks=("white_svm",), **SMALL), 0)
    with pytest.raises(ValueError, match="not both"):
        run_experiment(CPIExperiment(POP, property_values=(0.5, 0.2), **SMALL), 0)
    with pytest.raises(ValueError, match="do not cover"):
        run_experiment(CPIExperiment(POP, bins=[0.3, 0.4, 0.5], property_range=(0.2, 0.5), **SMALL), 0)
    german = dict(SMALL, n_train=400, attacks=("white_logistic",))
    with pytest.raises(ValueError, match="holds no property value .* reachable range"):
        run_experiment(CPIExperiment("german", property_range=(0.1, 1.0), bins=3, **german), 0)
    with pytest.raises(ValueError, match="cannot supply property value 0.9"):
        run_experiment(CPIExperiment("german", bins=None, property_range=None, property_values=(0.3, 0.9),
                                     **german), 0)
    with pytest.raises(ValueError, match="LogisticRegression or an MLPClassifier"):
        from sklearn.svm import SVC

        run_experiment(CPIExperiment(POP, target=SVC(probability=True), **SMALL), 0)


def test_small_mlp_targets_run():
    spec = CPIExperiment(POP, bins=2, property_range=(0.2, 0.5), target=MLPClassifier((4,), max_iter=300),
                         attacks=("white_logistic", "black_logistic"), **SMALL)
    r = run_experiment(spec, 0)
    assert 0 <= r["white_logistic_accuracy"] <= 1 and r["auc"] > 0.6


def test_the_engine_plays_experiments_with_the_documented_seeds_serial_or_parallel():
    spec = CPIExperiment(POP, bins=2, property_range=(0.2, 0.5), attacks=("black_logistic", "white_logistic"),
                         defense=OutputNoise(0.2), **SMALL)
    res = sweep([Cell(spec)], reps=3, seed=4, progress=False)
    par = sweep([Cell(spec)], reps=3, seed=4, n_jobs=2, progress=False)
    drop = {"seconds", "train_seconds"}
    same = lambda r: {k: ("nan" if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items() if k not in drop}
    assert [same(r) for r in res] == [same(r) for r in par]
    for r in res:
        direct = run_experiment(spec, np.random.SeedSequence(4, spawn_key=(r["rep"], 0)))
        assert same({k: r[k] for k in direct}) == same({k: int(v) if isinstance(v, bool) else v
                                                        for k, v in direct.items()})
        assert set(direct) == {*spec.record_fields, *spec.text_fields}
    assert res.records[0]["defense"] == "OutputNoise" and res.status[0].reps == 3
    summary = res.summary(by=("defense",), metric="black_logistic_accuracy")[0]
    assert summary["black_logistic_accuracy_low"] <= summary["black_logistic_accuracy"]
