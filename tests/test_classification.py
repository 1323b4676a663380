"""Classification metrics and experiment runners."""

import csv
import math
import os

import numpy as np
import pytest
from scipy import special

from modelprivacy.classification import (
    RS_GRID,
    agreement,
    auc_f1,
    budget_grid,
    default_attackers,
    degradation,
    flip_rate,
    format_table,
    kl_per_query,
    l1_distance,
    queries_to_target,
    query_multiplier,
    reverse_sigmoid_utility,
    run_agreement_vs_budget,
    run_classification_table,
    run_equation_solving,
    stolen_accuracy,
    summarise_budget_curves,
    utility_report,
)
from modelprivacy.defenses.postprocess import (
    HighConfidence,
    MisleadingShift,
    NoPostprocessing,
    RandomShuffle,
    ReverseSigmoid,
    TopLabel,
)
from modelprivacy.victims import make_victim


# ----- metrics ----------------------------------------------------------------------------
def test_kl_matches_scipy_rel_entr_both_directions():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(5), size=40)
    Q = rng.dirichlet(np.ones(5), size=40)
    assert kl_per_query(P, Q) == pytest.approx(np.mean(special.rel_entr(P, Q).sum(axis=1)), rel=1e-9)
    assert kl_per_query(Q, P) == pytest.approx(np.mean(special.rel_entr(Q, P).sum(axis=1)), rel=1e-9)
    assert kl_per_query(P, P) == pytest.approx(0.0, abs=1e-12)
    # zeros in the defended answer: floored at eps instead of infinite
    one_hot = TopLabel()(P)
    assert math.isfinite(kl_per_query(P, one_hot)) and kl_per_query(P, one_hot) > 1.0
    # binary 1-D answers are the two-class case
    p, q = rng.uniform(0.05, 0.95, 30), rng.uniform(0.05, 0.95, 30)
    two = np.mean(special.rel_entr(p, q) + special.rel_entr(1 - p, 1 - q))
    assert kl_per_query(p, q) == pytest.approx(two, rel=1e-9)


def test_l1_flip_agreement_brute_force():
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(4), size=50)
    Q = rng.dirichlet(np.ones(4), size=50)
    assert l1_distance(P, Q) == pytest.approx(sum(abs(a - b).sum() for a, b in zip(P, Q)) / 50)
    flips = sum(int(np.argmax(a) != np.argmax(b)) for a, b in zip(P, Q))
    assert flip_rate(P, Q) == flips / 50
    assert agreement(P, Q) == 1 - flips / 50
    assert agreement(P, np.argmax(Q, axis=1)) == 1 - flips / 50
    y = rng.integers(0, 4, 50)
    assert stolen_accuracy(P, y) == np.mean(np.argmax(P, axis=1) == y)
    r = utility_report(P, Q)
    assert set(r) == {"kl_fwd", "kl_bwd", "l1", "flip_rate"}


def test_auc_f1_against_brute_force():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    s = np.clip(0.5 + 0.3 * (y - 0.5) + 0.3 * rng.normal(size=200), 0, 1)
    pos, neg = s[y == 1], s[y == 0]
    auc = np.mean([(a > b) + 0.5 * (a == b) for a in pos for b in neg])
    pred = (s > 0.5).astype(int)
    tp = np.sum((pred == 1) & (y == 1))
    f1 = 2 * tp / (2 * tp + np.sum((pred == 1) & (y == 0)) + np.sum((pred == 0) & (y == 1)))
    m = auc_f1(s, y)
    assert m["auc"] == pytest.approx(auc) and m["f1"] == pytest.approx(f1)


def test_budget_metrics():
    assert budget_grid(3, 6) == [8, 16, 32, 64]
    b = [16, 32, 64, 128]
    assert queries_to_target(b, [0.1, 0.5, 0.8, 0.9], 0.8) == 64
    assert queries_to_target(b, [0.1, 0.5, 0.7, 0.75], 0.8) == math.inf
    assert query_multiplier(64, 16) == 4 and query_multiplier(math.inf, 16) == math.inf
    assert math.isnan(query_multiplier(16, math.inf))
    assert degradation(0.9, 0.72) == pytest.approx((0.18, 0.2))
    with pytest.raises(ValueError, match="strictly increasing"):
        queries_to_target([32, 16], [0.1, 0.2], 0.1)


def test_metric_input_errors():
    with pytest.raises(ValueError, match="Q must have 3 columns"):
        kl_per_query(np.full((2, 3), 1 / 3), np.full((2, 4), 0.25))
    with pytest.raises(ValueError, match="P must contain probabilities"):
        kl_per_query(np.array([[1.5, -0.5]]), np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="B must have 2 rows"):
        agreement(np.full((2, 3), 1 / 3), np.full((3, 3), 1 / 3))


# ----- runners ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    return make_victim("digits", "logreg", random_state=0)


