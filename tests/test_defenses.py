import numpy as np
import pytest
from scipy.linalg import toeplitz

from modelprivacy.defenses import (
    ConstantShift,
    GaussianProcessNoise,
    IIDNoise,
    LongRangeNoise,
    MisleadingVariableProjection,
    NoDefense,
    long_range_autocovariance,
    make_defense,
)
from modelprivacy.targets import QuadraticTarget
from modelprivacy.threat import Server

F_POLY = QuadraticTarget()


def _draws(defense, X, reps, seed=0):
    rng = np.random.default_rng(seed)
    y = np.zeros(X.shape[0])
    return np.array([defense.respond(X, y, rng=rng) for _ in range(reps)])


def test_constant_and_none_are_exact(rng):
    X = rng.uniform(size=(17, 1))
    y = rng.standard_normal(17)
    np.testing.assert_allclose(ConstantShift(0.3).respond(X, y, rng=rng) - y, 0.3)
    np.testing.assert_array_equal(NoDefense().respond(X, y, rng=rng), y)


@pytest.mark.parametrize(
    "defense",
    [LongRangeNoise(0.7, gamma=0.5), LongRangeNoise(0.7, gamma=0.3, sort=True), GaussianProcessNoise(0.7, gamma=2.0)],
)
def test_moments_match_monte_carlo_off_the_defaults(defense):
    """Settings beyond the registry defaults (test_common covers those): analytic moments vs sample moments."""
    X = np.random.default_rng(3).uniform(size=(12, 1))
    E = _draws(defense, X, 40000)
    m = defense.moments(X)
    np.testing.assert_allclose(E.mean(axis=0), m.mean, atol=5 * 0.7 / np.sqrt(40000) * 1.5)
    C = np.cov(E.T, bias=True)
    np.testing.assert_allclose(C, m.cov, atol=0.03)
    # calibrated to U_n = sigma^2
    assert m.expected_utility_loss() == pytest.approx(0.49, rel=1e-12)
    assert np.mean(np.sum(E**2, axis=1) / 12) == pytest.approx(0.49, rel=0.02)


