"""Classification metrics and experiment runners."""

import csv
import math
import os

import numpy as np
import pytest
from scipy import special

from modelprivacy.classification import (
    RS_GRID,
    default_attackers,
    format_table,
    reverse_sigmoid_utility,
    run_agreement_vs_budget,
    run_classification_table,
    run_equation_solving,
    summarise_budget_curves,
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


# ----- runners ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    return make_victim("digits", "logreg", random_state=0)


def test_agreement_vs_budget_resumes_and_shows_reverse_sigmoid_claim(digits, tmp_path):
    path = str(tmp_path / "curves.csv")
    defenses = {"none": NoPostprocessing(), "rs": ReverseSigmoid(1.0, gamma=0.1)}
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
    import modelprivacy.figures.clf as figs

    for name in ("clf_agreement_budget", "clf_table", "clf_equation_solving", "clf_reverse_sigmoid_kl",
                 "clf_privacy_utility"):
        assert name in FIGURES and FIGURES[name].figure_group == "classification"
    out = figs.clf_equation_solving(out_dir=str(tmp_path), quick=True)
    for ext in ("png", "pdf", "csv"):
        assert (tmp_path / f"clf_equation_solving.{ext}").exists()
    assert "none: max|dp|" in out.summary
