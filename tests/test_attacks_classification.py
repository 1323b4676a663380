"""Classification attackers, checked against independent optima and exact recoveries."""

import numpy as np
import pytest
from scipy import optimize, special

from modelprivacy.attacks.classification import (
    EquationSolvingAttack,
    LabelOnlyAttacker,
    ReverseSigmoidAwareAttacker,
    SoftLabelLogisticRegression,
    SoftmaxMLP,
    equation_solving_queries,
    invert_reverse_sigmoid,
    reverse_sigmoid_branch,
)
from modelprivacy._simplex import as_soft_labels
from modelprivacy.defenses.postprocess import (
    AdaptiveMisinformation,
    GaussianNoise,
    HighConfidence,
    MisleadingShift,
    RandomShuffle,
    ReverseSigmoid,
    Rounding,
    TopLabel,
    reverse_sigmoid_map,
)
from modelprivacy.victims import make_victim


@pytest.fixture(scope="module")
def hard10():
    return make_victim("hard10", "logreg", random_state=0)


@pytest.fixture(scope="module")
def binary():
    return make_victim("binary", "logreg", random_state=0)


def _scipy_soft_ce_optimum(X, P, C, binomial):
    """Independent optimum of C * sum_ik P_ik (-log q_ik) + 0.5 ||W||^2 (intercept unpenalised)."""
    n, d = X.shape
    K = P.shape[1]
    m = 1 if binomial else K

    def obj(theta):
        W, b = theta[: m * d].reshape(m, d), theta[m * d:]
        Z = X @ W.T + b
        if binomial:
            Z = np.column_stack([np.zeros(n), Z])
        logq = special.log_softmax(Z, axis=1)
        return C * -np.sum(P * logq) + 0.5 * np.sum(W**2)

    res = optimize.minimize(obj, np.zeros(m * (d + 1)), method="BFGS", options={"gtol": 1e-10, "maxiter": 10000})
    W, b = res.x[: m * d].reshape(m, d), res.x[m * d:]
    Z = X @ W.T + b
    if binomial:
        Z = np.column_stack([np.zeros(n), Z])
    return special.softmax(Z, axis=1), W


@pytest.mark.parametrize("K", [2, 4])
@pytest.mark.parametrize("solver", ["repeat", "lbfgs"])
def test_soft_label_trick_equals_scipy_soft_cross_entropy(K, solver):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    P = rng.dirichlet(np.ones(K), size=60)
    C = 0.7
    ref_proba, ref_W = _scipy_soft_ce_optimum(X, P, C, binomial=(K == 2))
    est = SoftLabelLogisticRegression(C=C, tol=1e-10, max_iter=10000, solver=solver).fit(X, P)
    np.testing.assert_allclose(est.predict_proba(X), ref_proba, atol=1e-5)
    np.testing.assert_allclose(est.coef_, ref_W, atol=1e-4)
    if K == 2:  # binary 1-D answers are the same problem
        est1 = SoftLabelLogisticRegression(C=C, tol=1e-10, max_iter=10000, solver=solver).fit(X, P[:, 1])
        np.testing.assert_allclose(est1.predict_proba(X), ref_proba, atol=1e-5)


def test_softmax_mlp_gradient_and_seeding():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, 4))
    P = rng.dirichlet(np.ones(3), size=25)
    m = SoftmaxMLP(hidden=5, alpha=0.1)
    theta = m._init(4, 3, rng)
    f = lambda t: m._loss_grad(t, X, P)[0]  # noqa: E731
    g = m._loss_grad(theta, X, P)[1]
    num = optimize.approx_fprime(theta, f, 1e-7)
    np.testing.assert_allclose(g, num, atol=1e-5)
    a = SoftmaxMLP(hidden=8, random_state=3, max_iter=50).fit(X, P)
    b = SoftmaxMLP(hidden=8, random_state=3, max_iter=50).fit(X, P)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # trained on soft labels it beats the uniform predictor's cross-entropy
    assert a.loss_ < np.mean(-np.sum(P * np.log(np.full_like(P, 1 / 3)), axis=1))


