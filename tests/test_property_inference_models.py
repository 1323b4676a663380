"""Model families against scikit-learn and finite differences; the sorted white-box form."""

import warnings

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from modelprivacy.property_inference.datasets import SyntheticCredit
from modelprivacy.property_inference.models import (
    LogisticFamily,
    MLPFamily,
    ModelSet,
    family_of,
    fit_family,
    train_model,
    white_box_features,
)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def data():
    return SyntheticCredit(5, separation=1.2).sample(200, 0.3, 0)


def _fd_grad(f, theta, eps=1e-6):
    g = np.zeros_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = eps
        g[j] = (f(theta + e) - f(theta - e)) / (2 * eps)
    return g


def test_logistic_objective_gradient_and_hessian(data, rng):
    X, y = data
    fam = LogisticFamily(X.shape[1], C=0.7)
    theta = rng.standard_normal(fam.n_params) * 0.3
    w = rng.random(X.shape[0]) + 0.5
    f = lambda t: fam.loss_grad(t, X, y, w)[0]
    assert np.allclose(fam.loss_grad(theta, X, y, w)[1], _fd_grad(f, theta), atol=1e-7)
    g = lambda t: fam.loss_grad(t, X, y, w)[1]
    H_fd = np.column_stack([(g(theta + e) - g(theta - e)) / 2e-6 for e in np.eye(fam.n_params) * 1e-6])
    assert np.allclose(fam.hessian(theta, X, y, w), H_fd, atol=1e-6)


def test_logistic_fit_equals_scikit_learn(data):
    X, y = data
    fam = LogisticFamily(X.shape[1], C=0.5)
    theta, _ = fit_family(fam, X, y, tol=1e-12)
    sk = LogisticRegression(C=0.5, tol=1e-12, max_iter=10000).fit(X, y)
    assert np.allclose(theta, LogisticFamily.flatten(sk), atol=1e-6)
    assert np.allclose(train_model(LogisticRegression(C=0.5, tol=1e-12, max_iter=10000), X, y), theta, atol=1e-6)
    est = fam.to_estimator(theta)
    assert np.allclose(est.predict_proba(X)[:, 1], fam.predict_proba(theta, X))


def test_mlp_family_reproduces_scikit_learn(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = MLPClassifier((6, 4), solver="lbfgs", alpha=0.01, max_iter=50, random_state=0).fit(X, y)
    fam = family_of(sk, X.shape[1])
    theta = MLPFamily.flatten(sk)
    assert np.allclose(fam.predict_proba(theta, X), sk.predict_proba(X)[:, 1], atol=1e-12)
    # scikit-learn's lbfgs reports the objective at the returned parameters
    assert fam.loss_grad(theta, X, y)[0] == pytest.approx(sk.loss_, rel=1e-10)
    f = lambda t: fam.loss_grad(t, X, y)[0]
    assert np.allclose(fam.loss_grad(theta, X, y)[1], _fd_grad(f, theta), atol=1e-6)
    back = fam.to_estimator(theta)
    assert np.allclose(back.predict_proba(X), sk.predict_proba(X))


def test_sorted_white_box_form_is_permutation_invariant(data, rng):
    X, _ = data
    fam = MLPFamily(X.shape[1], (5, 3))
    theta = fam.init(rng)
    layers = fam.unpack(theta)
    p1, p2 = rng.permutation(5), rng.permutation(3)
    (W1, b1), (W2, b2), (W3, b3) = layers
    permuted = np.concatenate([W1[:, p1].ravel(), b1[p1], W2[p1][:, p2].ravel(), b2[p2], W3[p2].ravel(), b3])
    assert np.allclose(fam.predict_proba(permuted, X), fam.predict_proba(theta, X))
    f1 = white_box_features(fam, theta)
    f2 = white_box_features(fam, permuted)
    assert np.array_equal(f1, f2)
    assert np.array_equal(np.sort(f1[0]), np.sort(theta))  # a gather of the parameters


def test_family_of_rejects_other_targets():
    with pytest.raises(ValueError, match="LogisticRegression or an MLPClassifier"):
        family_of(RandomForestClassifier(), 3)
    with pytest.raises(ValueError, match="plain L2"):
        family_of(LogisticRegression(l1_ratio=1.0, solver="saga"), 3)


def test_model_set_output_defense_is_fixed_per_model(data):
    X, y = data
    fam = LogisticFamily(X.shape[1])

    class Noise:
        def defend_outputs(self, p, rng):
            return p + rng.standard_normal(p.shape)

    ms = ModelSet(fam, np.zeros((2, fam.n_params)), np.array([0, 1]), np.array([0.2, 0.4]),
                  output_defense=Noise(), output_seeds=np.array([1, 2]))
    a, b = ms.features("black", X[:5]), ms.features("black", X[:5])
    assert np.array_equal(a, b) and not np.array_equal(a[0], a[1])
