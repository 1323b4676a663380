import numpy as np
import pytest

from modelprivacy.defenses import Defense, IIDNoise
from modelprivacy.queries import (
    AdaptiveQueries,
    BetaQueries,
    GaussianQueries,
    GridQueries,
    MultivariateGaussianQueries,
    OwnedPointQueries,
    PoolQueries,
    RepeatedQueries,
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


@pytest.mark.parametrize("a, b, interval", [(1.0, 1.0, (-1.0, 1.0)), (1.0, 3.0, (0.0, 1.0)), (2.5, 0.7, (2.0, 5.0))])
def test_quadrature_rules_integrate_polynomials_exactly(a, b, interval):
    """Gauss-Jacobi nodes against the Beta moments E T^k = prod_{j<k} (a + j)/(a + b + j)."""
    q = UniformQueries(interval) if (a, b) == (1.0, 1.0) else BetaQueries(a, b=b, interval=interval)
    x, w = q.quadrature(8)
    assert x.shape == (8, 1) and np.all(w > 0) and w.sum() == pytest.approx(1.0)
    lb, ub = interval
    t = (x[:, 0] - lb) / (ub - lb)
    for k in range(16):
        moment = np.prod([(a + j) / (a + b + j) for j in range(k)])
        assert w @ t**k == pytest.approx(moment, rel=1e-11)
    with pytest.raises(NotImplementedError):
        GridQueries().quadrature()


def test_repeated_queries_count_every_answer_and_send_rounds(rng):
    base = UniformQueries()
    X = RepeatedQueries(base, repeats=3, schedule="batch").sample(10, rng)
    assert X.shape == (10, 1) and len(np.unique(X)) == 4      # ceil(10 / 3) distinct points
    np.testing.assert_array_equal(X[4:8], X[:4])
    server = Server(F_POLY, IIDNoise(0.1), rng=0)
    X, Y = RepeatedQueries(base, repeats=3).collect(10, server, rng=1)
    assert X.shape == (10, 1) and Y.shape == (10,)
    assert [len(b) for b in server._X] == [4, 4, 2]            # three rounds, the last one partial
    assert RepeatedQueries(base, repeats=3).interactive and not RepeatedQueries(schedule="batch").interactive


def test_owned_point_queries_spread_the_owned_points(rng):
    P = np.array([[0.11], [0.22], [0.33]])
    q = OwnedPointQueries(UniformQueries(), points=P)
    X = q.sample(9, rng)
    np.testing.assert_array_equal(q.positions(9), [0, 4, 8])
    np.testing.assert_array_equal(X[[0, 4, 8]], P)
    with pytest.raises(ValueError, match="smaller than the 3 owned points"):
        q.sample(2, rng)