def test_agreement_vs_budget_resumes_and_shows_reverse_sigmoid_claim(digits, tmp_path):
    path = str(tmp_path / "curves.csv")
    defenses = {"none": NoPostprocessing(), "rs": ReverseSigmoid(1.0, 0.1)}
    att = default_attackers(mlp=False)
    rows = run_agreement_vs_budget(digits, defenses, att, [32, 128], reps=1, csv_path=path, tag="t")
    assert len(rows) == 2 * (2 * 2 + 1)  # 2 budgets x (soft, labels on both; aware on RS only)
    with open(path) as fh:
        n_lines = len(fh.readlines())
    mtime = os.path.getmtime(path)
    again = run_agreement_vs_budget(digits, defenses, att, [32, 128], reps=1, csv_path=path, tag="t")
    assert os.path.getmtime(path) == mtime  # nothing recomputed
    key = lambda r: (r["defense"], r["attacker"], int(r["budget"]))  # noqa: E731
    for a, b in zip(sorted(rows, key=key), sorted(again, key=key)):
        assert float(a["agreement"]) == pytest.approx(float(b["agreement"]), abs=1e-12)
    # a CSV of another setting is discarded, not mixed in
    other = run_agreement_vs_budget(digits, {"none": NoPostprocessing()}, att, [32], reps=1, csv_path=path, tag="u")
    with open(path) as fh:
        assert len(fh.readlines()) < n_lines and all(r["tag"] == "u" for r in csv.DictReader(open(path)))
    assert len(other) == 2
    # ReverseSigmoid's central claim: soft labels on the defended API do worse than labels only
    s = {(r["defense"], r["attacker"]): r for r in summarise_budget_curves(rows)}
    assert s[("rs", "soft")]["mean"][-1] < s[("rs", "labels")]["mean"][-1] - 0.03
    assert s[("none", "soft")]["mean"][-1] > s[("rs", "soft")]["mean"][-1] + 0.05
    assert s[("rs", "aware")]["mean"][-1] > s[("rs", "soft")]["mean"][-1]
    assert s[("rs", "soft")]["degradation_abs"] > 0.05


def test_classification_table_misleading_shift_keeps_auc():
    victim = make_victim("binary", "logreg", random_state=0)
    rows = run_classification_table(victim, utilities=(0.02, 0.15), budgets=(2000,), reps=1, seed=0)
    cell = lambda d, u, m: np.mean([float(r[m]) for r in rows if r["defense"] == d and float(r["u"]) == u])  # noqa: E731
    u_meas = [float(r["u_measured"]) for r in rows if r["defense"] == "Misleading Shift"]
    assert all(abs(u - t) <= 0.005 for u, t in zip(u_meas, [0.02, 0.15]))
    acc0, f10, auc0 = cell("No Defense", 0.0, "acc"), cell("No Defense", 0.0, "f1"), cell("No Defense", 0.0, "auc")
    assert cell("Misleading Shift", 0.15, "acc") < acc0 - 0.02
    assert cell("Misleading Shift", 0.15, "f1") < f10 - 0.05
    assert abs(cell("Misleading Shift", 0.15, "auc") - auc0) < 0.005
    text = format_table(rows)
    assert "Misleading Shift | f1" in text and "n=2000 u=0.15" in text


def test_equation_solving_runner():
    victim = make_victim("hard10", "logreg", random_state=0)
    rows = run_equation_solving(victim, {"none": NoPostprocessing(), "ms": MisleadingShift(1.0),
                                         "shuffle": RandomShuffle(0.2), "hc": HighConfidence()}, reps=2)
    by = {}
    for r in rows:
        by.setdefault(r["defense"], []).append(r)
    assert all(r["recovered"] and r["max_prob_err"] < 1e-8 and r["coef_err"] < 1e-8 for r in by["none"])
    assert not any(r["recovered"] for d in ("ms", "shuffle", "hc") for r in by[d])
    assert all(r["coef_err"] < 1e-8 for r in by["ms"])  # shift only moves one intercept
    # with more answers than unknowns, inconsistent answers show up in the residual
    over = run_equation_solving(victim, {"none": NoPostprocessing(), "shuffle": RandomShuffle(0.2)},
                                n_queries=42, reps=1)
    assert over[0]["residual"] < 1e-8 < over[1]["residual"]


def test_reverse_sigmoid_utility_grows_with_beta(digits):
    rows = reverse_sigmoid_utility(digits.predict_proba(digits.task.X_benign))
    assert [(r["beta"], r["gamma"]) for r in rows] == list(RS_GRID)
    kl = [r["kl_fwd"] for r in rows if r["gamma"] == 0.2]
    assert all(a < b for a, b in zip(kl, kl[1:]))
    assert all(r["kl_bwd"] > r["kl_fwd"] > 0 for r in rows)


def test_runner_argument_errors(digits):
    with pytest.raises(TypeError, match="defenses"):
        run_agreement_vs_budget(digits, {"x": object()}, budgets=[16])
    with pytest.raises(ValueError, match="strictly increasing"):
        run_agreement_vs_budget(digits, {"none": NoPostprocessing()}, budgets=[32, 16])
    with pytest.raises(ValueError, match="exceeds the size"):
        run_agreement_vs_budget(digits, {"none": NoPostprocessing()}, budgets=[4096], reps=1)
    with pytest.raises(TypeError, match="victim"):
        run_equation_solving("digits", {"none": NoPostprocessing()})


def test_figures_register_and_run_quick(tmp_path):
    from modelprivacy.figures import FIGURES
    import modelprivacy.figures.classification as figs

    for name in ("clf_agreement_budget", "clf_table", "clf_equation_solving", "clf_reverse_sigmoid_kl",
                 "clf_privacy_utility"):
        assert name in FIGURES and FIGURES[name].figure_group == "classification"
    out = figs.clf_equation_solving(out_dir=str(tmp_path), quick=True)
    for ext in ("png", "pdf", "csv"):
        assert (tmp_path / f"clf_equation_solving.{ext}").exists()
    assert "none: max|dp|" in out.summary
