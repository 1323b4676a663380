import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.linear_model import LassoCV

import modelprivacy.simulate as sim
from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression
from modelprivacy.defenses import ConstantShift, IIDNoise, LongRangeNoise, NoDefense
from modelprivacy.games import krr_game, lasso_game, poly_game
from modelprivacy.metrics import privacy_level
from modelprivacy.queries import GridQueries, PoolQueries, UniformQueries
from modelprivacy.simulate import Cell, Results, grid, simulate, sweep
from modelprivacy.targets import QuadraticTarget
from modelprivacy.threat import ThreatModel

F_POLY = QuadraticTarget()


def _fixed_design(n, p, defense):
    return ThreatModel(
        target=F_POLY,
        queries=GridQueries((0, 1)),
        n=n,
        defense=defense,
        attacker=OLSRegression(p),
        evaluation=GridQueries((0, 1)),
        n_eval=n,  # evaluation on the design points: the empirical norm
    )


@pytest.mark.parametrize("n, p, sigma", [(30, 3, 0.5), (60, 5, 1.0), (200, 4, 0.3)])
def test_iid_ols_fixed_design_equals_sigma2_p_over_n(n, p, sigma):
    """E ||Pi_X e||^2 / n = sigma^2 p / n exactly (hat matrix of rank p)."""
    res = simulate(_fixed_design(n, p, IIDNoise(sigma)), reps=2000, seed=0)
    pl = privacy_level(res.column("stealing_error"), confidence=0.99)
    assert pl.contains(sigma**2 * p / n), (pl, sigma**2 * p / n)


@pytest.mark.parametrize(
    "game",
    [
        lambda d: poly_game(50, d, None),
        lambda d: poly_game(100, d, None, criterion="BC"),
        lambda d: _fixed_design(40, 4, d),
        lambda d: ThreatModel(F_POLY, UniformQueries(), 25, d, OLSRegression(3)),
    ],
)
def test_constant_shift_gives_sigma_squared(game):
    res = simulate(game(ConstantShift(0.7)), reps=5, seed=0)
    np.testing.assert_allclose(res.column("stealing_error"), 0.49, rtol=1e-9)
    np.testing.assert_allclose(res.column("utility_loss"), 0.49, rtol=1e-12)


def test_constant_shift_moves_lasso_copy_by_sigma():
    """LassoCV has an unpenalised intercept: the copy is the undefended copy plus sigma."""
    from modelprivacy.simulate import replication_streams

    tm = lasso_game(50, ConstantShift(0.5), None)
    s_q = replication_streams(0, 0)[0]
    X = tm.queries.sample(50, np.random.default_rng(s_q))
    y = tm.target(X)
    Z = np.random.default_rng(9).standard_normal((20, 60))
    a = LassoCV(cv=5).fit(X, y).predict(Z)
    b = LassoCV(cv=5).fit(X, y + 0.5).predict(Z)
    np.testing.assert_allclose(b - a, 0.5, atol=1e-9)


def test_no_defense_steals_perfectly_when_target_in_class():
    for n in (50, 100, 500):
        res = simulate(poly_game(n, NoDefense(), None), reps=5, seed=3)
        assert res.column("stealing_error").max() < 1e-20
        assert res.column("utility_loss").max() == 0
    # with n = 20 only linear fits are possible (p_max = 2): not zero
    res = simulate(poly_game(20, NoDefense(), None), reps=20, seed=3)
    assert privacy_level(res.column("stealing_error")).mean > 0.01


def _records_without_time(res):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in res]


def test_serial_and_joblib_give_identical_records():
    base = krr_game(40, IIDNoise(0.5), None)
    cells = grid(base, defenses={"iid": IIDNoise(), "long_range": LongRangeNoise()}, n=[20, 40], sigma=[0.1, 0.5])
    a = sweep(cells, reps=6, seed=11, progress=False)
    b = sweep(cells, reps=6, seed=11, n_jobs=2, progress=False)
    assert _records_without_time(a) == _records_without_time(b)
    # the order of cells does not change any number
    c = sweep(cells[::-1], reps=6, seed=11, progress=False)
    key = lambda r: (r["cell"], r["rep"])
    assert sorted(_records_without_time(a), key=key) == sorted(_records_without_time(c), key=key)


