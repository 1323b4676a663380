"""Bundled classification tasks, query pools and victims."""

import numpy as np
import pytest

from modelprivacy.victims import TASKS, ClassificationTask, Victim, load_task, make_victim


def _row_set(X):
    return {np.round(r, 10).tobytes() for r in X}


@pytest.mark.parametrize("name", TASKS)
def test_splits_are_disjoint_and_shaped(name):
    t = load_task(name, random_state=0)
    assert isinstance(t, ClassificationTask)
    K = 10 if name in ("digits", "hard10") else 2
    assert t.n_classes == K
    for X, y in ((t.X_train, t.y_train), (t.X_test, t.y_test), (t.X_benign, t.y_benign)):
        assert X.shape[1] == t.n_features and len(X) == len(y)
        assert set(np.unique(y)) <= set(range(K))
    assert set(np.unique(t.y_train)) == set(range(K))
    train, test, benign = _row_set(t.X_train), _row_set(t.X_test), _row_set(t.X_benign)
    pool = _row_set(t.pools["in"])
    assert not (train & test) and not (train & benign) and not (test & benign)
    assert not (pool & (train | test | benign))
    assert {"in", "out"} <= set(t.pools)


def test_seeding_is_reproducible():
    a, b, c = load_task("hard10", random_state=3), load_task("hard10", random_state=3), load_task("hard10", random_state=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.pools["out"], b.pools["out"])
    assert a.X_train.shape == c.X_train.shape and not np.array_equal(a.X_train, c.X_train)
    v1 = make_victim("digits", "mlp", random_state=1)
    v2 = Victim("digits", model="mlp", random_state=1)
    assert v2 == v1 and not hasattr(v2, "model_")  # described by its parameters, trained on first use
    X = v1.task_.X_test
    np.testing.assert_array_equal(v1.predict_proba(X), v2.predict_proba(X))
    import pickle

    back = pickle.loads(pickle.dumps(v1))
    assert not hasattr(back, "model_") and len(pickle.dumps(v1)) < 2000  # parameters only
    np.testing.assert_array_equal(back.predict_proba(X), v1.predict_proba(X))


def test_digits_pixels_and_augmented_pool():
    t = load_task("digits", random_state=0)
    assert t.X_train.min() >= 0 and t.X_train.max() <= 1
    n = len(t.pools["in"])
    aug = t.pools["augmented"]
    assert len(aug) == 5 * n
    np.testing.assert_array_equal(aug[:n], t.pools["in"])
    # every translated image has the pixel mass of an original (minus what fell off the edge)
    assert aug[n:].sum(axis=1).max() <= t.pools["in"].sum(axis=1).max() + 1e-9


@pytest.mark.parametrize("task,model,acc", [("digits", "logreg", 0.9), ("hard10", "logreg", 0.5),
                                            ("binary", "logreg", 0.75), ("breast_cancer", "logreg", 0.9)])
def test_victims_learn_their_task(task, model, acc):
    v = make_victim(task, model, random_state=0)
    assert isinstance(v, Victim)
    assert v.accuracy() > acc
    P = v.predict_proba(v.task_.X_test)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert P.shape == (len(v.task_.y_test), v.n_classes)


def test_confidence_ordering_of_tasks_and_pools():
    d = make_victim("digits", "logreg", random_state=0)
    h = make_victim("hard10", "logreg", random_state=0)
    conf = lambda v, X: v.predict_proba(X).max(axis=1).mean()  # noqa: E731
    # digits is the confident (MNIST-like) victim, hard10 the unconfident (CIFAR-like) one
    assert conf(d, d.task_.X_benign) > 0.85 > 0.65 > conf(h, h.task_.X_benign)
    # the shifted pool is where the victim is less confident
    for v in (d, h):
        assert conf(v, v.task_.pools["out"]) < conf(v, v.task_.pools["in"]) - 0.05


def test_binary_pool_is_shifted_toward_class_zero():
    v = make_victim("binary", "logreg", random_state=0)
    assert np.mean(v.predict(v.task_.pools["out"]) == 0) > 0.6
    assert abs(np.mean(v.predict(v.task_.pools["in"]) == 0) - 0.5) < 0.1
    p = v.respond_binary(v.task_.X_test[:5])
    np.testing.assert_allclose(p, v.predict_proba(v.task_.X_test[:5])[:, 1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="name must be one of"):
        load_task("mnist")
    with pytest.raises(ValueError, match="'model' parameter of Victim"):
        make_victim("digits", "svm")
    with pytest.raises(ValueError, match="'C' parameter of Victim"):
        make_victim("digits", "logreg", C=0.0)
    v = make_victim("hard10", "logreg")
    with pytest.raises(ValueError, match="X must have 20 feature"):
        v.predict_proba(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="binary"):
        v.respond_binary(v.task_.X_test)
