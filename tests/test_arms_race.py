"""The stealing arms race: pure rounds, played by the engine, termination, robust versus single designs."""

import numbers
import pickle

import numpy as np
import pytest
from sklearn.base import clone

from modelprivacy.arms_race import StealingArmsRace, evaluate_pool
from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression
from modelprivacy.defenses import OptimalLinearSmoother, RobustLinearSmoother
from modelprivacy.queries import UniformQueries
from modelprivacy.solvers import trust_region
from modelprivacy.simulate import Cell, sweep
from modelprivacy.targets import CubicCosineTarget
from modelprivacy.threat import round_stream

F = CubicCosineTarget()
LEG = {"basis": "legendre", "interval": (-1.0, 1.0)}
FAMILY = (
    ("krr_g1", KernelRidgeAttacker("rbf", gamma=1.0, alpha=1e-3)),
    ("krr_g0.3", KernelRidgeAttacker("rbf", gamma=0.3, alpha=1e-3)),
    ("ols4", OLSRegression(4, **LEG)),
    ("ols8", OLSRegression(8, **LEG)),
)


def _spec(**kw):
    params = dict(n=24, family=FAMILY, reps=2, max_rounds=3, n_emp=80, n_eval=150, conic_solver="CLARABEL",
                  n_samples=20)
    params.update(kw)
    return StealingArmsRace("krr", **params)


def _strip(record):
    """The record without its timing, NaN made comparable."""
    return {k: ("nan" if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items() if k != "seconds"}


def test_step_is_a_pure_function_of_state_and_seed():
    spec = _spec()
    state = spec.init_state(round_stream(3, 0, None))
    before = pickle.dumps(state)
    s1, r1 = spec.step(state, round_stream(3, 0, 0))
    s2, r2 = spec.step(state, round_stream(3, 0, 0))
    assert pickle.dumps(state) == before  # the input state is not modified
    assert _strip(r1) == _strip(r2)
    assert s1.pool == s2.pool and s1.round == 1
    for k, v in r1.items():
        assert isinstance(v, (numbers.Number, str, bool)), k
    assert set(r1) == {*spec.record_fields, *spec.text_fields}
    s3, r3 = spec.step(s1, round_stream(3, 0, 1)) if not s1.stopped else (s1, r1)
    assert set(r3) == set(r1)  # the same keys in every round
    assert r1["utility_loss"] == pytest.approx(0.25, rel=1e-12)
    assert r1["gap"] == 0.0  # one attacker: the exact trust-region design
    with pytest.raises(ValueError, match="another race"):
        clone(spec).set_params(reps=3).step(state, 0)


def test_the_engine_plays_races_to_their_stop_and_resumes_from_a_saved_round():
    spec = _spec()
    res = sweep([Cell(spec)], reps=2, seed=5, progress=False)
    for rep in range(2):
        race = [r for r in res if r["rep"] == rep]
        assert 1 <= len(race) <= spec.max_rounds == 3
        assert race[-1]["stop_reason"] in ("converged", "max_rounds")
        for rec in race[:-1]:  # the pool grows by the attacker's choice until it stops
            assert not rec["chosen_in_pool"] and not rec["stop_reason"]
            assert rec["chosen"] not in rec["pool"].split("+")
        assert race[-1]["chosen_in_pool"] == (race[-1]["stop_reason"] == "converged")
        assert [r["pool_size"] for r in race] == list(range(1, len(race) + 1))
    # the race of replication 0, played here and resumed from the state saved after round 0
    played = list(spec.play(seed=5, rep=0))
    assert [_strip(r) for _, r in played] == [_strip({k: v for k, v in r.items() if k in played[0][1]})
                                              for r in res if r["rep"] == 0]
    state = pickle.loads(pickle.dumps(played[0][0]))
    resumed = [spec.step(state, round_stream(5, 0, 1))[1]] if len(played) > 1 else []
    assert [_strip({"round": 1, **r}) for r in resumed] == [_strip(r) for _, r in played[1:2]]
    with pytest.raises(ValueError, match="has stopped"):
        spec.step(played[-1][0], round_stream(5, 0, len(played)))


def test_recorded_privacy_levels_equal_refitting_the_attackers_on_the_defended_answers():
    """One query set, one attacker in the pool: the design is the public OptimalLinearSmoother's."""
    spec = _spec(reps=1)
    rec = evaluate_pool(spec, ["krr_g1"], seed=11)
    ss = np.random.SeedSequence(11)
    game = np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=(0, 0)))
    design = np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=(1, 0)))
    X = UniformQueries((-1.0, 1.0)).sample(24, game)
    Z = UniformQueries((-1.0, 1.0)).sample(150, game)
    d = OptimalLinearSmoother(0.5, attacker=FAMILY[0][1], evaluation=UniformQueries((-1.0, 1.0)), n_emp=80)
    Y = d.respond(X, F(X), rng=design, target=F)
    for name, att in FAMILY:
        assert rec[f"pl_{name}"] == pytest.approx(np.mean((att.fit(X, Y).predict(Z) - F(Z)) ** 2), rel=1e-8)


def test_robust_design_beats_every_single_design_on_its_own_objective():
    """On the defender's evaluation points the worst case of the robust design is at least every single one's."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (30, 1))
    Z = rng.uniform(-1, 1, (120, 1))
    atts = [a for _, a in FAMILY[:3]]
    d = RobustLinearSmoother(0.5, attackers=atts, evaluation=Z, conic_solver="CLARABEL", n_samples=30)
    res, quads = d.design(X, F(X), rng=1, target=F)
    robust = min(q.value(res.e) for q in quads)
    assert res.gap >= -1e-6 and robust == pytest.approx(res.objective)
    radius = 0.5 * np.sqrt(30)
    for q in quads:
        e = trust_region(q.M, q.u, radius).e
        assert robust >= min(p.value(e) for p in quads) - 1e-10
    # and the measured comparison records the paired difference with its standard error
    rec = evaluate_pool(_spec(reps=2), ["krr_g1", "ols4"], seed=2)
    assert {"robust_minus_best_single", "robust_minus_best_single_se", "single_worst_case_ols4"} <= set(rec)
    assert rec["gap"] >= -1e-6 and rec["pool_size"] == 2
    assert rec["utility_loss"] == pytest.approx(0.25, rel=1e-12)  # the robust design is put on the sphere


def test_bad_specifications_are_rejected():
    with pytest.raises(ValueError, match="not a family member"):
        _spec(initial="nope").init_state(0)
    with pytest.raises(TypeError, match="must be a linear smoother"):
        _spec(family=(("lasso", object()),)).init_state(0)
    with pytest.raises(ValueError, match="distinct"):
        _spec(family=FAMILY[:1] * 2).init_state(0)
    with pytest.raises(TypeError, match="seed must be"):
        _spec().init_state(-1)
    with pytest.raises(ValueError, match="pool must hold distinct family members"):
        evaluate_pool(_spec(), ["krr_g1", "krr_g1"])
