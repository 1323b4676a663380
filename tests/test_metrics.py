import numpy as np
import pytest
from scipy import stats

from modelprivacy.metrics import mean_interval, privacy_gain, privacy_level, stealing_error, utility_loss


def test_basic_losses():
    assert stealing_error([1, 2, 3], [1, 2, 5]) == pytest.approx(4 / 3)
    assert utility_loss([1.5, 2.5], [1, 2]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="length 3"):
        stealing_error([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="NaN"):
        utility_loss([np.nan, 1], [0, 0])


def test_privacy_level_interval_covers_at_nominal_rate():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        e = rng.exponential(2.0, size=30)
        hits += privacy_level(e).contains(2.0)
    # exponential data: the t interval is close to nominal at R = 30
    assert 0.92 <= hits / 2000 <= 0.96


def test_privacy_level_matches_scipy_interval():
    e = np.random.default_rng(1).exponential(size=12)
    pl = privacy_level(e, confidence=0.9)
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
