import numpy as np
import pytest

from modelprivacy.defenses import Defense, IIDNoise
from modelprivacy.queries import (
    AdaptiveQueries,
    BetaQueries,
    GaussianQueries,
    GridQueries,
    MultivariateGaussianQueries,
    PoolQueries,
    SequentialQueries,
    UniformQueries,
    toeplitz_covariance,
)
from modelprivacy.targets import CubicCosineTarget, QuadraticTarget
from modelprivacy.threat import Server

F_POLY = QuadraticTarget()
F_KRR = CubicCosineTarget()


def test_batch_strategies_shapes_and_supports(rng):
    X = UniformQueries((-1, 2), d=3).sample(500, rng)
    assert X.shape == (500, 3) and X.min() >= -1 and X.max() <= 2
    X = GaussianQueries(0, std=5, interval=(-1, 1)).sample(500, rng)
    assert X.min() == -1 and X.max() == 1  # clipped mass sits on the ends
    X = BetaQueries(1, b=3, interval=(2, 4)).sample(2000, rng)
    assert X.min() >= 2 and X.max() <= 4
    # Beta(1, 3) has mean 1/4: mapped to [2, 4] the mean is 2.5
    assert abs(X.mean() - 2.5) < 4 * 2 * np.sqrt(3 / 80) / np.sqrt(2000)
    np.testing.assert_allclose(GridQueries((0, 1)).sample(5)[:, 0], [0, 0.25, 0.5, 0.75, 1])


def test_multivariate_design_covariance(rng):
    cov = toeplitz_covariance(4, 0.5)
    X = MultivariateGaussianQueries(cov).sample(40000, rng)
    np.testing.assert_allclose(np.cov(X.T), cov, atol=0.03)


def test_pool_with_and_without_replacement(rng):
    pool = np.arange(10.0)[:, None]
    X = PoolQueries(pool, replace=False).sample(10, rng)
    assert sorted(X[:, 0]) == list(range(10))
    X = PoolQueries(pool, replace=True).sample(100, rng)
    assert set(X[:, 0]) <= set(range(10))
    with pytest.raises(ValueError, match="pool has 10 inputs, fewer than n=11"):
        PoolQueries(pool, replace=False).sample(11, rng)


@pytest.mark.parametrize(
    "strategy, match",
    [
        (UniformQueries((1, 1)), "lb < ub"),
        (UniformQueries((2, 1)), "lb < ub"),
        (BetaQueries(0, b=1), "'a' parameter of BetaQueries"),
        (GaussianQueries(std=-1), "'std' parameter of GaussianQueries"),
        (GridQueries((0, np.nan)), "NaN"),
    ],
)
def test_bad_strategy_parameters(strategy, match):
    with pytest.raises(ValueError, match=match):
        strategy.sample(3)


def test_negative_n_rejected():
    with pytest.raises(ValueError, match="n must be >= 1"):
        UniformQueries().sample(0)


class _HistoryProbe(Defense):
    """Records what the defense sees at every call."""

    _parameter_constraints = {}

    def __init__(self, log=None):
        self.log = log

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        self.log.append((X.shape[0], 0 if history is None else history[0].shape[0]))
        return np.zeros(X.shape[0])


def test_sequential_defense_sees_only_history(rng):
    log = []
    server = Server(F_POLY, _HistoryProbe(log), rng=rng)
    X, Y = SequentialQueries().collect(6, server, rng)
    assert X.shape == (6, 1)
    assert log == [(1, k) for k in range(6)]
    np.testing.assert_allclose(Y, F_POLY(X))


def test_batch_defense_sees_whole_batch(rng):
    log = []
    server = Server(F_POLY, _HistoryProbe(log), rng=rng)
    UniformQueries().collect(6, server, rng)
    assert log == [(6, 0)]


def test_adaptive_queries_depend_on_answers():
    # same seeds, different answers -> different later queries
    def run(target):
        server = Server(target, IIDNoise(0.0), rng=np.random.default_rng(1))
        X, _ = AdaptiveQueries(n_init=5, n_candidates=50, committee_size=4).collect(12, server, np.random.default_rng(2))
        return X[:, 0]

    a, b = run(F_POLY), run(F_KRR)
    np.testing.assert_array_equal(a[:5], b[:5])  # initial IID draws are the same
    assert not np.allclose(a[5:], b[5:])


def test_adaptive_rejects_small_budget(rng):
    server = Server(F_POLY, IIDNoise(0.1), rng=rng)
    with pytest.raises(ValueError, match="smaller than n_init"):
        AdaptiveQueries(n_init=10).collect(5, server, rng)
