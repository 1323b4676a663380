import csv
import os

import numpy as np
import pytest

import modelprivacy.simulate as sim
from modelprivacy.cli import main
from modelprivacy.figures import FIGURES, get_figure
from modelprivacy.figures import responsive as figs_responsive


def _records(path):
    with open(path, newline="") as fh:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(fh)]


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_quick_mode_writes_files(name, tmp_path):
    out = get_figure(name)(out_dir=str(tmp_path), quick=True, seed=0)
    for ext in ("png", "pdf", "csv"):
        path = tmp_path / f"{name}.{ext}"
        assert path.exists() and path.stat().st_size > 0, path
    assert out.name == name


def test_cli_runs_named_figures_and_lists(tmp_path, capsys):
    assert main(["figures", "poly_n_BIC", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "poly_n_BIC.png").exists()
    assert "total" in capsys.readouterr().out
    assert main(["figures", "--list"]) == 0
    assert "krr_ratio" in capsys.readouterr().out


def test_bad_figure_name(tmp_path, capsys):
    assert main(["figures", "poly_m", "--out", str(tmp_path)]) == 2
    assert "error: unknown figure name 'poly_m'" in capsys.readouterr().err


def test_quick_runs_never_write_into_paper_scale_figures(tmp_path, capsys):
    paper = tmp_path / "paper"
    paper.mkdir()
    get_figure("poly_n_BIC")(out_dir=str(paper), reps=2)  # a fixed-replication run is not paper scale
    assert not (paper / ".paper-scale").exists()
    (paper / ".paper-scale").write_text("")
    before = sorted(os.listdir(paper))
    assert main(["figures", "poly_n_BIC", "--quick", "--out", str(paper)]) == 2
    assert "holds paper-scale figures" in capsys.readouterr().err
    assert sorted(os.listdir(paper)) == before
    # without --out, quick figures go to their own folder
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["figures", "poly_n_BIC", "--quick"]) == 0
    finally:
        os.chdir(cwd)
    assert (tmp_path / "quick_figures" / "poly_n_BIC.png").exists()


def test_unreachable_scheduler(tmp_path):
    fig = get_figure("poly_n_AIC")
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'"):
        fig(out_dir=str(tmp_path), quick=True, scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize("name, records", [("krr_ratio", "krr_ratio_records.csv"),
                                           ("clf_equation_solving", "clf_equation_solving_records.csv")])
def test_serial_joblib_and_dask_give_identical_csvs(tmp_path, name, records):
    fig = get_figure(name)
    runs = {"serial": dict(n_jobs=1), "joblib": dict(n_jobs=2), "dask": dict(n_jobs=2, scheduler="local")}
    for label, kw in runs.items():
        os.makedirs(tmp_path / label)
        fig(out_dir=str(tmp_path / label), quick=True, seed=3, **kw)
    plotted = (tmp_path / "serial" / f"{name}.csv").read_text()
    assert plotted.count("\n") > 3
    for label in ("joblib", "dask"):
        assert (tmp_path / label / f"{name}.csv").read_text() == plotted, label
        if records:
            key = lambda r: (r["fingerprint"], r["rep"])  # noqa: E731 - rows arrive in completion order
            ref = sorted(_records(tmp_path / "serial" / records), key=key)
            assert len(ref) > 10 and sorted(_records(tmp_path / label / records), key=key) == ref, label


def test_interrupted_figure_resumes(tmp_path, monkeypatch):
    fig = get_figure("poly_ratio_AIC")
    fig(out_dir=str(tmp_path), quick=True)
    path = tmp_path / "poly_ratio_AIC_records.csv"
    full = _records(path)
    # cut the file as an interruption would: drop the last rows, leave a partial line
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-5]) + lines[-5][:10])
    calls = []
    real = sim._run_task
    monkeypatch.setattr(sim, "_run_task", lambda task: calls.append(len(task.ids) * len(task.reps)) or real(task))
    out = fig(out_dir=str(tmp_path), quick=True)
    assert 0 < sum(calls) <= 5  # only the lost records are recomputed
    assert out.reports[0].garbled and out.reports[0].computed == sum(calls)
    kept = [r for r in _records(path) if r["fingerprint"] and r.get("rep") not in (None, "")]
    key = lambda r: (r["fingerprint"], r["rep"])  # noqa: E731
    assert sorted({key(r) for r in kept}) == sorted({key(r) for r in full})


