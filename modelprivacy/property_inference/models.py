r"""Targets, shadow models and their features.

A trained model is handled as a flat parameter vector :math:`\theta` of a
*model family* that knows the objective, the predictions and the features:

* :class:`LogisticFamily`: L2-regularised logistic regression with an
  unpenalised intercept, :math:`\theta = (w, b)`, and exactly the objective of
  :class:`sklearn.linear_model.LogisticRegression` (``solver="lbfgs"``),

  .. math::

      F(\theta) = \frac{1}{S}\sum_i s_i\,\ell(y_i, x_i^\top w + b)
                 + \frac{\|w\|^2}{2\,S\,C},\qquad S = \sum_i s_i,

  with :math:`\ell(y, z) = \log(1 + e^{z}) - y z`. Its gradient and Hessian
  (:math:`\nabla^2 F = \tilde X^\top \operatorname{diag}(s\,p(1-p)) \tilde X / S
  + \operatorname{diag}(1/(SC), \dots, 1/(SC), 0)`, :math:`\tilde X = [X, 1]`)
  are what the Newton / influence step of :mod:`.approximate` needs.
* :class:`MLPFamily`: the fully connected network of
  :class:`sklearn.neural_network.MLPClassifier` for a binary label (hidden
  activation ``relu``/``tanh``/``logistic``/``identity``, one logistic output
  unit) with sklearn's objective
  :math:`\frac1n\sum_i \ell_i + \frac{\alpha}{2n}\sum_l \|W_l\|_F^2`.

Features of a model for the meta-classifier (Ateniese et al.; Ganju et al.):

* white-box: the parameters themselves; for a logistic regression
  :math:`(w, b)`; for an MLP the *permutation-invariant sorted form* of Ganju
  et al.: the units of each hidden layer are sorted by the norm of their
  incoming weights and bias, the next layer's incoming weights permuted
  with them, and everything flattened. Two networks that differ only by a
  relabelling of hidden units have the same features. The features are a
  gather :math:`\phi = \theta[\iota(\theta)]` of the parameters (the
  permutation :math:`\iota` is constant where the sort order is), so their
  gradient is a scatter.
* black-box: the class-1 probabilities on a fixed query set
  :math:`Q`, :math:`\phi = f_\theta(Q)` (Zhang, Tople and Ohrimenko).

References
----------
* [1] G. Ateniese et al., "Hacking Smart Machines with Smarter Ones",
  IJSN 2015.
* [2] K. Ganju, Q. Wang, W. Yang, C. A. Gunter and N. Borisov, "Property
  Inference Attacks on Fully Connected Neural Networks using Permutation
  Invariant Representations", CCS 2018.
* [3] W. Zhang, S. Tople and O. Ohrimenko, "Leakage of Dataset Properties
  in Multi-Party Machine Learning", USENIX Security 2021.
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np
from scipy import optimize
from scipy.special import expit
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelBinarizer

from .._param_validation import HasMethods, Interval, StrOptions, validate_params
from .._validation import (check_binary, check_generator, check_indices, check_matrix, check_option, check_queries,
                           check_vector)
from ..base import ParamsMixin

__all__ = [
    "LogisticFamily",
    "MLPFamily",
    "family_of",
    "ModelSet",
    "IndexedSets",
    "train_model",
    "train_models",
    "fit_family",
    "white_box_features",
    "black_box_features",
]


# --------------------------------------------------------------------------------------
# logistic regression
# --------------------------------------------------------------------------------------
class LogisticFamily(ParamsMixin, BaseEstimator):
    """L2 logistic regression as a flat parameter vector ``theta = (w, b)``.

    Parameters
    ----------
    n_features : int >= 1
    C : float > 0, default=1.0
        Inverse regularisation strength, as in scikit-learn.
    """

    kind = "logistic"
    _parameter_constraints = {"n_features": [Interval(Integral, 1, None)],
                              "C": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, n_features, C=1.0):
        self.n_features = n_features
        self.C = C

    @property
    def n_params(self):
        return self.n_features + 1

    # ----- predictions --------------------------------------------------------------
    def decision(self, theta, X):
        return X @ theta[:-1] + theta[-1]

    def predict_proba(self, theta, X):
        """Class-1 probabilities (a ``(n,)`` array)."""
        return expit(self.decision(theta, X))

    def predict_proba_many(self, thetas, X):
        """Class-1 probabilities of many models at once, shape ``(k, n)``."""
        return expit(thetas[:, :-1] @ X.T + thetas[:, -1:])

    # ----- objective ----------------------------------------------------------------
    def loss_grad(self, theta, X, y, sample_weight=None):
        r"""Objective :math:`F(\theta)` and its gradient."""
        s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        S = s.sum()
        z = self.decision(theta, X)
        p = expit(z)
        f = (s @ (np.logaddexp(0.0, z) - y * z)) / S
        w = theta[:-1]
        f += (w @ w) / (2.0 * S * self.C)
        r = s * (p - y) / S
        g = np.empty_like(theta)
        g[:-1] = X.T @ r + w / (S * self.C)
        g[-1] = r.sum()
        return f, g

    def hessian(self, theta, X, y=None, sample_weight=None):
        r"""Hessian :math:`\tilde X^\top \operatorname{diag}(s\,p(1-p))\tilde X/S + \operatorname{diag}(1/(SC), 0)`."""
        s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        S = s.sum()
        p = self.predict_proba(theta, X)
        v = s * p * (1.0 - p) / S
        Xt = np.column_stack([X, np.ones(X.shape[0])])
        H = (Xt * v[:, None]).T @ Xt
        H[np.arange(self.n_features), np.arange(self.n_features)] += 1.0 / (S * self.C)
        return H

    def logit_vjp(self, theta, X, dz):
        r"""Gradient of :math:`\sum_i dz_i\,z_i(\theta)`, :math:`z = Xw + b`: :math:`(X^\top dz, \sum dz)`."""
        return np.concatenate([X.T @ dz, [dz.sum()]])

    def init(self, rng=None):
        return np.zeros(self.n_params)

    # ----- features -----------------------------------------------------------------
    def white_index(self, theta):
        return np.arange(self.n_params)

    # ----- conversion ---------------------------------------------------------------
    def to_estimator(self, theta):
        """A fitted :class:`~sklearn.linear_model.LogisticRegression` with these parameters."""
        est = LogisticRegression(C=self.C)
        est.coef_ = theta[None, :-1].copy()
        est.intercept_ = theta[-1:].copy()
        est.classes_ = np.array([0, 1])
        est.n_features_in_ = self.n_features
        est.n_iter_ = np.array([0])
        return est

    @staticmethod
    def flatten(est):
        return np.concatenate([np.ravel(est.coef_), np.ravel(est.intercept_)]).astype(float)


# --------------------------------------------------------------------------------------
# multi-layer perceptron
# --------------------------------------------------------------------------------------
_ACT = {
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(float)),
    "tanh": (np.tanh, lambda a, h: 1.0 - h * h),
    "logistic": (expit, lambda a, h: h * (1.0 - h)),
    "identity": (lambda a: a, lambda a, h: np.ones_like(a)),
}


class MLPFamily(ParamsMixin, BaseEstimator):
    """The binary :class:`~sklearn.neural_network.MLPClassifier` as a flat parameter vector.

    Layout: for each layer ``l`` the weights ``W_l`` (``fan_in x fan_out``,
    row-major) followed by the biases ``b_l``.

    Parameters
    ----------
    n_features : int >= 1
    hidden_layer_sizes : tuple of int, default=(16,)
    alpha : float >= 0, default=1e-4
        L2 strength of scikit-learn (``alpha / (2 n) * sum ||W||^2``).
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
    """

    kind = "mlp"
    _parameter_constraints = {"n_features": [Interval(Integral, 1, None)], "hidden_layer_sizes": [tuple, list],
                              "alpha": [Interval(Real, 0, None)],
                              "activation": [StrOptions({"relu", "tanh", "logistic", "identity"})]}

    def __init__(self, n_features, hidden_layer_sizes=(16,), alpha=1e-4, activation="relu"):
        self.n_features = n_features
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.activation = activation

    def _validate_params(self):
        super()._validate_params()
        if not all(Interval(Integral, 1, None).is_satisfied_by(h) for h in self.hidden_layer_sizes):
            raise ValueError(f"hidden_layer_sizes must hold ints >= 1 (units per hidden layer), "
                             f"got {self.hidden_layer_sizes!r}.")

    @functools.cached_property
    def _layout(self):
        """(shapes, slices, n_params) of the flat layout, computed once (the parameters are not changed)."""
        self._validate_params()
        sizes = (int(self.n_features),) + tuple(int(h) for h in self.hidden_layer_sizes) + (1,)
        shapes = list(zip(sizes[:-1], sizes[1:]))
        slices = []
        o = 0
        for fi, fo in shapes:
            slices.append((slice(o, o + fi * fo), slice(o + fi * fo, o + fi * fo + fo)))
            o += fi * fo + fo
        return shapes, slices, o

    @property
    def _shapes(self):
        return self._layout[0]

    @property
    def _slices(self):
        return self._layout[1]

    @property
    def _n(self):
        return self._layout[2]

    @property
    def n_params(self):
        return self._n

    def unpack(self, theta):
        return [(theta[sw].reshape(fi, fo), theta[sb]) for (fi, fo), (sw, sb) in zip(self._shapes, self._slices)]

    # ----- predictions --------------------------------------------------------------
    def _forward(self, theta, X):
        act, _ = _ACT[self.activation]
        layers = self.unpack(theta)
        pre, post = [], [X]
        h = X
        for W, b in layers[:-1]:
            a = h @ W + b
            h = act(a)
            pre.append(a)
            post.append(h)
        W, b = layers[-1]
        z = (h @ W + b)[:, 0]
        return layers, pre, post, z

    def decision(self, theta, X):
        return self._forward(theta, X)[3]

    def predict_proba(self, theta, X):
        return expit(self.decision(theta, X))

    def predict_proba_many(self, thetas, X):
        return np.vstack([self.predict_proba(t, X) for t in thetas])

    def _backward(self, layers, pre, post, dz):
        """Gradient of ``sum_i dz_i z_i`` with respect to the flat parameters."""
        _, dact = _ACT[self.activation]
        g = np.empty(self._n)
        delta = dz[:, None]
        for l in range(len(layers) - 1, -1, -1):
            W, _ = layers[l]
            sw, sb = self._slices[l]
            g[sw] = (post[l].T @ delta).ravel()
            g[sb] = delta.sum(axis=0)
            if l:
                delta = (delta @ W.T) * dact(pre[l - 1], post[l])
        return g

    def logit_vjp(self, theta, X, dz):
        layers, pre, post, _ = self._forward(theta, X)
        return self._backward(layers, pre, post, dz)

    # ----- objective ----------------------------------------------------------------
    def loss_grad(self, theta, X, y, sample_weight=None):
        r"""scikit-learn's objective :math:`\frac{1}{S}\sum s_i\ell_i + \frac{\alpha}{2S}\sum\|W_l\|^2` and gradient."""
        s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        S = s.sum()
        layers, pre, post, z = self._forward(theta, X)
        f = (s @ (np.logaddexp(0.0, z) - y * z)) / S
        g = self._backward(layers, pre, post, s * (expit(z) - y) / S)
        for (W, _), (sw, _) in zip(layers, self._slices):
            f += 0.5 * self.alpha * np.sum(W * W) / S
            g[sw] += self.alpha * W.ravel() / S
        return f, g

    def init(self, rng):
        """Glorot-uniform weights and biases, as scikit-learn initialises them."""
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        theta = np.empty(self._n)
        factor = 2.0 if self.activation == "logistic" else 6.0
        for (fi, fo), (sw, sb) in zip(self._shapes, self._slices):
            bound = np.sqrt(factor / (fi + fo))
            theta[sw] = rng.uniform(-bound, bound, fi * fo)
            theta[sb] = rng.uniform(-bound, bound, fo)
        return theta

    # ----- features -----------------------------------------------------------------
    def white_index(self, theta):
        """Gather index of the sorted (permutation-invariant) form of Ganju et al.

        Hidden units of each layer are ordered by the Euclidean norm of their
        incoming weights and bias (ties broken by position); the rows of the
        next layer's weights follow their unit. Returns ``idx`` with
        ``features = theta[idx]``.
        """
        idx = np.arange(self._n)
        perm_in = None  # permutation applied to the rows (inputs) of the current layer
        out = []
        for l, ((fi, fo), (sw, sb)) in enumerate(zip(self._shapes, self._slices)):
            Widx = idx[sw].reshape(fi, fo)
            bidx = idx[sb]
            if perm_in is not None:
                Widx = Widx[perm_in, :]
            if l < len(self._shapes) - 1:
                Wv = theta[Widx]
                key = np.sqrt(np.sum(Wv * Wv, axis=0) + theta[bidx] ** 2)
                perm = np.argsort(key, kind="stable")
                Widx = Widx[:, perm]
                bidx = bidx[perm]
                perm_in = perm
            out.append(Widx.ravel())
            out.append(bidx)
        return np.concatenate(out)

    # ----- conversion ---------------------------------------------------------------
    def to_estimator(self, theta):
        """A fitted :class:`~sklearn.neural_network.MLPClassifier` with these parameters."""
        est = MLPClassifier(hidden_layer_sizes=tuple(self.hidden_layer_sizes), alpha=self.alpha,
                            activation=self.activation)
        layers = self.unpack(theta)
        est.coefs_ = [W.copy() for W, _ in layers]
        est.intercepts_ = [b.copy() for _, b in layers]
        est.n_layers_ = len(layers) + 1
        est.n_outputs_ = 1
        est.out_activation_ = "logistic"
        est.classes_ = np.array([0, 1])
        est.n_features_in_ = self.n_features

        est._label_binarizer = LabelBinarizer().fit([0, 1])
        return est

    @staticmethod
    def flatten(est):
        return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in zip(est.coefs_, est.intercepts_)])


