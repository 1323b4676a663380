"""The games' presets and the classification games, run as cells of the one engine."""

import numpy as np
import pytest

import modelprivacy.figures.clf as figs
from modelprivacy.defenses import (
    DEFENSES,
    HighConfidence,
    MisleadingShift,
    NoPostprocessing,
    RandomShuffle,
    ReverseSigmoid,
)
from modelprivacy.figures import FIGURES
from modelprivacy.games import (
    GAME_ATTACKERS,
    GAME_DEFENSES,
    RS_GRID,
    agreement_budget_cells,
    classification_attackers,
    classification_table_cells,
    equation_solving_cells,
    game_aware_attackers,
    game_defenses,
    make_game,
    poly_game,
)
from modelprivacy.simulate import Cell, sweep
from modelprivacy.threat import ClassificationThreatModel
from modelprivacy.victims import Victim, make_victim


@pytest.fixture(scope="module")
def digits():
    return make_victim("digits", "logreg", random_state=0)


# ----- regression presets -------------------------------------------------------------------
@pytest.mark.parametrize("game", sorted(GAME_DEFENSES))
def test_each_game_owns_its_defenses_and_attackers(game):
    defenses = game_defenses(game, sigma=0.3)
    assert list(defenses) == list(GAME_DEFENSES[game])
    for name, d in defenses.items():
        assert isinstance(d, DEFENSES[name])
        assert d.get_params(deep=False).get("sigma", 0.3) == 0.3
    tm = make_game(game, n=60 if game != "lasso" else 50, defense=defenses[GAME_DEFENSES[game][-1]])
    assert tm.attacker is not None and GAME_ATTACKERS[game]
    with pytest.raises(ValueError, match="unknown game"):
        game_defenses("nope")


# ----- classification games ---------------------------------------------------------------
@pytest.mark.parametrize("game, designed", [("poly", "order_disguise"), ("krr", "kernel_confusion")])
def test_aware_attackers_that_apply_to_each_defense(game, designed):
    defenses = game_defenses(game, 0.5)
    for name in ("iid", "constant", "long_range", designed):
        names = list(game_aware_attackers(game, defenses[name]))
        expected = ["repeat_k2", "repeat_k4", "cv_choice"]
        expected += ["gls"] if name != designed else []  # random perturbations with known moments only
        expected += ["refuse_top_order"] if game == "poly" else []
        assert names == expected + ["owned_5"], (game, name)
    a = game_aware_attackers(game, defenses["iid"], owned_seed=3)["owned_5"][0].owned_X
    np.testing.assert_array_equal(a, game_aware_attackers(game, defenses["iid"], owned_seed=3)["owned_5"][0].owned_X)
    assert not np.array_equal(a, game_aware_attackers(game, defenses["iid"], owned_seed=4)["owned_5"][0].owned_X)


def test_owned_points_remove_a_constant_shift_and_order_disguise_exactly():
    """One unknown coefficient each: the kriged perturbation is the true one, and the polynomial is recovered."""
    cells = []
    for name in ("constant", "order_disguise"):
        d = game_defenses("poly", 0.5)[name]
        attacker, queries = game_aware_attackers("poly", d)["owned_5"]
        cells.append(Cell(poly_game(100, d).replace(attacker=attacker, queries=queries), {"defense": name}))
    res = sweep(cells, reps=3, seed=0, progress=False)
    assert np.max(res.column("stealing_error")) < 1e-20
    assert res.column("utility_loss") == pytest.approx(0.25)


def test_aware_attackers_argument_errors():
    d = game_defenses("poly", 0.5)["iid"]
    with pytest.raises(ValueError, match="game must be 'poly' or 'krr'"):
        game_aware_attackers("lasso", d)
    with pytest.raises(TypeError, match="defense must be a Defense"):
        game_aware_attackers("poly", "iid")
    with pytest.raises(ValueError, match="n_owned must be >= 1"):
        game_aware_attackers("poly", d, n_owned=0)
    with pytest.raises(ValueError, match="repeats must be >= 2"):
        game_aware_attackers("poly", d, repeats=(1,))


def test_agreement_vs_budget_shows_reverse_sigmoid_claim(digits):
    defenses = {"none": NoPostprocessing(), "rs": ReverseSigmoid(1.0, gamma=0.1)}
    cells = agreement_budget_cells(digits, defenses, classification_attackers(mlp=False), [32, 128])
    assert len(cells) == 2 * (2 * 2 + 1)  # 2 budgets x (soft, labels on both; aware on RS only)
    rows = list(sweep(cells, reps=1, seed=0, progress=False))
    # ReverseSigmoid's central claim: soft labels on the defended API do worse than labels only
    s = {(r["defense"], r["attacker"]): r for r in figs.summarise_budget_curves(rows)}
    assert s[("rs", "soft")]["mean"][-1] < s[("rs", "labels")]["mean"][-1] - 0.03
    assert s[("none", "soft")]["mean"][-1] > s[("rs", "soft")]["mean"][-1] + 0.05
    assert s[("rs", "aware")]["mean"][-1] > s[("rs", "soft")]["mean"][-1]
    assert s[("rs", "soft")]["degradation_abs"] > 0.05