def test_poly_figure_numbers_follow_theory(tmp_path):
    """Quick-mode sanity: the constant shift is sigma^2, no defense steals perfectly, IID decays."""
    get_figure("poly_n_AIC")(out_dir=str(tmp_path), reps=10)
    rows = list(csv.DictReader(open(tmp_path / "poly_n_AIC.csv")))
    pl = {(r["defense"], int(r["n"])): float(r["privacy_level"]) for r in rows if not r["defense"].startswith("theory")}
    for n in (50, 100, 200, 500):
        assert pl[("constant", n)] == pytest.approx(0.25)
        assert pl[("none", n)] < 1e-20
        assert pl[("order_disguise", n)] > pl[("iid", n)]
    assert pl[("iid", 500)] < pl[("iid", 50)] / 4


SPEC_POLY = {  # spec 5.1 reference table (independent re-simulation, R = 100), sigma = 0.5
    "iid": [0.085, 0.025, 0.0105, 0.0072, 0.0024],
    "constant": [0.278, 0.25, 0.25, 0.25, 0.25],
    # Order Disguise errors are heavy-tailed (99th percentile 6x the median at n = 100),
    # so only the n = 100 cell the issue names is compared; at n = 50 the reference .50 is
    # far from our R = 1000 estimate .372 +- .012 (seed 1), see the issue note
    "order_disguise": [None, None, 0.46, None, None],
}
SPEC_KRR = {  # spec 5.2 reference table (R = 10)
    "none": [0.044, 0.020, 0.0076, 0.0028, 0.0008],
    "iid": [0.12, 0.034, 0.026, 0.0098, 0.0048],
    "constant": [0.34, 0.28, 0.26, 0.25, 0.25],
    "kernel_confusion": [0.54, 0.37, 0.27, 0.27, 0.25],
}


