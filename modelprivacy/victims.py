r"""Classification victims, bundled data and attacker query pools.

A *victim* is a trained scikit-learn classifier (the server's model ``f``)
together with the data of its task: its training split, a test split on which
stealing is scored, a benign validation split on which the defender measures
utility loss (top-1 flip rate, KL), and the attacker's query pools.

Everything is built from data bundled with scikit-learn (no network access)
and is reproducible from one seed.

Tasks
-----
``"digits"``
    :func:`sklearn.datasets.load_digits` scaled to [0, 1] (8x8 images, 10
    classes): the small analogue of MNIST, on which the victims are confident.
``"hard10"``
    A 10-class :func:`sklearn.datasets.make_classification` task with
    overlapping classes and label noise: the victims' outputs are far less
    confident (the CIFAR-10 analogue of Lee et al.).
``"binary"``
    A 2-class :func:`~sklearn.datasets.make_classification` task: the
    analogue of the hate-speech case study of Wang, Yang & Ding.
``"breast_cancer"``
    :func:`sklearn.datasets.load_breast_cancer`, standardised (small: 569 rows).

Query pools
-----------
``"in"``
    Held-out inputs of the task distribution, disjoint from every other
    split (697 images for ``digits``, 11000 points for the synthetic tasks).
``"augmented"`` (``digits`` only)
    The held-out images followed by their four one-pixel translations (3485
    inputs), for budgets beyond 697. The translations are a *mild* shift on
    8x8 images: the logistic victim's mean top probability drops from about
    0.93 to 0.78 on them.
``"out"``
    A shifted, *other-source* pool: pairs of held-out inputs mixed with a
    random weight :math:`\lambda \sim U(0.3, 0.7)` plus Gaussian noise
    (0.1 on pixel scale for images, 0.5 standard deviations otherwise).
    For the binary task the mixed pairs are drawn with class weights
    (0.8, 0.2), mimicking the paper's shifted source (hate_speech_offensive,
    mostly offensive posts). The victim is much less confident on this pool,
    which is where query-dependent defenses such as Misleading Shift bite.

References
----------
G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
Understanding Model Stealing Attacks and Defenses", arXiv:2502.15567.

T. Lee, B. Edwards, I. Molloy and D. Su, "Defending Against Machine Learning
Model Stealing Attacks Using Deceptive Perturbations", arXiv:1806.00054.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from ._fingerprint import canonical_json
from ._param_validation import Interval, StrOptions
from ._validation import check_generator, check_queries
from .base import ParamsMixin

__all__ = [
    "TASKS",
    "MODELS",
    "ClassificationTask",
    "Victim",
    "load_task",
    "make_victim",
]

TASKS = ("digits", "hard10", "binary", "breast_cancer")
MODELS = ("logreg", "mlp")
POOLS = ("in", "augmented", "out")


@dataclass
class ClassificationTask:
    """Splits of one classification task.

    Attributes
    ----------
    name : str
    X_train, y_train : ndarray
        The victim's training data.
    X_test, y_test : ndarray
        Where stealing is scored (agreement with the victim, accuracy, AUC, F1).
    X_benign, y_benign : ndarray
        Benign validation inputs on which the defender measures utility loss
        and calibrates its defenses.
    pools : dict of str -> ndarray
        The attacker's query pools (``"in"`` and ``"out"``), disjoint from
        all other splits.
    n_classes : int
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_benign: np.ndarray
    y_benign: np.ndarray
    pools: dict = field(default_factory=dict)
    n_classes: int = 2

    @property
    def n_features(self):
        return self.X_train.shape[1]

    def __repr__(self):
        sizes = ", ".join(f"{k}={v.shape[0]}" for k, v in self.pools.items())
        return (
            f"ClassificationTask({self.name!r}, K={self.n_classes}, d={self.n_features}, "
            f"train={len(self.y_train)}, test={len(self.y_test)}, "
            f"benign={len(self.y_benign)}, pools[{sizes}])"
        )


def _split(rng, n, sizes):
    """Disjoint random index sets of the given sizes (the rest goes last)."""
    perm = rng.permutation(n)
    out, start = [], 0
    for s in sizes:
        out.append(perm[start : start + s])
        start += s
    out.append(perm[start:])
    return out


