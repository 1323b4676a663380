"""The simulation engine: numbers, seeding, executors, records that cannot go stale, faults."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LassoCV

import modelprivacy._fingerprint as fpmod
import modelprivacy.simulate as sim
from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression, make_attacker
from modelprivacy.defenses import ConstantShift, IIDNoise, LongRangeNoise, NoDefense, NoPostprocessing, ReverseSigmoid
from modelprivacy.games import agreement_budget_cells, classification_attackers, krr_game, lasso_game, poly_game
from modelprivacy.metrics import privacy_level
from modelprivacy.queries import BetaQueries, GridQueries, PoolQueries, UniformQueries
from modelprivacy.simulate import Cell, Precision, grid, replication_streams, simulate, sweep
from modelprivacy.targets import QuadraticTarget
from modelprivacy.base import ParamsMixin
from modelprivacy.threat import RoundGame, ThreatModel
from modelprivacy.victims import Victim

F_POLY = QuadraticTarget()


def _fixed_design(n, p, defense):
    return ThreatModel(F_POLY, GridQueries((0, 1)), n, defense, OLSRegression(p), GridQueries((0, 1)), n)


def _values(res):
    """Records without wall times, keyed by (fingerprint, rep)."""
    return {(r["fingerprint"], r["rep"]): {k: v for k, v in r.items() if k != "seconds"} for r in res}


# --------------------------------------------------------------------------- numbers
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
    tm = lasso_game(50, ConstantShift(0.5), None)
    X = tm.queries.sample(50, np.random.default_rng(replication_streams(0, 0)[0]))
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
    res = simulate(poly_game(20, NoDefense(), None), reps=20, seed=3)
    assert privacy_level(res.column("stealing_error")).mean > 0.01  # only lines fit at n = 20


def test_streams_are_the_children_of_the_replication_seed_sequence():
    children = np.random.SeedSequence(7, spawn_key=(3,)).spawn(4)
    for k, child in enumerate(children):
        assert replication_streams(7, 3)[k].generate_state(4).tolist() == child.generate_state(4).tolist()


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


def test_hooks_see_the_draws_and_the_fitted_copy():
    tm = lasso_game(50, IIDNoise(0.3), None)
    seen = []

    def n_nonzero(draw):
        seen.append((draw.X.shape, draw.Z.shape, draw.Y.shape))
        return np.count_nonzero(draw.attacker.coef_)

    n_nonzero.needs_attacker = True
    res = sweep([Cell(tm, {"defense": "iid"})], reps=2, seed=0, progress=False, hooks={"n_nonzero": n_nonzero})
    assert all(r["n_nonzero"] >= 1 for r in res)
    assert seen == [((50, 60), (400, 60), (50,))] * 2
    with pytest.raises(ValueError, match="clash"):
        sweep([Cell(tm, {"defense": "iid"})], reps=1, progress=False, hooks={"rep": len})


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
    d = IIDNoise(0.1)
    assert poly_game(50, d).defense.sigma == 0.1
    assert poly_game(50, d, sigma=0.3).defense.sigma == 0.3 and d.sigma == 0.1  # cloned, never changed
    assert poly_game(50, "iid").defense.sigma == 0.5
    assert krr_game(50, "constant", sigma=0.2).defense.sigma == 0.2


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


def test_pool_smaller_than_budget_fails_before_simulating():
    with pytest.raises(ValueError, match="pool has 10 inputs, fewer than n=20"):
        ThreatModel(F_POLY, PoolQueries(np.linspace(0, 1, 10), replace=False), 20, "iid", OLSRegression(3))
    pool = PoolQueries(np.linspace(0, 1, 100), replace=False)
    with pytest.raises(ValueError, match="fewer than n_eval=1000"):
        ThreatModel(F_POLY, pool, 20, "iid", OLSRegression(3))
    tm = ThreatModel(F_POLY, pool, 20, "iid", OLSRegression(3), evaluation=UniformQueries())
    assert simulate(tm, reps=2).column("stealing_error").shape == (2,)


def test_sweep_argument_errors():
    cells = grid(poly_game(50, IIDNoise(0.5), None), defenses={"iid": IIDNoise()})
    with pytest.raises(ValueError, match="'reps' parameter of sweep"):
        sweep(cells, reps=0)
    with pytest.raises(ValueError, match="identical games and labels"):
        sweep(cells + cells, reps=1)
    with pytest.raises(ValueError, match="'n_jobs' parameter of sweep"):
        sweep(cells, reps=1, n_jobs=-2)
    with pytest.raises(TypeError, match="cells\\[0\\] must be a Cell"):
        sweep([poly_game(50)], reps=1)
    with pytest.raises(ValueError, match="min_reps"):
        Precision(min_reps=1)
    with pytest.raises(ValueError, match="precision metric"):
        sweep(cells, precision=Precision(metric="auc", min_reps=3, max_reps=3))


# --------------------------------------------------------------------------- executors
def _cells_regression():
    return grid(krr_game(40, IIDNoise(0.5), None), defenses={"iid": IIDNoise(), "long_range": LongRangeNoise()},
                n=[20, 40], sigma=[0.1, 0.5])


def _cells_lasso():
    base = lasso_game(50, IIDNoise(0.5), None)
    return grid(base, defenses={"constant": ConstantShift(), "iid": IIDNoise()}, sigma=[0.3],
                attackers={"lasso_cv": make_attacker("lasso_cv")})


def _cells_classification():
    v = Victim("digits", model="logreg", random_state=0)
    atts = {k: f for k, f in classification_attackers(mlp=True).items() if k in ("soft", "mlp")}
    return agreement_budget_cells(v, {"none": NoPostprocessing(), "rs": ReverseSigmoid(0.5, gamma=0.2)}, atts,
                                  [32, 64])


@pytest.mark.parametrize("make", [_cells_regression, _cells_lasso, _cells_classification],
                         ids=["regression", "lasso_cv", "classification"])
def test_serial_processes_and_dask_give_identical_records(make):
    cells = make()
    serial = _values(sweep(cells, reps=3, seed=11, progress=False))
    workers = _values(sweep(cells, reps=3, seed=11, n_jobs=2, progress=False))
    assert serial == workers
    reordered = _values(sweep(cells[::-1], reps=3, seed=11, progress=False))
    assert serial == reordered  # neither the order of cells nor which share a task changes a number
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert _values(sweep(cells, reps=3, seed=11, scheduler=client, progress=False)) == serial


# --------------------------------------------------------------------------- precision
def test_precision_adds_replications_until_the_interval_is_narrow():
    cells = grid(poly_game(100, NoDefense(), None), defenses={"iid": IIDNoise(0.5), "constant": ConstantShift(0.5)})
    res = sweep(cells, seed=2, precision=Precision(rel_half_width=0.1, min_reps=20, max_reps=5000), progress=False)
    status = {st.labels["defense"]: st for st in res.status}
    assert status["constant"].reps == 20 and status["constant"].met  # no spread at all
    iid = status["iid"]
    assert iid.met and 20 < iid.reps <= 5000
    e = res.filter(defense="iid").column("stealing_error")
    assert len(e) == iid.reps
    # the stopping rule, recomputed independently: met now, and not met one batch earlier
    mean, half, goal = Precision(rel_half_width=0.1).half_width(e)
    assert half <= 0.1 * mean
    earlier = e[: int(np.ceil(iid.reps / 2))]
    assert Precision().half_width(earlier)[1] > 0.1 * earlier.mean()
    # the same numbers on two workers
    again = sweep(cells, seed=2, precision=Precision(rel_half_width=0.1, min_reps=20, max_reps=5000), n_jobs=2,
                  progress=False)
    assert _values(again) == _values(res)


def test_precision_stops_at_max_reps_and_says_so():
    cells = grid(poly_game(100, NoDefense(), None), defenses={"od": LongRangeNoise(0.5)})
    res = sweep(cells, seed=0, precision=Precision(rel_half_width=0.001, min_reps=10, max_reps=40), progress=False)
    assert res.status[0].reps == 40 and not res.status[0].met


# --------------------------------------------------------------------------- records
def _poly_cells(**defense_params):
    base = poly_game(50, IIDNoise(0.5), None)
    return grid(base, defenses={"iid": IIDNoise(**defense_params), "constant": ConstantShift()}, sigma=[0.4])


def _counting(monkeypatch):
    calls = []
    real = sim._run_task

    def counted(task):
        calls.append((task.ids, tuple(task.reps)))
        return real(task)

    monkeypatch.setattr(sim, "_run_task", counted)
    return calls


def test_resume_reuses_only_matching_records(tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    cells = _poly_cells()
    first = sweep(cells, reps=4, seed=5, out=out, progress=False)
    assert (first.report.reused, first.report.computed, first.report.ignored) == (0, 8, 0)
    calls = _counting(monkeypatch)
    again = sweep(cells, reps=4, seed=5, out=out, progress=False)
    assert calls == [] and again.report.reused == 8 and _values(again) == _values(first)
    more = sweep(cells, reps=6, seed=5, out=out, progress=False)
    assert sorted({r for _, reps in calls for r in reps}) == [4, 5] and more.report.computed == 4
    assert _values(more) == _values(sweep(cells, reps=6, seed=5, progress=False))


@pytest.mark.parametrize("change", ["defense parameter", "query distribution", "target", "seed"])
def test_a_changed_setting_recomputes_exactly_the_affected_cells(tmp_path, change):
    out = tmp_path / "r.csv"
    base = poly_game(50, IIDNoise(0.5), None)
    defenses = {"iid": IIDNoise(0.4), "constant": ConstantShift(0.4)}
    sweep(grid(base, defenses=defenses), reps=3, seed=1, out=out, progress=False)
    seed = 1
    if change == "defense parameter":
        defenses = {"iid": IIDNoise(0.41), "constant": ConstantShift(0.4)}
    elif change == "query distribution":
        base = base.replace(queries=BetaQueries(1.0, b=2.0))
    elif change == "target":
        base = base.replace(target=QuadraticTarget(0.4))
    else:
        seed = 2
    res = sweep(grid(base, defenses=defenses), reps=3, seed=seed, out=out, progress=False)
    affected = 3 if change == "defense parameter" else 6
    assert res.report.computed == affected
    assert res.report.reused == 6 - affected
    assert res.report.ignored == affected  # the old records stay in the file, unused
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 6 + affected


def test_an_edited_module_recomputes_exactly_the_cells_it_computes(tmp_path, monkeypatch):
    """The fingerprint holds a digest of the source of every module that computes a cell."""
    src = tmp_path / "src"
    shutil.copytree(fpmod._ROOT, src / "modelprivacy", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fpmod, "_ROOT", src / "modelprivacy")
    fpmod._module_imports.cache_clear()
    out = tmp_path / "r.csv"
    regression = grid(poly_game(50, IIDNoise(0.5), None), defenses={"iid": IIDNoise(0.4)})
    v = Victim("breast_cancer", model="logreg", random_state=0)
    clf = agreement_budget_cells(v, {"none": NoPostprocessing()}, {"soft": classification_attackers()["soft"]},
                                 [40])
    sweep(regression + clf, reps=2, seed=0, out=out, progress=False)
    # the victims module computes the classification cell only
    with open(src / "modelprivacy" / "victims.py", "a") as fh:
        fh.write("\n# an edit\n")
    fpmod._module_imports.cache_clear()
    res = sweep(regression + clf, reps=2, seed=0, out=out, progress=False)
    assert (res.report.reused, res.report.computed, res.report.ignored) == (2, 2, 2)
    # the defenses compute both
    with open(src / "modelprivacy" / "defenses" / "regression.py", "a") as fh:
        fh.write("\n# another edit\n")
    fpmod._module_imports.cache_clear()
    res = sweep(regression + clf, reps=2, seed=0, out=out, progress=False)
    assert (res.report.reused, res.report.computed) == (0, 4)


def test_fresh_keeps_the_old_file_until_the_new_one_is_complete(tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    cells = _poly_cells()
    sweep(cells, reps=40, seed=0, out=out, progress=False)
    old = out.read_text()
    real = sim._run_task
    count = {"n": 0}

    def dies(task):
        count["n"] += 1
        if count["n"] > 1:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(sim, "_run_task", dies)
    with pytest.raises(KeyboardInterrupt):
        sweep(cells, reps=40, seed=0, out=out, fresh=True, progress=False)
    assert out.read_text() == old and os.path.exists(str(out) + ".new")  # nothing lost
    monkeypatch.setattr(sim, "_run_task", real)
    res = sweep(cells, reps=40, seed=0, out=out, fresh=True, progress=False)  # resumes the fresh run
    assert "resumed" in res.report.note and res.report.reused > 0
    assert (tmp_path / "r.csv.old").read_text() == old and not os.path.exists(str(out) + ".new")
    assert _values(res) == _values(sweep(cells, reps=40, seed=0, progress=False))


def test_another_layout_is_never_appended_to(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("cell,rep,stealing_error\niid,0,0.1\n")
    res = sweep(_poly_cells(), reps=2, seed=0, out=out, progress=False)
    assert res.report.ignored == 1 and "another layout" in res.report.note
    assert (tmp_path / "r.csv.old").read_text() == "cell,rep,stealing_error\niid,0,0.1\n"


def test_garbled_lines_are_reported_and_recomputed_not_lost(tmp_path):
    out = tmp_path / "r.csv"
    cells = _poly_cells()
    sweep(cells, reps=3, seed=0, out=out, progress=False)
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("stealing_error")
    bad = lines[2].split(",")
    bad[col] = "nan"
    lines[2] = ",".join(bad)
    worse = lines[3].split(",")
    worse[col] = "0.1x"
    lines[3] = ",".join(worse)
    lines.append("9f8e,iid")  # a line cut short
    text = "\n".join(lines)  # and no final newline, as after a kill
    out.write_text(text)
    res = sweep(cells, reps=3, seed=0, out=out, progress=False)
    assert res.report.garbled == [3, 4, 8]
    assert res.report.computed == 2 and res.report.reused == 4
    assert out.read_text().startswith(text)  # every byte that was there is still there
    assert _values(res) == _values(sweep(cells, reps=3, seed=0, progress=False))


def test_conflicting_duplicates_name_both_lines(tmp_path):
    out = tmp_path / "r.csv"
    cells = _poly_cells()
    sweep(cells, reps=2, seed=0, out=out, progress=False)
    lines = out.read_text().splitlines()
    header = lines[0].split(",")
    dup = lines[1].split(",")
    dup[header.index("stealing_error")] = "123.0"
    out.write_text("\n".join(lines + [",".join(dup), lines[1]]) + "\n")
    with pytest.raises(sim.RecordsConflictError, match=r"lines 2 and 6"):
        sweep(cells, reps=2, seed=0, out=out, progress=False)


def test_identical_duplicates_are_counted_once(tmp_path):
    out = tmp_path / "r.csv"
    cells = _poly_cells()
    sweep(cells, reps=2, seed=0, out=out, progress=False)
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines + [lines[1]]) + "\n")
    res = sweep(cells, reps=2, seed=0, out=out, progress=False)
    assert res.report.duplicates == 1 and res.report.computed == 0


def test_labels_with_separators_do_not_collide():
    base = poly_game(50, IIDNoise(0.5), None)
    cells = [Cell(base, {"defense": "a|b=c", "x": "1"}), Cell(base.replace(defense=IIDNoise(0.3)),
                                                             {"defense": "a", "x": "b=c|1"})]
    res = sweep(cells, reps=2, seed=0, progress=False)
    assert len({r["fingerprint"] for r in res}) == 2


def test_two_sweeps_cannot_write_one_file(tmp_path):
    out = tmp_path / "r.csv"
    store = sim.RecordsFile(out, ["fingerprint", "rep"], {"rep"}, set())
    store.open({})
    try:
        with pytest.raises(sim.RecordsLockedError, match="being written by another sweep"):
            sweep(_poly_cells(), reps=1, seed=0, out=out, progress=False)
    finally:
        store.close(complete=False)
    assert sweep(_poly_cells(), reps=1, seed=0, out=out, progress=False).report.computed == 2


_KILL_SCRIPT = """
import sys
from modelprivacy.defenses import IIDNoise, LongRangeNoise
from modelprivacy.games import krr_game
from modelprivacy.simulate import grid, sweep
cells = grid(krr_game(300, IIDNoise(0.5), None), defenses={"iid": IIDNoise(), "lr": LongRangeNoise()}, n=[300],
             sigma=[0.5])