@pytest.mark.parametrize("n", [2, 7, 8, 50])
def test_long_range_autocovariance_matches_the_fft_operator(n):
    """Build irfft as an explicit linear map of the random coefficients and compare covariances."""
    gamma = 0.4
    f = np.fft.rfftfreq(n)
    f[0] = 1 / n
    w = f ** (-(1 - gamma) / 2)
    cols = []
    for k in range(len(w)):
        for part in (1.0, 1j):
            if part == 1j and (k == 0 or (n % 2 == 0 and k == n // 2)):
                continue
            s = np.zeros(len(w), dtype=complex)
            scale = np.sqrt(2) if part == 1.0 and (k == 0 or (n % 2 == 0 and k == n // 2)) else 1.0
            s[k] = part * w[k] * scale
            cols.append(np.fft.irfft(s, n=n))
    A = np.array(cols).T  # xi = A z with z standard normal
    C = A @ A.T
    C /= C[0, 0]
    np.testing.assert_allclose(toeplitz(long_range_autocovariance(n, gamma)), C, atol=1e-12)


def test_long_range_mean_is_not_averaged_out():
    # with gamma = 1/n, Var(mean) decays logarithmically, not like 1/n: a tenfold
    # budget keeps more than half of it (IID noise would keep a tenth)
    v100, v1000 = (toeplitz(long_range_autocovariance(n)).mean() for n in (100, 1000))
    assert v1000 > 0.5 * v100 and v100 > 5 / 100


def test_sorted_variant_lays_series_along_x():
    X = np.array([[0.9], [0.1], [0.5], [0.3]])
    y = np.zeros(4)
    xi = LongRangeNoise(1.0, gamma=0.5).respond(np.sort(X, axis=0), y, rng=np.random.default_rng(0))
    e = LongRangeNoise(1.0, gamma=0.5, sort=True).respond(X, y, rng=np.random.default_rng(0))
    legacy = LongRangeNoise(1.0, gamma=0.5, sort=True, legacy_inverse_perm=True).respond(X, y, rng=np.random.default_rng(0))
    order = np.argsort(X[:, 0])
    np.testing.assert_allclose(e[order], xi)  # k-th smallest x gets xi_k
    np.testing.assert_allclose(legacy, xi[order])  # the authors' inverse permutation
    assert not np.allclose(e, legacy)


def test_single_query_fallback(rng):
    e = _draws(LongRangeNoise(0.5), np.zeros((1, 1)), 20000)
    assert e.std() == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize("sigma", [-0.1, np.nan, np.inf])
def test_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        IIDNoise(sigma).respond(np.zeros((3, 1)), np.zeros(3))


def test_bad_gamma_and_names():
    with pytest.raises(ValueError, match="gamma"):
        LongRangeNoise(0.1, gamma=1.5).respond(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="unknown defense 'dp'"):
        make_defense("dp")
    with pytest.raises(ValueError, match="takes parameters"):
        make_defense("iid", scale=1.0)


def test_shape_mismatch():
    with pytest.raises(ValueError, match="y must have length 3"):
        IIDNoise(0.1).respond(np.zeros((3, 1)), np.zeros(4))


def _sequential_perturbations(defense, xs, rng):
    server = Server(F_POLY, defense, rng=rng)
    return np.array([server.answer(np.array([[x]]))[0] - F_POLY(np.array([[x]]))[0] for x in xs])


def test_random_function_online_law_equals_batch_law():
    """Answering one query at a time (exact conditional draws) gives the batch covariance."""
    xs = np.array([0.1, 0.5, 0.15])
    d = GaussianProcessNoise(0.6, gamma=3.0)
    rng = np.random.default_rng(7)
    E = np.array([_sequential_perturbations(d, xs, rng) for _ in range(1500)])
    # entries have variance 0.36; 0.05 is about four standard errors of a sample covariance
    np.testing.assert_allclose(np.cov(E.T, bias=True), d.moments(xs[:, None]).cov, atol=0.05)


def test_random_function_repeated_query_is_consistent(rng):
    e = _sequential_perturbations(GaussianProcessNoise(0.5), [0.3, 0.7, 0.3, 0.3], rng)
    assert e[0] == pytest.approx(e[2], abs=1e-12) and e[0] == pytest.approx(e[3], abs=1e-12)
    assert abs(e[0] - e[1]) > 1e-6


@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
def test_random_function_correlation_is_the_sklearn_kernel(kernel, rng):
    from sklearn.metrics.pairwise import pairwise_kernels

    X = rng.uniform(size=(7, 2))
    cov = GaussianProcessNoise(1.0, kernel=kernel, gamma=0.7).moments(X).cov
    np.testing.assert_allclose(cov, pairwise_kernels(X, X, metric=kernel, gamma=0.7), rtol=1e-12)


def test_perturbation_model_is_what_an_attacker_knowing_the_form_but_not_sigma_knows():
    X = np.linspace(0.0, 1.0, 9)[:, None]
    m = ConstantShift(0.3).perturbation_model(X)
    np.testing.assert_allclose(np.abs(m.directions[:, 0]), np.full(9, 1 / 3))  # the unit constant direction
    assert m.cov is None
    m = IIDNoise(0.7).perturbation_model(X)
    assert m.directions is None
    np.testing.assert_allclose(m.cov, np.eye(9))                              # unit mean variance, sigma dropped
    m = LongRangeNoise(2.0, gamma=0.4).perturbation_model(X)
    np.testing.assert_allclose(m.cov, toeplitz(long_range_autocovariance(9, 0.4)), atol=1e-12)
    assert NoDefense().perturbation_model(X).cov is None
    with pytest.raises(NotImplementedError):
        MisleadingVariableProjection(0.3, coef=[1.0, 0.0]).perturbation_model(np.ones((4, 2)))