@validate_params({"estimator": [HasMethods(["fit"])], "n_features": [Interval(Integral, 1, None)]})
def family_of(estimator, n_features):
    """The family of a scikit-learn target: LogisticRegression (L2) or a binary MLPClassifier.

    Raises
    ------
    ValueError
        For any other estimator, or a logistic regression that is not plain
        L2 with an intercept.
    """
    if isinstance(estimator, LogisticRegression):
        p = estimator.get_params()
        if p.get("l1_ratio") not in (None, 0, 0.0) or p.get("penalty") not in ("deprecated", "l2", None) \
                or not p.get("fit_intercept", True) or p.get("class_weight") is not None:
            raise ValueError("estimator: the LogisticRegression target must be plain L2 with an intercept and no "
                             f"class weights (penalty='l2', l1_ratio=0, fit_intercept=True); got {estimator!r}.")
        return LogisticFamily(int(n_features), C=float(p["C"]))
    if isinstance(estimator, MLPClassifier):
        p = estimator.get_params()
        h = p["hidden_layer_sizes"]
        h = (int(h),) if np.isscalar(h) else tuple(int(v) for v in h)
        return MLPFamily(int(n_features), h, alpha=float(p["alpha"]), activation=p["activation"])
    raise ValueError("estimator: the target must be a LogisticRegression or an MLPClassifier, got "
                     f"{type(estimator).__name__}.")