@pytest.mark.parametrize("name, spec, spec_reps", [("poly_n_AIC", SPEC_POLY, 100), ("krr_n", SPEC_KRR, 10)])
def test_paper_scale_numbers_match_spec_tables(tmp_path, name, spec, spec_reps):
    """At paper scale every cell is within Monte Carlo error of the spec's re-simulation.

    Both estimates are noisy: the tolerance is three standard errors of the
    difference, the reference's error estimated from our spread at its R.
    """
    get_figure(name)(out_dir=str(tmp_path))
    rows = list(csv.DictReader(open(tmp_path / f"{name}_records.csv")))
    ns = [20, 50, 100, 200, 500]
    for defense, refs in spec.items():
        for n, ref in zip(ns, refs):
            if ref is None:
                continue
            err = np.array([float(r["stealing_error"]) for r in rows if r["defense"] == defense and int(r["n"]) == n])
            sd = err.std(ddof=1)
            tol = 3 * np.hypot(sd / np.sqrt(len(err)), sd / np.sqrt(spec_reps)) + 1e-3 * ref
            assert abs(err.mean() - ref) <= tol, (defense, n, err.mean(), ref, tol)
    if name == "poly_n_AIC":  # no defense steals perfectly once f is in the class
        none = [float(r["stealing_error"]) for r in rows if r["defense"] == "none" and int(r["n"]) >= 50]
        assert max(none) < 1e-20
        for n in ns:  # Order Disguise stays above the constant shift at every n (P5)
            od = [float(r["stealing_error"]) for r in rows if r["defense"] == "order_disguise" and int(r["n"]) == n]
            assert np.mean(od) > 0.25


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--reps", "0"], "reps must be >= 1"),
        (["--jobs", "0"], "n_jobs must be a positive"),
        (["--seed", "-1"], "seed must be >= 0"),
        (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler"),
    ],
)
@pytest.mark.parametrize("figure", ["poly_n_AIC", "clf_table"])
def test_figure_cli_bad_arguments(tmp_path, figure, argv, message, capsys):
    assert main(["figures", figure, "--quick", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_figure_output_must_be_a_folder(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["figures", "poly_n_AIC", "--quick", "--out", str(f)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


# ----- responsive stealing: numbers in the plotted CSVs that have an independent value ------------------------------
def _csv(path):
    return list(csv.DictReader(open(path)))


def test_responsive_pl_vs_u_exact_cells_and_best_attacker(tmp_path):
    get_figure("responsive_pl_vs_u")(out_dir=str(tmp_path), quick=True)
    rows = _csv(tmp_path / "responsive_pl_vs_u.csv")
    pl = {(r["game"], r["defense"], float(r["sigma"]), r["attacker"], r["role"]): float(r["privacy_level"])
          for r in rows}
    for r in rows:
        if r["game"] == "poly" and r["defense"] == "constant" and r["role"] == "known":
            # a constant shift moves the least-squares polynomial by sigma everywhere: PL_n = U_n = sigma^2 exactly
            s2 = float(r["sigma"]) ** 2
            assert float(r["privacy_level"]) == pytest.approx(s2, rel=1e-12)
            assert float(r["utility_loss"]) == pytest.approx(s2, rel=1e-12)
            assert float(r["pl_sd"]) < 1e-12
    for (game, defense, sigma, attacker, role), value in pl.items():
        if role != "best_aware":
            continue
        aware = {a: v for (g, d, s, a, ro), v in pl.items() if (g, d, s, ro) == (game, defense, sigma, "aware")}
        assert "known" not in aware and value == min(aware.values()) == aware[attacker]
    for defense in ("constant", "order_disguise"):  # five owned clean points remove them exactly
        assert pl[("poly", defense, 0.5, "owned_5", "aware")] < 1e-20
    # GLS kernel ridge with the covariance of IID noise is the known kernel ridge itself
    assert pl[("krr", "iid", 0.5, "gls", "aware")] == pytest.approx(pl[("krr", "iid", 0.5, "known", "known")],
                                                                   rel=1e-9)


def test_arms_race_round_zero_robust_design_is_the_single_design(tmp_path):
    get_figure("arms_race")(out_dir=str(tmp_path), quick=True)
    rows = _csv(tmp_path / "arms_race.csv")
    assert {r["game"] for r in rows} == {"krr", "poly"}
    for r in rows:
        assert float(r["utility_loss"]) == pytest.approx(0.25, rel=1e-12)  # every design on the sphere
        if r["round"] == "0":  # a pool of one: the robust design is that attacker's exact design, no gap
            assert float(r["pool_size"]) == 1.0 and float(r["gap"]) == 0.0
            assert float(r["robust_minus_best_single"]) == pytest.approx(0.0, abs=1e-12)
        if r["round"] == "final":
            reasons = [part.split(":")[0] for part in r["stop_reasons"].split(";")]
            assert reasons and all(x in ("converged", "max_rounds") for x in reasons)  # every race stopped
    records = _csv(tmp_path / "arms_race_records.csv")
    assert len({(r["game"], r["rep"]) for r in records}) == 4  # two races per game


def test_online_vs_batch_budgets_and_ratio(tmp_path):
    """The online design's population utility is sigma^2 by an independent Gauss-Legendre rule."""
    get_figure("online_vs_batch")(out_dir=str(tmp_path), quick=True)
    rows = _csv(tmp_path / "online_vs_batch.csv")
    cells, _ = figs_responsive.online_vs_batch_cells(quick=True)
    designs = {c.labels["n"]: c.game.defense for c in cells if c.labels["defense"] == "online"}
    nodes, weights = np.polynomial.legendre.leggauss(64)  # exact for g^2, a polynomial of degree 18
    for r in rows:
        n, s2 = int(r["n"]), float(r["sigma"]) ** 2
        g = designs[n].perturbation_function(nodes[:, None])
        assert float(weights @ g**2) / 2.0 == pytest.approx(s2, rel=1e-10)
        assert float(r["design_population_utility"]) == pytest.approx(s2, rel=1e-10)
        assert float(r["online_function_utility"]) == pytest.approx(1.0, rel=1e-9)
        assert float(r["batch_utility_loss"]) == pytest.approx(s2, rel=1e-12)  # the batch optimum is on the sphere
        assert float(r["ratio"]) == pytest.approx(float(r["online_privacy_level"]) / float(r["batch_privacy_level"]))
        assert float(r["ratio_low"]) < float(r["ratio"]) < float(r["ratio_high"])
