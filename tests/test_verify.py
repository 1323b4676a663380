"""Tests of modelprivacy.verify: every bound checked against the simulator."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.neighbors import KNeighborsRegressor  # noqa: E402

from modelprivacy import bounds as B  # noqa: E402
from modelprivacy import verify as V  # noqa: E402
from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression  # noqa: E402
from modelprivacy.defenses import ConstantShift, IIDNoise, LongRangeNoise, NoDefense  # noqa: E402
from modelprivacy.queries import BetaQueries, GridQueries, UniformQueries  # noqa: E402
from modelprivacy.targets import CosineSeriesTarget, CubicCosineTarget, QuadraticTarget  # noqa: E402
from modelprivacy.threat import ThreatModel  # noqa: E402

F_POLY = QuadraticTarget()
F_KRR = CubicCosineTarget()

KRR = KernelRidgeAttacker(gamma=1.0, alpha=1e-3)


def _fixed(target, lb, ub, n, m, defense, attacker):
    return ThreatModel(target, GridQueries((lb, ub)), n, defense, attacker, GridQueries((lb, ub)), m)


def test_the_bound_is_evaluated_on_the_simulators_own_draws():
    # a deterministic defense: the exact formula must equal every simulated error, replication by replication
    tm = ThreatModel(F_KRR, UniformQueries((-1, 1)), 30, ConstantShift(0.4), KRR, UniformQueries((-1, 1)), 200)
    report = V.verify(V.exact_bound(), tm, reps=8, seed=11)
    row = report.rows[0]
    assert row.holds and abs(row.difference.mean) < 1e-12 and row.difference.high - row.difference.low < 1e-12


EXACT_SETTINGS = [
    _fixed(F_POLY, 0, 1, 50, 300, IIDNoise(0.5), OLSRegression(n_terms=3)),
    _fixed(F_KRR, -1, 1, 80, 300, LongRangeNoise(0.3, gamma=0.5), KRR),
    _fixed(F_KRR, -1, 1, 40, 300, IIDNoise(0.1), KernelRidgeAttacker(gamma=2.0, alpha=1e-2)),
    ThreatModel(F_POLY, BetaQueries(1, b=3), 60, LongRangeNoise(0.4), OLSRegression(n_terms=4),
                BetaQueries(1, b=3), 300),
]


def test_exact_formula_matches_simulation_on_several_settings():
    report = V.verify(V.exact_bound(), EXACT_SETTINGS, reps=200, seed=0)
    assert report.all_hold, report.table()
    assert len(report.rows) == 4 and "matches" in report.table()


def test_exact_check_is_calibrated_and_can_fail():
    """Over many seeds the 95% check passes about 95% of the time; a wrong formula fails."""
    tm = _fixed(F_POLY, 0, 1, 15, 40, IIDNoise(0.5), OLSRegression(n_terms=2))
    wrong = V.Bound(lambda t, X, Z: 1.5 * B.conditional_privacy_level(t, X, Z).value, "exact", "1.5 x exact")
    good = sum(V.verify(V.exact_bound(), tm, reps=60, seed=s).all_hold for s in range(40))
    bad = sum(V.verify(wrong, tm, reps=60, seed=s).all_hold for s in range(40))
    assert 33 <= good <= 40
    assert bad <= 5


FIXED_GAMES = [
    _fixed(F_POLY, 0, 1, 40, 200, NoDefense(), OLSRegression(n_terms=3)),
    _fixed(F_KRR, -1, 1, 40, 200, NoDefense(), KRR),
]
DEFENSES = {
    "IID": IIDNoise(0.3),
    "Constant": ConstantShift(0.3),
    "Long-range 0.5": LongRangeNoise(0.3, gamma=0.5),
    "Long-range sorted": LongRangeNoise(0.3, gamma=0.5, sort=True),
    "Long-range 1/n": LongRangeNoise(0.3),
}


@pytest.mark.parametrize("bound", [V.ceiling_bound(), V.frontier_bound()], ids=["ceiling", "frontier"])
def test_upper_bounds_hold_for_every_defense(bound):
    tms = [g.replace(defense=d) for g in FIXED_GAMES for d in DEFENSES.values()]
    report = V.verify(bound, tms, reps=60, seed=1)
    assert report.all_hold, report.table()


@pytest.mark.parametrize("game", FIXED_GAMES, ids=["ols", "krr"])
def test_frontier_never_below_a_simulated_defense_point(game):
    X = game.queries.sample(game.n)
    Z = game.evaluation_distribution.sample(game.n_eval)
    S = game.attacker.smoother_matrix(X, Z)
    points = V.defense_points(game, DEFENSES, reps=80, seed=2)
    for name, (u, pl) in points.items():
        frontier = B.privacy_frontier(S, game.target(X), game.target(Z), u).privacy_level[0]
        assert pl.mean <= frontier, name
    assert points["Constant"][1].mean > points["IID"][1].mean  # a sanity ordering (P2 vs P4)


def test_two_point_lower_bound_holds_for_any_attacker():
    tms = [
        _fixed(F_POLY, 0, 1, 30, 200, NoDefense(), OLSRegression(n_terms=3)),
        ThreatModel(F_POLY, BetaQueries(1, b=3), 50, NoDefense(), PolynomialRegression(), BetaQueries(1, b=3), 300),
        ThreatModel(F_KRR, UniformQueries((-1, 1)), 40, NoDefense(), KRR, UniformQueries((-1, 1)), 300),
        ThreatModel(F_KRR, UniformQueries((-1, 1)), 40, NoDefense(), KNeighborsRegressor(5),
                    UniformQueries((-1, 1)), 300),
    ]
    report = V.verify_two_point(tms, [0.01, 0.3], reps=30, seed=3)
    assert report.all_hold, report.table()
    assert len(report.rows) == 8


def test_least_squares_rate_by_simulated_slope():
    tm = ThreatModel(F_POLY, BetaQueries(1, b=3), 50, IIDNoise(0.5), OLSRegression(n_terms=3),
                     BetaQueries(1, b=3), 400)
    check = V.verify_rate(tm, [50, 200, 800, 2000], -1.0, reps=100, seed=4)
    assert check.holds, str(check)
    rate = B.least_squares_rate(0.5, 3, check.n)
    assert np.all(check.low <= rate * 1.3) and np.all(rate <= check.high * 1.3)


def test_tuned_series_value_is_the_exact_formula_and_matches_simulation():
    n, sigma, s, m = 120, 0.5, 1.0, 300
    value, p = B.tuned_series_privacy_level(n, sigma, s, n_eval=m)
    X = np.linspace(0, 1, n)[:, None]
    Z = ((np.arange(m) + 0.5) / m)[:, None]
    f = CosineSeriesTarget(s)
    exact = [B.iid_privacy_level(OLSRegression(q, basis="cosine").smoother_matrix(X, Z), sigma, f(X), f(Z))
             for q in range(1, 12)]
    assert value == pytest.approx(min(exact), rel=1e-8) and p == 1 + int(np.argmin(exact))
    tm = _fixed(f, 0, 1, n, m, IIDNoise(sigma), OLSRegression(p, basis="cosine"))
    assert V.verify(V.exact_bound(), tm, reps=150, seed=5).all_hold


def test_fit_slope_and_check_slope():
    n = np.array([10, 20, 40, 80.0])
    slope, intercept, se = V.fit_slope(n, 3.0 * n**-0.7)
    assert slope == pytest.approx(-0.7) and intercept == pytest.approx(np.log(3.0)) and se < 1e-10
    assert not V.check_slope(n, n**-0.5, -0.7).holds
    with pytest.raises(ValueError, match="positive"):
        V.fit_slope(n, -n)
    with pytest.raises(ValueError, match="tol"):
        V.check_slope(n, n**-0.5, -0.5, tol=0.0)


def test_report_table_and_plots():
    report = V.verify(V.exact_bound(), EXACT_SETTINGS[:2], reps=20, seed=0, labels=["a", "b"])
    text = report.table()
    assert "95% interval" in text and text.count("\n") >= 4
    assert report.plot() is not None
    S = OLSRegression(n_terms=3).smoother_matrix(np.linspace(0, 1, 20)[:, None], np.linspace(0, 1, 50)[:, None])
    y, f_Z = F_POLY(np.linspace(0, 1, 20)[:, None]), F_POLY(np.linspace(0, 1, 50)[:, None])
    u = np.logspace(-2, 0, 5)
    fr = B.privacy_frontier(S, y, f_Z, u)
    ax = V.plot_frontier(fr, ceiling=B.privacy_ceiling(S, y, f_Z, u), lower=B.minimax_lower_bound(u),
                         points={"x": (0.1, 0.05)})
    assert len(ax.get_lines()) >= 4


def test_bad_input():
    with pytest.raises(ValueError, match="kind"):
        V.Bound(lambda tm: 0.0, kind="maybe")
    with pytest.raises(TypeError, match="bound"):
        V.verify(lambda tm: 0.0, EXACT_SETTINGS[:1])
    with pytest.raises(ValueError, match="labels"):
        V.verify(V.exact_bound(), EXACT_SETTINGS[:2], reps=5, labels=["one"])
    with pytest.raises(ValueError, match="reps"):
        V.verify(V.exact_bound(), EXACT_SETTINGS[:1], reps=1)
    with pytest.raises(ValueError, match="smoothness"):
        B.tuned_series_privacy_level(100, 0.5, 0.4)
    with pytest.raises(ValueError, match="conditional"):
        V.exact_bound().evaluate(EXACT_SETTINGS[0])


def test_query_dependent_designs_sit_on_or_below_the_frontier():
    from modelprivacy.defenses.optimal import KernelConfusion, OptimalLinearSmoother, OrderDisguise

    krr_game = _fixed(F_KRR, -1, 1, 40, 150, NoDefense(), KRR)
    ols_game = _fixed(F_POLY, 0, 1, 40, 150, NoDefense(), OLSRegression(n_terms=3))
    grid = GridQueries((-1, 1))
    tms = [
        krr_game.replace(defense=OptimalLinearSmoother(0.3, attacker=KRR, evaluation=grid, n_emp=150)),
        krr_game.replace(defense=KernelConfusion.paper_surrogate(0.3, evaluation=grid, n_emp=150)),
        ols_game.replace(defense=OrderDisguise(0.3, p=3)),
    ]
    report = V.verify(V.frontier_bound(), tms, reps=5, seed=6)
    assert report.all_hold, report.table()
    on = report.rows[0]  # the known-attacker optimum attains the frontier exactly
    assert on.estimate.mean == pytest.approx(on.bound, rel=1e-7)
    assert report.rows[1].estimate.mean < on.bound  # a mismatched surrogate does not