# --------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------
@validate_params({"estimator": [HasMethods(["fit"])], "X": ["array-like"], "y": ["array-like"],
                  "random_state": ["random_state"]})
def train_model(estimator, X, y, random_state=None):
    """Fit a clone of a scikit-learn target and return its flat parameters.

    MLP convergence warnings are silenced: a fixed number of epochs is part
    of the training recipe, the same for shadows and targets.

    Raises
    ------
    ValueError, TypeError
        For an estimator that is not a plain L2 ``LogisticRegression`` or an
        ``MLPClassifier`` (:func:`family_of`), features that are not a finite
        non-empty 2-D array, or labels that are not 0/1 of the same length.
    """
    n, d = check_queries(X, "X").shape
    if np.ndim(X) != 2:
        raise ValueError(f"X must be 2-D (n, d), got shape {np.shape(X)}.")
    check_binary(y, "y", n=n)
    family_of(estimator, d)
    est = clone(estimator)
    if "random_state" in est.get_params():
        seed = None if random_state is None else int(np.random.default_rng(random_state).integers(2**31 - 1))
        est.set_params(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    if isinstance(est, LogisticRegression):
        return LogisticFamily.flatten(est)
    return MLPFamily.flatten(est)


def _fit_family(family, X, y, *, theta0=None, penalty=None, sample_weight=None, tol=1e-8, max_iter=2000,
               rng=None):
    r"""Minimise :math:`F(\theta) + P(\theta)` with scipy's L-BFGS-B.

    Parameters
    ----------
    family : LogisticFamily or MLPFamily
    penalty : callable ``theta -> (value, gradient)``, optional
        An extra differentiable term (the arms race's attacker penalty).
    theta0 : ndarray, optional
        Starting point (warm start); default: zeros for a logistic
        regression, a Glorot draw from ``rng`` for an MLP.

    Returns
    -------
    theta : ndarray
    n_evaluations : int
        Objective and gradient evaluations used.
    """
    if theta0 is None:
        theta0 = family.init(np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng)

    def fun(theta):
        f, g = family.loss_grad(theta, X, y, sample_weight)
        if penalty is not None:
            pf, pg = penalty(theta)
            f, g = f + pf, g + pg
        return f, g

    res = optimize.minimize(fun, theta0, jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-14, "maxcor": 20})
    return res.x, int(res.nfev)


