import math

import numpy as np
import pytest
from scipy import special, stats

from modelprivacy.defenses import TopLabel
from modelprivacy.metrics import (
    agreement,
    auc_f1,
    budget_grid,
    degradation,
    flip_rate,
    kl_per_query,
    l1_distance,
    bootstrap_t_interval,
    mean_interval,
    privacy_gain,
    privacy_level,
    queries_to_target,
    query_multiplier,
    ratio_interval,
    stealing_error,
    stolen_accuracy,
    support_f1,
    support_symmetric_difference,
    utility_loss,
    utility_report,
)


def test_basic_losses():
    assert stealing_error([1, 2, 3], [1, 2, 5]) == pytest.approx(4 / 3)
    assert utility_loss([1.5, 2.5], [1, 2]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="y_pred must have length 2"):
        stealing_error([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="must not be empty"):
        stealing_error([], [])
    with pytest.raises(ValueError, match="NaN"):
        utility_loss([np.nan, 1], [0, 0])


def test_privacy_level_interval_covers_at_nominal_rate():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        e = rng.exponential(2.0, size=30)
        hits += privacy_level(e, interval="t").contains(2.0)
    # exponential data: the t interval is close to nominal at R = 30
    assert 0.92 <= hits / 2000 <= 0.96


def test_privacy_level_matches_scipy_interval():
    e = np.random.default_rng(1).exponential(size=12)
    pl = privacy_level(e, confidence=0.9, interval="t")
    lo, hi = stats.t.interval(0.9, 11, loc=e.mean(), scale=stats.sem(e))
    assert lo > 0 and (pl.low, pl.high) == pytest.approx((lo, hi))
    # the interval is cut at 0, where PL_n lives
    heavy = np.array([0.0, 0.0, 0.0, 10.0])
    assert privacy_level(heavy).low == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        privacy_level([0.1, -0.2])


def test_privacy_gain_forms_and_undefined_case():
    assert privacy_gain(0.5, utility_loss=0.25).value == pytest.approx(2.0)
    assert privacy_gain(0.5, baseline=0.1, form="relative").value == pytest.approx(5.0)
    g = privacy_gain(0.25, baseline=0.0, form="relative")
    assert not g.defined and "steals perfectly" in g.reason and np.isnan(float(g))
    assert not privacy_gain(0.0, utility_loss=0.0).defined
    with pytest.raises(ValueError, match="needs utility_loss"):
        privacy_gain(0.1)
    with pytest.raises(ValueError, match="form must be"):
        privacy_gain(0.1, utility_loss=1, form="log")


def test_mean_interval_takes_signed_values():
    d = np.random.default_rng(2).normal(size=15)
    m = mean_interval(d, confidence=0.95)
    lo, hi = stats.t.interval(0.95, 14, loc=d.mean(), scale=stats.sem(d))
    assert (m.low, m.high) == pytest.approx((lo, hi)) and m.low < 0


def test_ratio_interval_with_a_constant_denominator_is_the_scaled_mean_interval():
    a = np.random.default_rng(3).normal(1.0, 0.3, size=25)
    r = ratio_interval(a, np.full(25, 2.0))
    m = mean_interval(a)
    assert (r.ratio, r.low, r.high, r.std_err) == pytest.approx((m.mean / 2, m.low / 2, m.high / 2, m.std_err / 2))
    assert r.reps == 25 and r.contains(r.ratio) and float(r) == r.ratio


def test_ratio_interval_covers_the_ratio_of_paired_means():
    """Correlated pairs (a, b) with E a / E b = 0.8: the 95% delta-method interval covers 0.8 about 95% of the time."""
    rng = np.random.default_rng(11)
    cov = [[0.04, 0.03], [0.03, 0.09]]
    hits = [ratio_interval(*rng.multivariate_normal([0.8, 1.0], cov, size=60).T).contains(0.8) for _ in range(2000)]
    assert 0.93 <= np.mean(hits) <= 0.97


def test_ratio_interval_argument_errors():
    with pytest.raises(ValueError, match="denominator must have length 3"):
        ratio_interval([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2 paired replications"):
        ratio_interval([1.0], [2.0])
    with pytest.raises(ValueError, match="denominator's mean is 0"):
        ratio_interval([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="confidence"):
        ratio_interval([1.0, 2.0], [1.0, 2.0], confidence=1.5)


# ----- classification metrics ----------------------------------------------------------------------------
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
    assert stolen_accuracy(y, P) == np.mean(np.argmax(P, axis=1) == y)
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
    m = auc_f1(y, s)
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
    with pytest.raises(ValueError, match="y_pred must have 3 columns"):
        kl_per_query(np.full((2, 3), 1 / 3), np.full((2, 4), 0.25))
    with pytest.raises(ValueError, match="y_true must contain probabilities"):
        kl_per_query(np.array([[1.5, -0.5]]), np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="y_pred must have 2 rows"):
        agreement(np.full((2, 3), 1 / 3), np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="y_true must not be empty"):
        agreement(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="integer class labels"):
        stolen_accuracy(np.array([0.0, np.nan]), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="shape"):
        l1_distance(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        l1_distance(np.array([np.nan]), np.array([0.5]))


def test_support_recovery_brute_force():
    rng = np.random.default_rng(4)
    for _ in range(50):
        true = rng.normal(size=12) * (rng.random(12) < 0.4)
        est = rng.normal(size=12) * (rng.random(12) < 0.4)
        s_true, s_est = set(np.flatnonzero(true)), set(np.flatnonzero(est))
        tp = len(s_true & s_est)
        denom = len(s_true) + len(s_est)
        assert support_f1(true, est) == pytest.approx(2 * tp / denom if denom else 1.0)
        assert support_symmetric_difference(true, est) == len(s_true ^ s_est)


# ----- intervals on heavy-tailed errors ---------------------------------------------------------
@pytest.fixture(scope="module")
def order_disguise_errors():
    """8000 stealing errors of Order Disguise (poly game, n = 100): skewness about 5, kurtosis about 40."""
    from modelprivacy.games import poly_game
    from modelprivacy.simulate import simulate

    return simulate(poly_game(100, "order_disguise", 0.5), reps=8000, seed=2024).column("stealing_error")


def _coverage(errors, R, n_seeds, interval):
    """Coverage of ``interval`` for the mean of the empirical distribution of ``errors``."""
    mu = errors.mean()
    rng = np.random.default_rng(R)
    hits = 0
    for k in range(n_seeds):
        iv = interval(errors[rng.integers(0, errors.shape[0], R)], k)
        hits += iv.low <= mu <= iv.high
    return hits / n_seeds


def test_bootstrap_t_keeps_its_coverage_on_a_heavy_tailed_cell(order_disguise_errors):
    e = order_disguise_errors
    assert stats.skew(e) > 3 and stats.kurtosis(e) > 20
    boot = lambda x, k: bootstrap_t_interval(x, 0.95, random_state=k)  # noqa: E731
    student = lambda x, k: mean_interval(x, 0.95)  # noqa: E731
    cov_boot, cov_t = _coverage(e, 200, 2000, boot), _coverage(e, 200, 2000, student)
    assert abs(cov_boot - 0.95) <= 0.02, cov_boot
    assert cov_boot > cov_t
    # at R = 100 the Student-t interval misses its nominal coverage by more than 0.02; bootstrap-t does better
    cov_boot, cov_t = _coverage(e, 100, 2000, boot), _coverage(e, 100, 2000, student)
    assert cov_t < 0.93 < cov_boot


def test_bootstrap_t_is_exact_for_constant_values_and_matches_t_for_normal_data():
    iv = bootstrap_t_interval(np.full(10, 0.25))
    assert iv.low == iv.high == 0.25 and iv.std_err == 0
    x = np.random.default_rng(5).normal(size=400)
    bt, t = bootstrap_t_interval(x), mean_interval(x)
    assert bt.mean == t.mean and abs(bt.high - t.high) < 0.2 * (t.high - t.low)
    assert math.isinf(bootstrap_t_interval([1.0]).high)


@pytest.mark.parametrize("R", [2, 3, 4, 5, 8])
def test_bootstrap_t_keeps_its_coverage_with_few_replications(R):
    """Normal data: within 0.025 of 0.95 over 2000 samples, and never absurdly wide (R < 5: the t-interval)."""
    rng = np.random.default_rng(R)
    hits, widths = 0, []
    for s in range(2000):
        iv = bootstrap_t_interval(rng.normal(size=R), random_state=s)
        hits += iv.low <= 0.0 <= iv.high
        widths.append(iv.high - iv.low)
    assert abs(hits / 2000 - 0.95) <= 0.025, hits / 2000
    assert np.max(widths) < 1e3