def test_resume_does_not_recompute_finished_cells(tmp_path, monkeypatch):
    base = poly_game(50, IIDNoise(0.5), None)
    cells = grid(base, defenses={"iid": IIDNoise(), "constant": ConstantShift()}, n=[20, 50], sigma=[0.5])
    out = tmp_path / "r.csv"
    first = sweep(cells, reps=4, seed=5, out=out, progress=False)
    calls = []
    real = sim._run_task
    monkeypatch.setattr(sim, "_run_task", lambda *task: calls.append(task[1]) or real(*task))
    again = sweep(cells, reps=4, seed=5, out=out, progress=False)
    assert calls == []
    more = sweep(cells, reps=6, seed=5, out=out, progress=False)
    assert sorted(set(calls)) == [4, 5]
    fresh = sweep(cells, reps=6, seed=5, progress=False)
    assert _records_without_time(more) == _records_without_time(fresh)
    assert _records_without_time(again) == _records_without_time(first)
    with pytest.raises(ValueError, match="seed 5, not 6"):
        sweep(cells, reps=4, seed=6, out=out, progress=False)


_KILL_SCRIPT = """
import sys, time
from modelprivacy.defenses import IIDNoise, LongRangeNoise
from modelprivacy.games import krr_game
from modelprivacy.simulate import grid, sweep
cells = grid(krr_game(300, IIDNoise(0.5), None), defenses={"iid": IIDNoise(), "lr": LongRangeNoise()}, n=[300], sigma=[0.5])
sweep(cells, reps=int(sys.argv[2]), seed=2, out=sys.argv[1], progress=False)
"""


def test_killed_sweep_resumes(tmp_path, monkeypatch):
    out = tmp_path / "kill.csv"
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(out), "400"])
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and out.read_text().count("\n") > 6:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_done = out.read_text().count("\n") - 1
    assert 5 <= n_done < 800, "the sweep should be killed mid-way"
    # simulate a write cut short by the kill
    with open(out, "a") as fh:
        fh.write("cell=partial,iid")
    calls = []
    real = sim._run_task
    monkeypatch.setattr(sim, "_run_task", lambda *task: calls.append(task[1]) or real(*task))
    cells = grid(krr_game(300, IIDNoise(0.5), None), defenses={"iid": IIDNoise(), "lr": LongRangeNoise()}, n=[300], sigma=[0.5])
    resumed = sweep(cells, reps=12, seed=2, out=out, progress=False)
    finished_reps = n_done // 2
    assert len(calls) <= max(12 - finished_reps, 0) + 1
    fresh = sweep(cells, reps=12, seed=2, progress=False)
    assert _records_without_time(resumed) == _records_without_time(fresh)


def test_results_csv_roundtrip_and_summary(tmp_path):
    res = simulate(poly_game(50, IIDNoise(0.5), None), reps=10, seed=0)
    res.to_csv(tmp_path / "a.csv")
    back = Results.from_csv(tmp_path / "a.csv")
    assert _records_without_time(back) == _records_without_time(res)
    row = res.summary()[0]
    assert row["privacy_level"] == pytest.approx(np.mean(res.column("stealing_error")))
    assert row["privacy_gain"] == pytest.approx(row["privacy_level"] / row["utility_loss"])
    assert "PL/U" in res.table()


def test_threat_model_validation():
    with pytest.raises(ValueError, match=r"n=2 is below what the attacker OLSRegression"):
        ThreatModel(F_POLY, UniformQueries(), 2, "iid", OLSRegression(3))
    with pytest.raises(ValueError, match="'sigma' parameter of IIDNoise"):
        ThreatModel(F_POLY, UniformQueries(), 20, IIDNoise(-1), OLSRegression(3))
    with pytest.raises(ValueError, match="'sigma' parameter of IIDNoise"):
        ThreatModel(F_POLY, UniformQueries(), 20, IIDNoise(np.nan), OLSRegression(3))
    with pytest.raises(ValueError, match="unknown defense"):
        ThreatModel(F_POLY, UniformQueries(), 20, "nope", OLSRegression(3))
    with pytest.raises(TypeError, match="target must be callable"):
        ThreatModel(3, UniformQueries(), 20, "iid", OLSRegression(3))
    with pytest.raises(ValueError, match="n must be >= 1"):
        ThreatModel(F_POLY, UniformQueries(), -5, "iid", OLSRegression(3))
    tm = ThreatModel(F_POLY, UniformQueries(), 20, "iid", "poly_aic")
    assert "budget n   = 20" in str(tm) and "PolynomialRegression" in str(tm)