@validate_params({"estimator": [HasMethods(["fit"])], "sampler": [HasMethods(["sample"])],
                  "n_train": [Interval(Integral, 1, None)], "values": ["array-like"], "random_state": ["random_state"]})
def train_models(estimator, sampler, n_train, values, random_state=None):
    """Train one target per property value (exact training with scikit-learn).

    Parameters
    ----------
    estimator : LogisticRegression or MLPClassifier
    sampler : object with ``sample_indices(n, value, rng)`` (a
        :class:`~.datasets.PropertySampler`) or ``sample(n, value, rng)``
        (a :class:`~.datasets.SyntheticCredit`)
    n_train : int
    values : sequence of property values
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    thetas : ndarray of shape (k, p)
    indices : list of index arrays (None for a synthetic population)
    data : list of (X, y)
    seconds : float
        Training time only.
    """
    vals = np.asarray(values, dtype=float)
    if vals.ndim != 1 or np.any((vals < 0) | (vals > 1)):
        raise ValueError(f"values must be a 1-D sequence of property values in [0, 1], got {values!r}.")
    rng = check_generator(random_state)
    thetas, indices, data = [], [], []
    seconds = 0.0
    for v in values:
        X, y, idx = _draw(sampler, n_train, v, rng)
        t0 = time.perf_counter()
        thetas.append(train_model(estimator, X, y, rng))
        seconds += time.perf_counter() - t0
        indices.append(idx)
        data.append((X, y))
    return np.array(thetas), indices, data, seconds


