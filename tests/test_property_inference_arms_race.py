"""The arms race: determinism, a pure step, played by the engine and resumed after a kill, stopping rules, errors."""

import copy
import csv
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from modelprivacy.property_inference import arms_race as ar
from modelprivacy.property_inference.arms_race import ArmsRace, evaluate
from modelprivacy.property_inference.datasets import SyntheticCredit, TabularData
from modelprivacy.simulate import Cell, sweep
from modelprivacy.threat import round_stream


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


POP = SyntheticCredit(4, separation=1.5)
SMALL = dict(bins=2, property_range=(0.2, 0.5), n_train=80, n_test=40, n_shadows=15, n_targets=15, n_queries=20)
TIMES = set(ar._TIME_FIELDS) | {"train_seconds", "attack_seconds", "eval_seconds", "round_seconds"}


def _history(spec, seed):
    """The records of race 0 of ``seed`` played in this process, and the final state."""
    played = list(spec.play(seed))
    return [r for _, r in played], played[-1][0]


def _strip(records):
    """Records without timings, NaN made comparable (NaN != NaN)."""
    nan = lambda v: "nan" if isinstance(v, float) and np.isnan(v) else v
    return [{k: nan(v) for k, v in r.items() if k not in TIMES} for r in records]


def test_same_seed_same_numbers_and_a_pure_step():
    spec = ArmsRace(POP, max_rounds=3, **SMALL)
    a, _ = _history(spec, 5)
    b, _ = _history(spec, 5)
    assert _strip(a) == _strip(b)
    state = spec.init_state(round_stream(5, 0, None))
    before = copy.deepcopy(state.shadows.thetas)
    new, rec = spec.step(state, round_stream(5, 0, 0))
    assert state.round == 0 and np.array_equal(state.shadows.thetas, before)
    assert new.round == 1 and _strip([{"round": 0, **rec}]) == _strip(a[:1])
    assert set(rec) == {*spec.record_fields, *spec.text_fields}
    assert all(np.isscalar(v) for v in rec.values())
    # the engine's records are the race played here
    res = sweep([Cell(spec)], reps=1, seed=5, progress=False)
    assert _strip([{k: r[k] for k in a[0]} for r in res]) == _strip(a)
    assert res.records[0]["dataset"] == "SyntheticCredit" and res.records[0]["strategy"] == "exact"


def test_the_arms_race_defeats_the_responsive_attacker_on_synthetic_credit():
    spec = ArmsRace(POP, max_rounds=6, patience=1, **{**SMALL, "n_shadows": 30, "n_targets": 30})
    history, state = _history(spec, 1)
    first, last = history[0], history[-1]
    assert first["attack_accuracy"] >= 0.85  # the base rate sits in the intercept
    assert last["stop_reason"] == "converged"
    assert abs(last["attack_accuracy"] - 0.5) <= 0.1
    assert last["auc_drop"] < 0.02  # hiding the base rate does not need to change the ranking
    assert last["ece"] > first["ece"]  # ... but costs calibration
    final = evaluate(state, 2, attackers=("logistic", "random_forest"))
    assert final["final_accuracy_logistic"] <= 0.5 + 0.2


def test_a_race_killed_midway_resumes_from_its_last_completed_round(tmp_path, monkeypatch):
    """SIGKILL during round 1 of a race swept by the engine; the rerun plays rounds 1 and 2 only."""
    spec = ArmsRace(POP, max_rounds=3, patience=5, **SMALL)
    out = tmp_path / "race.csv"
    script = textwrap.dedent(f"""
        import time
        from modelprivacy.property_inference.arms_race import ArmsRace
        from modelprivacy.property_inference.datasets import SyntheticCredit
        from modelprivacy.simulate import Cell, sweep
        spec = ArmsRace(SyntheticCredit(4, separation=1.5), max_rounds=3, patience=5, **{SMALL!r})
        real = ArmsRace.step
        def step(self, state, seed):
            if state.round == 1:
                print("round 0 done", flush=True)
                time.sleep(600)
            return real(self, state, seed)
        ArmsRace.step = step
        sweep([Cell(spec)], reps=1, seed=9, out={str(out)!r}, progress=False)
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
    saved = os.listdir(tmp_path / "race.csv.rounds")
    assert saved == [f"{Cell(spec).fingerprint(9)}-0.pkl"]
    rounds = []
    real = ArmsRace.step

    def counted(self, state, seed):
        rounds.append(state.round)
        return real(self, state, seed)

    monkeypatch.setattr(ArmsRace, "step", counted)
    resumed = sweep([Cell(spec)], reps=1, seed=9, out=out, progress=False)
    assert rounds == [1, 2] and resumed.report.computed == 3
    monkeypatch.setattr(ArmsRace, "step", real)
    clean, _ = _history(spec, 9)
    assert _strip([{k: r[k] for k in clean[0]} for r in resumed]) == _strip(clean)
    assert len(list(csv.DictReader(open(out)))) == 3 and not (tmp_path / "race.csv.rounds").exists()


def test_stopping_rules():
    # a property that no model can see: chance from round 0, converged after `patience` rounds
    rng = np.random.default_rng(0)
    X, y = POP.sample(4000, 0.3, rng)
    data = TabularData.from_arrays(X, y, prop=rng.random(4000) < 0.4)
    history, _ = _history(ArmsRace(data, patience=2, max_rounds=5, label_share="fixed", **SMALL), 0)
    assert [r["stop_reason"] for r in history] == ["", "converged"]
    # a utility floor that any change breaks
    history, _ = _history(ArmsRace(POP, max_auc_drop=1e-9, max_rounds=6, **SMALL), 1)
    assert history[-1]["stop_reason"] in ("utility_floor", "converged")
    spec = ArmsRace(POP, max_rounds=1, **SMALL)
    history, state = _history(spec, 1)
    assert history[-1]["stop_reason"] in ("max_rounds", "converged") and len(history) == 1
    with pytest.raises(ValueError, match="has stopped"):
        spec.step(state, 0)
    with pytest.raises(ValueError, match="another arms race"):
        ArmsRace(POP, max_rounds=2, **SMALL).step(state, 0)


def test_bad_specifications_are_refused():
    with pytest.raises(ValueError, match="does not support 'mlp' targets"):
        ArmsRace(POP, target=MLPClassifier((3,)), **SMALL).init_state(0)
    with pytest.raises(ValueError, match="differentiable attacker"):
        sweep([Cell(ArmsRace(POP, attackers=("random_forest",), **SMALL))], reps=1, progress=False)
    with pytest.raises(ValueError, match="do not cover the property range"):
        ArmsRace(POP, **{**SMALL, "bins": [0.3, 0.4, 0.5]}).init_state(0)
    with pytest.raises(ValueError, match="n_shadows"):
        ArmsRace(POP, **{**SMALL, "n_shadows": 1}).init_state(0)
    with pytest.raises(ValueError, match="strategy"):
        next(ArmsRace(POP, strategy="fast", **SMALL).play(0))


def test_approximate_strategy_tracks_the_exact_one():
    kw = dict(max_rounds=4, patience=5, **SMALL)
    exact, _ = _history(ArmsRace(POP, **kw), 3)
    approx, _ = _history(ArmsRace(POP, strategy="approximate", **kw), 3)
    t_exact = sum(r["train_evaluations"] for r in exact)
    t_approx = sum(r["train_evaluations"] for r in approx)
    assert t_approx < 0.5 * t_exact
    for e, a in zip(exact, approx):
        assert abs(e["auc"] - a["auc"]) < 0.02