sweep(cells, reps=int(sys.argv[2]), seed=2, out=sys.argv[1], progress=False, n_jobs=int(sys.argv[3]))
"""


def _children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("jobs", [1, 2])
def test_killed_sweep_resumes_with_nothing_lost_duplicated_or_corrupted(tmp_path, jobs):
    out = tmp_path / "kill.csv"
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(out), "2000", str(jobs)])
    deadline = time.time() + 120
    while time.time() < deadline and not (out.exists() and out.read_text().count("\n") > 8):
        time.sleep(0.05)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = out.read_text()
    n_done = before.count("\n") - 1
    assert 8 <= n_done < 4000, "the sweep should be killed mid-way"
    if jobs == 2:  # the local workers die with the sweep that started them
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert workers and not any(_alive(w) for w in workers)
    cells = grid(krr_game(300, IIDNoise(0.5), None), defenses={"iid": IIDNoise(), "lr": LongRangeNoise()}, n=[300],
                 sigma=[0.5])
    resumed = sweep(cells, reps=n_done // 2 + 3, seed=2, out=out, progress=False)
    assert out.read_text().startswith(before)
    assert resumed.report.reused + len(resumed.report.garbled) >= n_done - 1
    assert resumed.report.duplicates == 0
    assert _values(resumed) == _values(sweep(cells, reps=n_done // 2 + 3, seed=2, progress=False))


def test_memory_does_not_grow_with_the_number_of_replications(tmp_path):
    """10**7 replications: the first record arrives without first building every task."""
    out = tmp_path / "big.csv"
    code = ("from modelprivacy.games import poly_game\nfrom modelprivacy.simulate import simulate\n"
            f"simulate(poly_game(20, 'iid', 0.5), reps=10**7, out={str(out)!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (out.exists() and out.read_text().count("\n") > 200):
            time.sleep(0.1)
        assert out.exists() and out.read_text().count("\n") > 200
        with open(f"/proc/{proc.pid}/status") as fh:
            rss = int(next(line for line in fh if line.startswith("VmRSS")).split()[1]) * 1024
        assert rss < 600 * 2**20, f"{rss / 2**20:.0f} MiB after the first records"
    finally:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------- round games (arms races)
class Walk(ParamsMixin, BaseEstimator, RoundGame):
    """A race whose state is a Gaussian random walk; it stops when |x| >= bound.

    ``interrupt`` names a file: while it exists, round ``interrupt_at`` of
    replication 1 deletes it and interrupts the sweep (a kill mid-race).
    ``log`` names a file that receives one line per round played.
    """

    record_fields = ("x", "increment", "crossed")
    text_fields = ("stop_reason", "side")

    def __init__(self, *, bound=2.5, max_rounds=12, scale=1.0, log=None, interrupt=None, interrupt_at=3):
        self.bound = bound
        self.max_rounds = max_rounds
        self.scale = scale
        self.log = log
        self.interrupt = interrupt
        self.interrupt_at = interrupt_at

    def init_state(self, seed):
        return {"x": float(np.random.default_rng(seed).normal()), "t": 0, "rep": int(seed.spawn_key[0])}

    def step(self, state, seed):
        t, rep = state["t"], state["rep"]
        if self.interrupt and t == self.interrupt_at and rep == 1 and os.path.exists(self.interrupt):
            os.unlink(self.interrupt)
            raise KeyboardInterrupt
        if self.log:
            with open(self.log, "a") as fh:
                fh.write(f"{rep} {t}\n")
        d = float(np.random.default_rng(seed).normal(scale=self.scale))
        x = state["x"] + d
        crossed = abs(x) >= self.bound
        stop = "bound" if crossed else ("max_rounds" if t + 1 >= self.max_rounds else "")
        record = {"x": x, "increment": d, "crossed": crossed, "side": "+" if x >= 0 else "-", "stop_reason": stop}
        return {**state, "x": x, "t": t + 1}, record


def _rounds(res):
    return [(r["rep"], r["round"], r["x"], r["side"], r["stop_reason"]) for r in res]


def test_round_game_records_follow_the_documented_seeds():
    """Round t of replication r uses SeedSequence(seed, spawn_key=(r, 1, t)); the state SeedSequence(seed, (r, 0))."""
    game = Walk()
    res = sweep([Cell(game, {"game": "walk"})], reps=6, seed=11, progress=False)
    for rep in range(6):
        x = np.random.default_rng(np.random.SeedSequence(11, spawn_key=(rep, 0))).normal()
        rows = [r for r in res if r["rep"] == rep]
        assert [r["round"] for r in rows] == list(range(len(rows)))
        for r in rows:
            x += np.random.default_rng(np.random.SeedSequence(11, spawn_key=(rep, 1, r["round"]))).normal()
            assert r["x"] == x and r["crossed"] == int(abs(x) >= 2.5)
        assert rows[-1]["stop_reason"] in ("bound", "max_rounds") and all(not r["stop_reason"] for r in rows[:-1])
    assert _rounds(res) == [(rep, r["round"], r["x"], r["side"], r["stop_reason"])
                            for rep in range(6) for _, r in game.play(seed=11, rep=rep)]


def test_round_games_are_identical_serial_and_in_processes():
    cells = [Cell(Walk(scale=s), {"scale": s}) for s in (0.5, 1.0)]
    serial = sweep(cells, reps=4, seed=3, progress=False)
    parallel = sweep(cells, reps=4, seed=3, n_jobs=2, progress=False)
    assert _rounds(serial) == _rounds(parallel) and len(serial) > 8


def test_an_interrupted_race_resumes_from_its_last_completed_round(tmp_path):
    out, log, flag = tmp_path / "race.csv", tmp_path / "log", tmp_path / "interrupt"
    flag.touch()
    game = Walk(bound=1e9, max_rounds=6, log=str(log), interrupt=str(flag), interrupt_at=3)
    with pytest.raises(KeyboardInterrupt):
        sweep([Cell(game, {"game": "walk"})], reps=3, seed=0, out=out, progress=False)
    played = log.read_text().split("\n")[:-1]
    assert played == [f"0 {t}" for t in range(6)] + ["1 0", "1 1", "1 2"]
    assert sorted(os.listdir(tmp_path / "race.csv.rounds")) == [f"{Cell(game, {'game': 'walk'}).fingerprint(0)}-1.pkl"]
    log.write_text("")
    res = sweep([Cell(game, {"game": "walk"})], reps=3, seed=0, out=out, progress=False)
    assert log.read_text().split("\n")[:-1] == ["1 3", "1 4", "1 5"] + [f"2 {t}" for t in range(6)]
    assert not (tmp_path / "race.csv.rounds").exists()
    assert res.report.reused == 6 and res.report.computed == 12
    clean = sweep([Cell(game, {"game": "walk"})], reps=3, seed=0, progress=False)
    assert _rounds(res) == _rounds(clean)
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 18 and len({(r["rep"], r["round"]) for r in rows}) == 18


def test_precision_on_round_games_reads_the_final_round():
    prec = Precision(rel_half_width=0.0, abs_half_width=0.4, min_reps=5, max_reps=80, metric="x")
    res = sweep([Cell(Walk(bound=1.5), {"game": "walk"})], seed=2, precision=prec, progress=False)
    st = res.status[0]
    finals = np.array([r["x"] for r in res if r["stop_reason"]])
    assert len(finals) == st.reps > 5
    _, half, goal = prec.half_width(finals)
    assert half == st.half_width and st.met == (half <= goal)


def test_round_game_errors_name_the_problem():
    class Undeclared(Walk):
        record_fields = ("x", "increment")

    with pytest.raises(ValueError, match=r"undeclared \['crossed'\]"):
        sweep([Cell(Undeclared(), {"g": 1})], reps=1, progress=False)

    class Endless(Walk):
        def step(self, state, seed):
            state, record = super().step(state, seed)
            return state, {**record, "stop_reason": ""}

    with pytest.raises(ValueError, match="without a stop reason"):
        sweep([Cell(Endless(bound=1e9, max_rounds=3), {"g": 1})], reps=1, progress=False)
    with pytest.raises(ValueError, match="max_rounds must be an int"):
        sweep([Cell(Walk(max_rounds=0), {"g": 1})], reps=1, progress=False)
    with pytest.raises(ValueError, match="hooks are not supported"):
        sweep([Cell(Walk(), {"g": 1})], reps=1, progress=False, hooks={"h": lambda d: 0.0})