def _draw(sampler, n, value, rng, exclude=None):
    """``(X, y, idx)`` from a pool sampler, or ``(X, y, None)`` from a synthetic population."""
    if hasattr(sampler, "sample_indices"):
        idx = sampler._sample_indices(n, value, rng, exclude)
        return sampler.data.X[idx], sampler.data.y[idx], idx
    X, y = sampler.sample(n, value, rng)
    return X, y, None


# --------------------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------------------
@validate_params({"family": [LogisticFamily, MLPFamily], "thetas": ["array-like"]})
def white_box_features(family, thetas):
    """White-box features (parameters; sorted form for an MLP), shape ``(k, p)``."""
    return _white(family, _check_thetas(family, thetas))


def _check_family(family, name="family"):
    """A logistic-regression or MLP family with valid parameters."""
    if not isinstance(family, (LogisticFamily, MLPFamily)):
        raise TypeError(f"{name} must be a LogisticFamily or an MLPFamily, got {type(family).__name__}.")
    family._validate_params()
    return family


def _check_thetas(family, thetas, name="thetas"):
    """Parameters of ``family``: one vector (p,) or a matrix (k, p), as a finite (k, p) array."""
    _check_family(family)
    arr = np.asarray(thetas) if not isinstance(thetas, np.ndarray) else thetas
    arr = check_matrix(np.atleast_2d(arr), name) if arr.ndim <= 2 else check_matrix(arr, name)
    if arr.shape[1] != family.n_params:
        raise ValueError(f"{name} must have {family.n_params} parameters per model (the family's), "
                         f"got {arr.shape[1]}.")
    return arr


