"""The arms race: determinism, a pure step, checkpoint and resume after a kill, stopping rules, errors."""

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from modelprivacy.property_inference import arms_race as ar
from modelprivacy.property_inference.arms_race import ArmsRace, evaluate, init_state, load_checkpoint, run, step
from modelprivacy.property_inference.datasets import SyntheticCredit, TabularData


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


POP = SyntheticCredit(4, separation=1.5)
SMALL = dict(bins=2, property_range=(0.2, 0.5), n_train=80, n_test=40, n_shadows=15, n_targets=15, n_queries=20)
TIMES = set(ar._TIME_FIELDS) | {"train_seconds", "attack_seconds", "eval_seconds", "round_seconds"}


def _strip(records):
    """Records without timings, NaN made comparable (NaN != NaN)."""
    nan = lambda v: "nan" if isinstance(v, float) and np.isnan(v) else v
    return [{k: nan(v) for k, v in r.items() if k not in TIMES} for r in records]


def test_same_seed_same_numbers_and_a_pure_step():
    spec = ArmsRace(POP, max_rounds=3, **SMALL)
    a = run(spec, 5)
    b = run(spec, 5)
    assert _strip(a.history) == _strip(b.history)
    state = init_state(spec, 5)
    before = copy.deepcopy(state.shadows.thetas)
    new, rec = step(state, ar.round_seed(5, 0))
    assert state.round == 0 and np.array_equal(state.shadows.thetas, before) and not state.history
    assert new.round == 1 and _strip([rec]) == _strip(a.history[:1])
    for key in ("attack_accuracy", "attack_low", "attack_high", "chance", "auc", "log_loss", "ece", "auc_drop",
                "fixed_accuracy", "train_seconds", "train_evaluations", "stop_reason"):
        assert key in rec
    assert all(np.isscalar(v) for v in rec.values())


def test_the_arms_race_defeats_the_responsive_attacker_on_synthetic_credit():
    spec = ArmsRace(POP, max_rounds=6, patience=1, **{**SMALL, "n_shadows": 30, "n_targets": 30})
    state = run(spec, 1)
    first, last = state.history[0], state.history[-1]
    assert first["attack_accuracy"] >= 0.85  # the base rate sits in the intercept
    assert last["stop_reason"] == "converged"
    assert abs(last["attack_accuracy"] - 0.5) <= 0.1
    assert last["auc_drop"] < 0.02  # hiding the base rate does not need to change the ranking
    assert last["ece"] > first["ece"]  # ... but costs calibration
    final = evaluate(state, 2, attackers=("logistic", "random_forest"))
    assert final["final_accuracy_logistic"] <= 0.5 + 0.2


def test_checkpoint_resumes_after_a_kill(tmp_path):
    """A run killed after its first round resumes from it and ends with the uninterrupted run's numbers."""
    spec = ArmsRace(POP, max_rounds=3, patience=5, **SMALL)
    ck = tmp_path / "race.pkl"
    script = textwrap.dedent(f"""
        import time
        from modelprivacy.property_inference.arms_race import ArmsRace, run
        from modelprivacy.property_inference.datasets import SyntheticCredit
        spec = ArmsRace(SyntheticCredit(4, separation=1.5), max_rounds=3, patience=5, **{SMALL!r})
        def hang(record):
            if record["round"] == 0:
                print("round 0 done", flush=True)
                time.sleep(600)
        run(spec, 9, checkpoint={str(ck)!r}, progress=hang)
    """)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "round 0 done"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    saved = load_checkpoint(ck)
    assert saved.round == 1 and len(saved.history) == 1
    lines = (tmp_path / "race.pkl.records.jsonl").read_text().splitlines()
    assert [json.loads(x)["round"] for x in lines] == [0]
    rounds = []
    resumed = run(spec, 9, checkpoint=ck, progress=lambda r: rounds.append(r["round"]))
    assert rounds == [1, 2]
    assert _strip(resumed.history) == _strip(run(spec, 9).history)
    with pytest.raises(ValueError, match="different arms race"):
        run(ArmsRace(POP, max_rounds=4, **SMALL), 9, checkpoint=ck)


def test_stopping_rules():
    # a property that no model can see: chance from round 0, converged after `patience` rounds
    rng = np.random.default_rng(0)
    X, y = POP.sample(4000, 0.3, rng)
    data = TabularData.from_arrays(X, y, prop=rng.random(4000) < 0.4)
    state = run(ArmsRace(data, patience=2, max_rounds=5, label_share="fixed", **SMALL), 0)
    assert [r["stop_reason"] for r in state.history] == ["", "converged"]
    # a utility floor that any change breaks
    state = run(ArmsRace(POP, max_auc_drop=1e-9, max_rounds=6, **SMALL), 1)
    assert state.history[-1]["stop_reason"] in ("utility_floor", "converged")
    state = run(ArmsRace(POP, max_rounds=1, **SMALL), 1)
    assert state.history[-1]["stop_reason"] in ("max_rounds", "converged") and len(state.history) == 1
    with pytest.raises(ValueError, match="has stopped"):
        step(state, 0)


def test_bad_specifications_are_refused():
    with pytest.raises(ValueError, match="does not support 'mlp' targets"):
        init_state(ArmsRace(POP, target=MLPClassifier((3,)), **SMALL), 0)
    with pytest.raises(ValueError, match="differentiable attacker"):
        run(ArmsRace(POP, attackers=("random_forest",), **SMALL), 0)
    with pytest.raises(ValueError, match="do not cover the property range"):
        init_state(ArmsRace(POP, **{**SMALL, "bins": [0.3, 0.4, 0.5]}), 0)
    with pytest.raises(ValueError, match="n_shadows"):
        init_state(ArmsRace(POP, **{**SMALL, "n_shadows": 1}), 0)
    with pytest.raises(ValueError, match="strategy"):
        run(ArmsRace(POP, strategy="fast", **SMALL), 0)


def test_approximate_strategy_tracks_the_exact_one():
    kw = dict(max_rounds=4, patience=5, **SMALL)
    exact = run(ArmsRace(POP, **kw), 3)
    approx = run(ArmsRace(POP, strategy="approximate", **kw), 3)
    t_exact = sum(r["train_evaluations"] for r in exact.history)
    t_approx = sum(r["train_evaluations"] for r in approx.history)
    assert t_approx < 0.5 * t_exact
    for e, a in zip(exact.history, approx.history):
        assert abs(e["auc"] - a["auc"]) < 0.02