def _mixup_pool(rng, X, n, noise, clip=None, class_weights=None, y=None):
    """Other-source pool: random convex pairs of ``X`` plus Gaussian noise."""
    if class_weights is not None:
        # Draw the first member of each pair by class, with the given weights.
        w = np.zeros(len(X))
        for c, wc in enumerate(class_weights):
            mask = y == c
            w[mask] = wc / max(mask.sum(), 1)
        w /= w.sum()
        i = rng.choice(len(X), size=n, p=w)
        j = rng.choice(len(X), size=n, p=w)
    else:
        i = rng.integers(0, len(X), size=n)
        j = rng.integers(0, len(X), size=n)
    lam = rng.uniform(0.3, 0.7, size=(n, 1))
    Z = lam * X[i] + (1.0 - lam) * X[j] + noise * rng.standard_normal((n, X.shape[1]))
    if clip is not None:
        Z = np.clip(Z, *clip)
    return Z


def _shift_images(X, side=8):
    """The four one-pixel translations (zero fill) of flattened square images."""
    imgs = X.reshape(-1, side, side)
    out = []
    for axis, step in ((1, 1), (1, -1), (2, 1), (2, -1)):
        s = np.roll(imgs, step, axis=axis)
        if axis == 1:
            s[:, 0 if step == 1 else -1, :] = 0.0
        else:
            s[:, :, 0 if step == 1 else -1] = 0.0
        out.append(s.reshape(len(X), -1))
    return np.vstack(out)


def _standardise(train, *others):
    mu = train.mean(axis=0)
    sd = train.std(axis=0)
    sd[sd == 0] = 1.0
    return [(a - mu) / sd for a in (train, *others)]


def load_task(name="digits", *, random_state=0):
    """Load a bundled classification task with its splits and query pools.

    Parameters
    ----------
    name : {"digits", "hard10", "binary", "breast_cancer"}
        See the module docstring.
    random_state : None, int or numpy.random.Generator
        Seeds the data generation (synthetic tasks), the splits and the pools.

    Returns
    -------
    ClassificationTask
    """
    if name not in TASKS:
        raise ValueError(f"name must be one of {TASKS}, got {name!r}.")
    rng = check_generator(random_state, "random_state")

    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        tr, te, be, pool = _split(rng, len(y), [500, 300, 300])
        aug = _shift_images(X[pool])
        pools = {
            "in": X[pool],
            "augmented": np.vstack([X[pool], aug[rng.permutation(len(aug))]]),
            "out": _mixup_pool(rng, X[pool], 4000, 0.1, clip=(0.0, 1.0)),
        }
        return ClassificationTask(
            name, X[tr], y[tr], X[te], y[te], X[be], y[be], pools, n_classes=10
        )

    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        tr, te, be, pool = _split(rng, len(y), [200, 150, 100])
        Xtr, Xte, Xbe, Xpool = _standardise(X[tr], X[te], X[be], X[pool])
        pools = {"in": Xpool, "out": _mixup_pool(rng, Xpool, 2000, 0.5, class_weights=(0.2, 0.8),
                                                 y=y[pool])}
        # in breast cancer class 0 (malignant) is the minority; weight it low as
        # the shifted source, so the defended majority class is the benign one
        return ClassificationTask(name, Xtr, y[tr], Xte, y[te], Xbe, y[be], pools, n_classes=2)

    seed = int(rng.integers(0, 2**31 - 1))
    if name == "hard10":
        X, y = make_classification(
            n_samples=20000, n_features=20, n_informative=10, n_redundant=5,
            n_classes=10, n_clusters_per_class=1, class_sep=1.0, flip_y=0.05,
            random_state=seed,
        )
        K, sizes, cw = 10, [4000, 2000, 3000], None
    else:  # binary
        X, y = make_classification(
            n_samples=20000, n_features=20, n_informative=8, n_redundant=4,
            n_classes=2, n_clusters_per_class=2, class_sep=0.8, flip_y=0.05,
            random_state=seed,
        )
        K, sizes, cw = 2, [4000, 2000, 3000], (0.8, 0.2)
    tr, te, be, pool = _split(rng, len(y), sizes)
    Xtr, Xte, Xbe, Xpool = _standardise(X[tr], X[te], X[be], X[pool])
    pools = {
        "in": Xpool,
        "out": _mixup_pool(rng, Xpool, len(pool), 0.5, class_weights=cw, y=y[pool]),
    }
    return ClassificationTask(name, Xtr, y[tr], Xte, y[te], Xbe, y[be], pools, n_classes=K)