def _white(family, thetas):
    if isinstance(family, LogisticFamily):
        return thetas.copy()
    return np.vstack([t[family.white_index(t)] for t in thetas])


@validate_params({"family": [LogisticFamily, MLPFamily], "thetas": ["array-like"], "queries": ["array-like"]})
def black_box_features(family, thetas, queries):
    """Black-box features: class-1 probabilities on the query set, shape ``(k, n_queries)``."""
    thetas = _check_thetas(family, thetas)
    return family.predict_proba_many(thetas, check_queries(queries, "queries", n_features=family.n_features))


def _check_training_set(family, X, y, name="X", y_name="y"):
    """``(X, y)`` of a family's objective: ``X`` (n, n_features) finite, ``y`` labels in [0, 1]."""
    X = check_queries(X, name, n_features=family.n_features)
    y = check_vector(y, y_name, n=X.shape[0])
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"{y_name} must hold labels in [0, 1].")
    return X, y


def _check_weights(sample_weight, n, name="sample_weight"):
    """Non-negative sample weights (n,) with a positive sum."""
    sw = check_vector(sample_weight, name, n=n)
    if np.any(sw < 0) or not sw.sum() > 0:
        raise ValueError(f"{name} must be non-negative with a positive sum.")
    return sw


class IndexedSets:
    """Training sets stored as row indices into one pool: ``sets[i] -> (X[idx_i], y[idx_i])``.

    Keeps a picklable arms-race state small (the pool once, not a copy of
    every training set).
    """

    def __init__(self, X, y, indices):
        n = check_matrix(X, "X").shape[0]
        check_vector(y, "y", n=n)
        if isinstance(indices, (str, bytes)) or not hasattr(indices, "__iter__"):
            raise TypeError(f"indices must be a sequence of row-index arrays, got {indices!r}.")
        self.X = X
        self.y = y
        self.indices = [check_indices(i, f"indices[{j}]", n=n) for j, i in enumerate(indices)]

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        idx = self.indices[i]
        return self.X[idx], self.y[idx]

    def __iter__(self):
        return (self[i] for i in range(len(self)))


