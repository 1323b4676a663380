"""Leakage and utility metrics against Monte Carlo and closed-form values."""

import math

import numpy as np
import pytest
from scipy.special import expit

from modelprivacy.property_inference.metrics import (
    attack_accuracy,
    expected_calibration_error,
    n_leaked,
    optimal_test_accuracy,
    utility_report,
    wilson_interval,
)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _simulated_optimal_accuracy(n, a0, a1, rng, reps=200000):
    """Likelihood-ratio test on simulated counts (independent of the binomial-pmf sum)."""
    world = rng.random(reps) < 0.5
    k = rng.binomial(n, np.where(world, a1, a0))
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = k * (np.log(a1) - np.log(a0)) + (n - k) * (np.log1p(-a1) - np.log1p(-a0))
    guess = llr > 0
    ties = llr == 0
    guess[ties] = rng.random(ties.sum()) < 0.5
    return np.mean(guess == world)


@pytest.mark.parametrize("n, a0, a1", [(1, 0.5, 0.2), (5, 0.5, 0.3), (20, 0.5, 0.4), (40, 0.3, 0.35)])
def test_optimal_accuracy_matches_the_simulated_likelihood_ratio_test(rng, n, a0, a1):
    exact = optimal_test_accuracy(n, a0, a1)
    mc = _simulated_optimal_accuracy(n, a0, a1, rng)
    assert abs(exact - mc) < 4 * np.sqrt(0.25 / 200000)


def test_one_record_is_total_variation_of_two_bernoullis():
    for a0, a1 in [(0.5, 0.0), (0.5, 0.9), (0.1, 0.3)]:
        assert optimal_test_accuracy(1, a0, a1) == pytest.approx(0.5 + abs(a0 - a1) / 2)


def test_n_leaked_inverts_the_optimal_accuracy():
    for a0, a1 in [(0.5, 0.2), (0.5, 0.45), (0.5, 1.0)]:
        for n in (1, 3, 10, 57):
            acc = optimal_test_accuracy(n, a0, a1)
            if acc >= 1.0:  # 1 - 2**-58 rounds to 1: no finite n is distinguishable from infinity
                continue
            m = n_leaked(acc, a0, a1)
            # a*(n) is non-decreasing and may be flat: n_leaked is the smallest n with the same accuracy
            assert m <= n + 1e-9 and m == pytest.approx(round(m), abs=1e-9)
            assert optimal_test_accuracy(int(round(m)), a0, a1) == pytest.approx(acc)
            assert optimal_test_accuracy(int(round(m)) - 1, a0, a1) < acc
    assert n_leaked(0.5, 0.5, 0.2) == 0.0
    assert n_leaked(0.4, 0.5, 0.2) == 0.0
    assert np.isinf(n_leaked(1.0, 0.5, 0.2))
    assert np.isnan(n_leaked(0.7, 0.5, 0.5))


def test_n_leaked_records_reach_the_accuracy_by_simulation(rng):
    acc = 0.8
    n = n_leaked(acc, 0.5, 0.3)
    lo, hi = int(np.floor(n)), int(np.ceil(n))
    assert _simulated_optimal_accuracy(lo, 0.5, 0.3, rng) <= acc + 0.005
    assert _simulated_optimal_accuracy(hi, 0.5, 0.3, rng) >= acc - 0.005


def test_suri_evans_closed_form_never_exceeds_the_exact_value():
    for a1 in np.round(np.arange(0.0, 1.01, 0.1), 2):
        if a1 == 0.5:
            continue
        for acc in (0.55, 0.7, 0.9, 0.99):
            assert n_leaked(acc, 0.5, a1, method="suri_evans") <= n_leaked(acc, 0.5, a1) + 1e-9


def test_wilson_interval_covers(rng):
    n, p = 60, 0.3
    hits = 0
    reps = 4000
    for k in rng.binomial(n, p, size=reps):
        lo, hi = wilson_interval(k, n)
        hits += lo <= p <= hi
    assert abs(hits / reps - 0.95) < 0.02
    acc = attack_accuracy([0, 1, 2, 2], [0, 1, 1, 2], 3)
    assert acc.accuracy == 0.75 and acc.chance == pytest.approx(1 / 3) and acc.low < 0.75 < acc.high


def test_ece_of_a_constant_prediction_is_the_base_rate_gap():
    y = np.array([1] * 30 + [0] * 70)
    assert expected_calibration_error(y, np.full(100, 0.5)) == pytest.approx(0.2)
    assert expected_calibration_error(y, np.full(100, 0.3)) == pytest.approx(0.0)


def test_intercept_shift_keeps_auc_but_costs_calibration(rng):
    X = rng.standard_normal((5000, 3))
    z = X @ np.array([1.0, -0.5, 0.3]) - 1.0
    y = (rng.random(5000) < expit(z)).astype(int)
    calibrated = utility_report(y, expit(z))
    shifted = utility_report(y, expit(z + 1.5))
    assert shifted["auc"] == pytest.approx(calibrated["auc"], abs=1e-12)
    assert shifted["log_loss"] > calibrated["log_loss"] + 0.05
    assert shifted["ece"] > calibrated["ece"] + 0.1
    assert calibrated["ece"] < 0.03


def test_degenerate_worlds_found_by_the_property_tests():
    # Suri-Evans form with worlds 0 and 1 (rho = 0): was inf, above the exact value 0.5; its limit is 0
    assert n_leaked(0.75, 0.0, 1.0, method="suri_evans") == 0.0 <= n_leaked(0.75, 0.0, 1.0) == 0.5
    # worlds apart by less than round-off (rho rounds to 1): was -inf, a negative number of records
    assert n_leaked(0.75, 0.0, 1.175494351e-38, method="suri_evans") == math.inf
    # scipy's binomial pmf errs by ~1e-14 for tiny alphas: a*(n) fell below 1/2 (0.4999999999999947)
    for n in range(1, 6):
        assert 0.5 <= optimal_test_accuracy(n, 9.711363145505385e-62, 9.604519013707372e-78) <= 1.0