class Victim(ParamsMixin, BaseEstimator):
    """A classifier trained on a bundled task: the server of a classification game.

    Parameters
    ----------
    task : str or ClassificationTask
        A task name of :data:`TASKS` (loaded with ``random_state``) or a
        loaded task.
    model : {"logreg", "mlp"}
        ``"logreg"``: multinomial :class:`~sklearn.linear_model.LogisticRegression`
        (its log-probability ratios are affine in x, so the equation-solving
        attack applies); ``"mlp"``: :class:`~sklearn.neural_network.MLPClassifier`.
    random_state : int
        Seeds the data generation, the splits, the pools and the training.
    C : float, optional
        Inverse L2 strength of the logistic regression; default 10 on
        ``digits`` (confident outputs, as MNIST) and 1 elsewhere.
    hidden_layer_sizes : tuple of int
        Architecture of the MLP.

    Attributes
    ----------
    model_ : fitted scikit-learn classifier
    task_ : ClassificationTask

    Notes
    -----
    Training is deterministic given the parameters, so a victim is described
    by its parameters alone: it pickles without its fitted model (cheap to
    send to worker processes) and is trained again, once per process, when
    first used there. ``predict_proba`` always returns an ``(n, K)`` array;
    binary APIs that answer a single probability use :meth:`respond_binary`.
    """

    _parameter_constraints = {
        "task": [StrOptions(set(TASKS)), ClassificationTask],
        "model": [StrOptions(set(MODELS))],
        "random_state": [Interval(Integral, 0, None)],
        "C": [Interval(Real, 0, None, closed="neither"), None],
        "hidden_layer_sizes": [tuple],
    }

    def __init__(self, task="digits", *, model="logreg", random_state=0, C=None, hidden_layer_sizes=(64,)):
        self.task = task
        self.model = model
        self.random_state = random_state
        self.C = C
        self.hidden_layer_sizes = hidden_layer_sizes

    def fit(self):
        """Load the task and train the classifier (reused within a process for equal parameters)."""
        self._validate_params()
        key = canonical_json(self.get_params(deep=False))
        if key not in _CACHE:
            _CACHE[key] = _train(self)
        self.model_, self.task_ = _CACHE[key]
        return self

    def _fitted(self):
        if not hasattr(self, "model_"):
            self.fit()
        return self

    def __getstate__(self):
        # the parameters only: the fitted model is retrained where it is needed
        state = super().__getstate__()
        return {k: v for k, v in state.items() if not k.endswith("_") or k.startswith("_")}

    @property
    def n_classes(self):
        return self._fitted().task_.n_classes

    @property
    def binary(self):
        return self.n_classes == 2

    def predict_proba(self, X):
        """Clean probability vectors ``f(X)``, shape ``(n, K)``."""
        v = self._fitted()
        X = check_queries(X, "X", n_features=v.task_.n_features)
        return v.model_.predict_proba(X)

    def predict(self, X):
        """Top-1 labels of the victim."""
        return np.argmax(self.predict_proba(X), axis=1)

    def respond_binary(self, X):
        """Class-1 probabilities (shape ``(n,)``) of a binary victim."""
        if not self.binary:
            raise ValueError("respond_binary needs a binary victim.")
        return self.predict_proba(X)[:, 1]

    def answers(self, X):
        """What the API answers: class-1 probabilities for a binary victim, probability rows otherwise."""
        P = self.predict_proba(X)
        return P[:, 1] if P.shape[1] == 2 else P

    def accuracy(self):
        """Test accuracy of the victim against the true labels."""
        task = self._fitted().task_
        return float(np.mean(self.predict(task.X_test) == task.y_test))


_CACHE = {}


def _train(victim):
    rng = np.random.default_rng(victim.random_state)
    task = victim.task
    if isinstance(task, str):
        task = load_task(task, random_state=rng)
    seed = int(rng.integers(0, 2**31 - 1))
    C = victim.C if victim.C is not None else (10.0 if task.name == "digits" else 1.0)
    if victim.model == "logreg":
        est = LogisticRegression(C=C, max_iter=2000, tol=1e-6)
    else:
        est = MLPClassifier(
            hidden_layer_sizes=victim.hidden_layer_sizes, alpha=1e-3, max_iter=400,
            early_stopping=False, random_state=seed, tol=1e-5,
        )
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(task.X_train, task.y_train)
    return est, task


def make_victim(task="digits", model="logreg", *, random_state=0, C=None, hidden_layer_sizes=(64,)):
    """A trained :class:`Victim` (``Victim(task, model=model, ...).fit()``)."""
    return Victim(task, model=model, random_state=random_state, C=C,
                  hidden_layer_sizes=tuple(hidden_layer_sizes)).fit()