def test_budgets_are_nested_and_shared_across_defenses(digits):
    """Within a replication the n queries of every cell are the first n of one order of the pool."""
    seen = {}

    def queries(draw):
        seen.setdefault(draw.game.n, []).append(draw.X)
        return 0.0

    cells = agreement_budget_cells(digits, {"none": NoPostprocessing(), "ms": MisleadingShift(2.0)},
                                   {"soft": classification_attackers()["soft"]}, [16, 64])
    sweep(cells, reps=1, seed=4, progress=False, hooks={"q": queries})
    np.testing.assert_array_equal(seen[16][0], seen[16][1])  # both defenses, same queries
    np.testing.assert_array_equal(seen[64][0][:16], seen[16][0])  # nested budgets


def test_classification_table_misleading_shift_keeps_auc():
    victim = make_victim("binary", "logreg", random_state=0)
    cells = classification_table_cells(victim, utilities=(0.02, 0.15), budgets=(2000,), seed=0)
    rows = list(sweep(cells, reps=1, seed=0, progress=False))
    cell = lambda d, u, m: np.mean([float(r[m]) for r in rows if r["defense"] == d and float(r["u"]) == u])  # noqa: E731
    u_meas = [float(r["u_measured"]) for r in rows if r["defense"] == "Misleading Shift"]
    assert all(abs(u - t) <= 0.005 for u, t in zip(u_meas, [0.02, 0.15]))
    acc0, f10, auc0 = (cell("No Defense", 0.0, m) for m in ("stolen_acc", "f1", "auc"))
    assert cell("Misleading Shift", 0.15, "stolen_acc") < acc0 - 0.02
    assert cell("Misleading Shift", 0.15, "f1") < f10 - 0.05
    assert abs(cell("Misleading Shift", 0.15, "auc") - auc0) < 0.005
    text = figs.format_table(rows)
    assert "Misleading Shift | f1" in text and "n=2000 u=0.15" in text


def test_equation_solving_cells_recover_an_undefended_logistic_regression():
    victim = make_victim("hard10", "logreg", random_state=0)
    defenses = {"none": NoPostprocessing(), "ms": MisleadingShift(1.0), "shuffle": RandomShuffle(0.2),
                "hc": HighConfidence()}
    res = sweep(equation_solving_cells(victim, defenses), reps=2, seed=0, progress=False,
                hooks={"eq": figs.equation_solving_scores})
    by = {}
    for r in res:
        by.setdefault(r["defense"], []).append(r)
    assert all(r["eq_recovered"] and r["eq_max_prob_err"] < 1e-8 and r["eq_coef_err"] < 1e-8 for r in by["none"])
    assert not any(r["eq_recovered"] for d in ("ms", "shuffle", "hc") for r in by[d])
    assert all(r["eq_coef_err"] < 1e-8 for r in by["ms"])  # the shift only moves one intercept
    # with more answers than unknowns, inconsistent answers show up in the residual
    over = sweep(equation_solving_cells(victim, {"none": NoPostprocessing(), "shuffle": RandomShuffle(0.2)},
                                        n_queries=42), reps=1, seed=0, progress=False,
                 hooks={"eq": figs.equation_solving_scores})
    residual = {r["defense"]: r["eq_residual"] for r in over}
    assert residual["none"] < 1e-8 < residual["shuffle"]


def test_reverse_sigmoid_utility_grows_with_beta(digits):
    rows = figs.reverse_sigmoid_utility(digits.predict_proba(digits.task_.X_benign))
    assert [(r["beta"], r["gamma"]) for r in rows] == list(RS_GRID)
    kl = [r["kl_fwd"] for r in rows if r["gamma"] == 0.2]
    assert all(a < b for a, b in zip(kl, kl[1:]))
    assert all(r["kl_bwd"] > r["kl_fwd"] > 0 for r in rows)


def test_classification_game_argument_errors(digits):
    with pytest.raises(TypeError, match="defenses"):
        agreement_budget_cells(digits, {"x": object()}, classification_attackers(), [16])
    with pytest.raises(ValueError, match="strictly increasing"):
        agreement_budget_cells(digits, {"none": NoPostprocessing()}, classification_attackers(), [32, 16])
    with pytest.raises(ValueError, match="exceeds the size"):
        agreement_budget_cells(digits, {"none": NoPostprocessing()}, classification_attackers(), [4096])
    with pytest.raises(TypeError, match="victim must be a Victim"):
        ClassificationThreatModel("digits", "in", 10)
    with pytest.raises(ValueError, match="queries must be a pool"):
        ClassificationThreatModel(Victim("digits"), "elsewhere", 10)
    with pytest.raises(TypeError, match="defense must be a Postprocessor"):
        ClassificationThreatModel(Victim("digits"), "in", 10, defense="rs")


def test_classification_figures_are_registered():
    for name in ("clf_agreement_budget", "clf_table", "clf_equation_solving", "clf_reverse_sigmoid_kl",
                 "clf_privacy_utility"):
        assert name in FIGURES and FIGURES[name].figure_group == "classification"