def test_label_only_ignores_probability_values():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 3))
    P = rng.dirichlet(np.ones(4), size=80)
    onehot = np.eye(4)[P.argmax(axis=1)]
    a = LabelOnlyAttacker().fit(X, P)
    b = SoftLabelLogisticRegression().fit(X, onehot)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-12)
    # a class never observed is kept (zero weight), so predict_proba still has K columns
    P2 = P.copy()
    P2[:, 3] = 0
    P2 /= P2.sum(axis=1, keepdims=True)
    assert LabelOnlyAttacker().fit(X, P2).predict_proba(X).shape == (80, 4)


def test_equation_solving_recovers_undefended_logistic_regression(hard10, binary):
    for victim in (hard10, binary):
        d = victim.task_.n_features
        X = equation_solving_queries(d, random_state=5)
        assert X.shape == (d + 1, d)
        P = victim.predict_proba(X)
        att = EquationSolvingAttack().fit(X, P[:, 1] if victim.binary else P)
        W = victim.model_.coef_
        b = victim.model_.intercept_
        if victim.binary:
            W_rel, b_rel = np.vstack([np.zeros_like(W), W]), np.concatenate([[0.0], b])
        else:
            W_rel, b_rel = W - W[0], b - b[0]
        np.testing.assert_allclose(att.coef_, W_rel, atol=1e-8)
        np.testing.assert_allclose(att.intercept_, b_rel, atol=1e-8)
        Xt = victim.task_.X_test
        assert np.max(np.abs(att.predict_proba(Xt) - victim.predict_proba(Xt))) < 1e-8


@pytest.mark.parametrize("defense", [
    MisleadingShift(1.0), ReverseSigmoid(0.1, gamma=0.2), ReverseSigmoid(1.0, gamma=0.1), AdaptiveMisinformation(0.6),
    RandomShuffle(0.2), GaussianNoise(1e-3), Rounding(3), TopLabel(), HighConfidence(0.25),
], ids=repr)
def test_equation_solving_fails_under_each_defense(defense, hard10):
    d = hard10.task_.n_features
    X = equation_solving_queries(d, random_state=6)
    att = EquationSolvingAttack().fit(X, defense(hard10.predict_proba(X), rng=0))
    Xt = hard10.task_.X_test
    assert np.max(np.abs(att.predict_proba(Xt) - hard10.predict_proba(Xt))) > 1e-2


def test_equation_solving_recovers_the_shifted_model_under_misleading_shift(hard10):
    """Misleading Shift is log-affine: the slopes are exact, the intercept of c* moves by p."""
    d = hard10.task_.n_features
    X = equation_solving_queries(d, random_state=7)
    P = hard10.predict_proba(X)
    ms = MisleadingShift(1.7)
    c = ms.majority_class(P)
    att = EquationSolvingAttack().fit(X, ms(P))
    W, b = hard10.model_.coef_, hard10.model_.intercept_
    np.testing.assert_allclose(att.coef_, W - W[0], atol=1e-8)
    shift = 1.7 * ((np.arange(10) == c).astype(float) - float(c == 0))
    np.testing.assert_allclose(att.intercept_, b - b[0] + shift, atol=1e-8)


def test_equation_solving_needs_d_plus_one_answers(hard10):
    X = equation_solving_queries(20, 10, random_state=0)
    with pytest.raises(ValueError, match="d \\+ 1 = 21"):
        EquationSolvingAttack().fit(X, hard10.predict_proba(X))


# ----- ReverseSigmoid-aware inversion --------------------------------------------------
@pytest.mark.parametrize("beta,gamma", [(1.0, 0.1), (0.3, 0.2), (0.5, 0.5), (0.2, 1.0)])
def test_inversion_is_exact_on_the_monotone_branch(beta, gamma):
    t_lo, t_hi = reverse_sigmoid_branch(beta, gamma)
    y_lo, y_hi = special.expit(t_lo), special.expit(t_hi)
    # brute force: the map increases on [y_lo, y_hi] and not just outside it
    y = np.linspace(y_lo, y_hi, 20001)
    assert np.all(np.diff(reverse_sigmoid_map(y, beta, gamma)) > 0)
    if y_lo > 1e-8:
        assert reverse_sigmoid_map(y_lo * 0.5, beta, gamma) > reverse_sigmoid_map(y_lo, beta, gamma)
    P = np.random.default_rng(8).dirichlet(np.full(5, 4.0), size=400)
    P = P[np.all((P > y_lo) & (P < y_hi), axis=1)]
    assert len(P) > 50
    Y = invert_reverse_sigmoid(ReverseSigmoid(beta, gamma=gamma)(P), beta, gamma, low_classes="branch")
    np.testing.assert_allclose(Y, P, atol=1e-8)