@dataclass(eq=False)
class ModelSet:
    """Released models of one population (shadows or targets) with their property labels.

    Attributes
    ----------
    family : LogisticFamily or MLPFamily
    thetas : ndarray of shape (k, p)
    labels : ndarray of shape (k,)
        Property class (bin or world) of each model.
    values : ndarray of shape (k,)
        Exact property value of each training set.
    data : list of (X, y) or IndexedSets, optional
        Each model's training set (what a defense that retrains needs).
    output_defense : object, optional
        A defense whose ``defend_outputs`` perturbs black-box answers.
    output_seeds : ndarray of int, optional
        One seed per model for the output perturbation (fixed per model and
        query set: repeating a query returns the same answer).
    """

    family: object
    thetas: np.ndarray
    labels: np.ndarray
    values: np.ndarray
    data: list = field(default_factory=list)
    output_defense: object = None
    output_seeds: np.ndarray = None

    def __post_init__(self):
        # validation only: the arrays are kept as given
        _check_family(self.family)
        thetas = np.asarray(self.thetas) if not isinstance(self.thetas, np.ndarray) else self.thetas
        if thetas.ndim != 2 or thetas.shape[1] != self.family.n_params:
            raise ValueError(f"thetas must have shape (k, {self.family.n_params}) (one parameter vector per model), "
                             f"got {thetas.shape}.")
        k = thetas.shape[0]
        if k:
            check_matrix(thetas, "thetas")
        labels = check_vector(self.labels, "labels")
        if np.any(labels < 0) or np.any(labels != np.round(labels)):
            raise ValueError("labels must be property classes 0, 1, ... (non-negative integers).")
        values = check_vector(self.values, "values")
        for name, arr in (("labels", labels), ("values", values)):
            if arr.size != k:
                raise ValueError(f"{name} must hold one entry per model: thetas has {k} rows, {name} {arr.size}.")
        if np.any((values < 0) | (values > 1)):
            raise ValueError("values must be property values in [0, 1].")
        if len(self.data) not in (0, k):
            raise ValueError(f"data must hold one training set per model ({k}), got {len(self.data)}.")
        if self.output_seeds is not None and len(self.output_seeds) != k:
            raise ValueError(f"output_seeds must hold one seed per model ({k}), got {len(self.output_seeds)}.")

    def __len__(self):
        return int(self.thetas.shape[0])

    def features(self, access, queries=None):
        """Feature matrix for ``access="white"`` or ``"black"`` (needs ``queries``)."""
        check_option(access, "access", ("white", "black"))
        if access == "white":
            return _white(self.family, self.thetas)
        if queries is None:
            raise ValueError("black-box features need a query set.")
        queries = check_queries(queries, "queries", n_features=self.family.n_features)
        P = self.family.predict_proba_many(self.thetas, queries)
        if self.output_defense is not None:
            P = np.vstack([self.output_defense.defend_outputs(P[i], np.random.default_rng(self.output_seeds[i]))
                           for i in range(P.shape[0])])
        return P

    def predict_proba(self, i, X, rng=None):
        """Model ``i``'s released class-1 probabilities on ``X`` (output defense applied)."""
        p = self.family.predict_proba(self.thetas[i], X)
        if self.output_defense is not None:
            p = self.output_defense.defend_outputs(p, np.random.default_rng(rng))
        return p

    def with_thetas(self, thetas, **changes):
        return replace(self, thetas=np.asarray(thetas), **changes)

    def subset(self, idx):
        idx = np.asarray(idx)
        return replace(self, thetas=self.thetas[idx], labels=self.labels[idx], values=self.values[idx],
                       data=[self.data[i] for i in idx] if self.data else [],
                       output_seeds=None if self.output_seeds is None else self.output_seeds[idx])


@validate_params({
    "family": [LogisticFamily, MLPFamily],
    "X": ["array-like"],
    "y": ["array-like"],
    "theta0": [None, "array-like"],
    "penalty": [None, callable],
    "sample_weight": [None, "array-like"],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, None)],
    "random_state": ["random_state"],
})
def fit_family(family, X, y, *, theta0=None, penalty=None, sample_weight=None, tol=1e-8, max_iter=2000,
               random_state=None):
    """Public, validated form of the L-BFGS fit (see :func:`_fit_family`).

    ``X`` must have the family's number of features, ``y`` hold labels in
    [0, 1] (one per row), ``theta0`` the family's number of parameters and
    ``sample_weight`` non-negative weights with a positive sum.
    """
    _check_family(family)
    X, y = _check_training_set(family, X, y)
    theta0 = None if theta0 is None else check_vector(theta0, "theta0", n=family.n_params)
    sw = None if sample_weight is None else _check_weights(sample_weight, X.shape[0])
    return _fit_family(family, X, y, theta0=theta0, penalty=penalty, sample_weight=sw, tol=tol,
                       max_iter=max_iter, rng=random_state)