def test_pool_smaller_than_budget_fails_in_simulation():
    with pytest.raises(ValueError, match="pool has 10 inputs, fewer than n=20"):
        ThreatModel(F_POLY, PoolQueries(np.linspace(0, 1, 10), replace=False), 20, "iid", OLSRegression(3))
    pool = PoolQueries(np.linspace(0, 1, 100), replace=False)
    with pytest.raises(ValueError, match="fewer than n_eval=1000"):
        ThreatModel(F_POLY, pool, 20, "iid", OLSRegression(3))
    tm = ThreatModel(F_POLY, pool, 20, "iid", OLSRegression(3), evaluation=UniformQueries())
    assert simulate(tm, reps=2).column("stealing_error").shape == (2,)


def test_sweep_argument_errors():
    cells = grid(poly_game(50, IIDNoise(0.5), None), defenses={"iid": IIDNoise()})
    with pytest.raises(ValueError, match="reps must be >= 1"):
        sweep(cells, reps=0)
    with pytest.raises(ValueError, match="identical parameters"):
        sweep(cells + cells, reps=1)
    with pytest.raises(ValueError, match="n_jobs"):
        sweep(cells, reps=1, n_jobs=0)


@pytest.mark.parametrize(
    "attacker, X",
    [
        (PolynomialRegression(criterion="AIC"), np.random.default_rng(0).beta(1, 3, (100, 1))),
        (PolynomialRegression(criterion="BC", p_max=6), np.random.default_rng(1).uniform(size=(40, 1))),
        (OLSRegression(4), np.random.default_rng(2).uniform(size=(30, 1))),
        (KernelRidgeAttacker(alpha=1e-3, gamma=1.0), np.random.default_rng(3).uniform(-1, 1, (50, 1))),
    ],
)
def test_shared_fits_equal_separate_fits(attacker, X):
    """fit_predict_many (one factorisation for all defenses) equals column-by-column fits."""
    rng = np.random.default_rng(4)
    y = F_POLY(X)
    Y = np.column_stack([y, y + 0.3, y + 0.5 * rng.standard_normal(len(y)), y + X[:, 0] ** 5])
    Z = rng.uniform(X.min(), X.max(), (25, 1))
    P = attacker.fit_predict_many(X, Y, Z)
    for j in range(Y.shape[1]):
        np.testing.assert_allclose(P[:, j], attacker.fit(X, Y[:, j]).predict(Z), rtol=1e-9, atol=1e-10)


def test_scorers_add_fields_and_use_the_fitted_copy():
    tm = lasso_game(50, IIDNoise(0.3), None)
    scorers = {"n_nonzero": lambda est, tm_: np.count_nonzero(est.coef_)}
    res = sweep([Cell({"defense": "iid"}, tm)], reps=2, seed=0, progress=False, scorers=scorers)
    assert all(r["n_nonzero"] >= 1 for r in res)
    with pytest.raises(ValueError, match="clash"):
        sweep([Cell({"defense": "iid"}, tm)], reps=1, progress=False, scorers={"rep": len})


def test_random_function_keeps_privacy_in_sequential_games():
    """Sequentially, long-range noise degenerates to IID draws; a random function does not."""
    from modelprivacy.defenses import GaussianProcessNoise
    from modelprivacy.queries import SequentialQueries

    seq = SequentialQueries(UniformQueries((-1, 1)))
    pl = {}
    for name, d in {"long_range": LongRangeNoise(0.5), "random_function": GaussianProcessNoise(0.5, gamma=1.0)}.items():
        tm = krr_game(60, d, None).replace(queries=seq)
        pl[name] = privacy_level(simulate(tm, reps=30, seed=0).column("stealing_error"))
    assert pl["random_function"].low > 2 * pl["long_range"].high


def test_games_keep_a_defense_objects_sigma():
    assert poly_game(50, IIDNoise(0.1)).defense.sigma == 0.1
    assert poly_game(50, IIDNoise(0.1), sigma=0.3).defense.sigma == 0.3
    assert poly_game(50, "iid").defense.sigma == 0.5
    assert krr_game(50, "constant", sigma=0.2).defense.sigma == 0.2