def test_small_prior_recovers_confident_rows():
    beta, gamma = 1.0, 0.1
    y_lo = special.expit(reverse_sigmoid_branch(beta, gamma)[0])
    rng = np.random.default_rng(9)
    # small classes below y* (many-to-one region), top class on the branch (below 1 - y*)
    rest = rng.dirichlet(np.full(9, 5.0), size=300) * rng.uniform(1.5 * y_lo, 6 * y_lo, size=(300, 1))
    P = np.column_stack([1 - rest.sum(axis=1), rest])
    P = P[np.all(P[:, 1:] < y_lo, axis=1)]
    assert len(P) > 50 and np.all(P[:, 0] < 1 - y_lo)
    Ph = ReverseSigmoid(beta, gamma=gamma)(P)
    Y = invert_reverse_sigmoid(Ph, beta, gamma, low_classes="small")
    # f is many-to-one: these answers have several exact preimages that respect the prior.
    # The inversion must return one of them (re-applying the defense gives the answers
    # back), respecting the prior, and the most confident one (top at least the truth's).
    np.testing.assert_allclose(ReverseSigmoid(beta, gamma=gamma)(Y), Ph, atol=1e-9)
    assert np.all(Y[:, 1:] <= y_lo + 1e-9)
    # (two nearly equal roots can fall in one grid cell: allow 1% of rows to miss the largest)
    assert np.mean(Y[:, 0] >= P[:, 0] - 1e-9) >= 0.99
    assert np.mean(np.abs(Y - P).sum(axis=1)) < 0.1
    # the branch-only inversion clamps the small classes at y*: it cannot explain the answers
    Yb = invert_reverse_sigmoid(Ph, beta, gamma, low_classes="branch")
    assert np.all(Yb[:, 1:] >= y_lo - 1e-9)
    assert np.max(np.abs(ReverseSigmoid(beta, gamma=gamma)(Yb) - Ph)) > 1e-2


def test_no_monotone_branch_is_an_error():
    with pytest.raises(ValueError, match="no monotone branch"):
        reverse_sigmoid_branch(1.0, 1.0)


def test_aware_attacker_beats_naive_soft_labels_on_reverse_sigmoid():
    victim = make_victim("digits", "logreg", random_state=0)
    X = victim.task_.pools["in"][:128]
    P_hat = ReverseSigmoid(1.0, gamma=0.1)(victim.predict_proba(X))
    Xt, ct = victim.task_.X_test, victim.predict(victim.task_.X_test)
    naive = SoftLabelLogisticRegression(C=10, solver="lbfgs", tol=1e-4).fit(X, P_hat)
    aware = ReverseSigmoidAwareAttacker(1.0, gamma=0.1, estimator=SoftLabelLogisticRegression(C=10, solver="lbfgs", tol=1e-4))
    aware.fit(X, P_hat)
    assert np.mean(aware.predict(Xt) == ct) > np.mean(naive.predict(Xt) == ct) + 0.03


def test_attacker_input_validation():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="P must contain probabilities"):
        SoftLabelLogisticRegression().fit(X, np.array([[0.5, 0.5], [1.5, -0.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="P must have 3 rows"):
        SoftLabelLogisticRegression().fit(X, np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="'C' parameter of SoftLabelLogisticRegression"):
        SoftLabelLogisticRegression(C=0).fit(X, np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="beta"):
        invert_reverse_sigmoid(np.full((3, 2), 0.5), 0.0, 0.1)
    # rows that do not sum to one (high-confidence cutoff) are renormalised; zero rows -> uniform
    np.testing.assert_allclose(as_soft_labels(np.array([[0.0, 0.0], [0.3, 0.0]])), [[0.5, 0.5], [1.0, 0.0]])
