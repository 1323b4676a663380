r"""Property-inference attacks: meta-classifiers, Suri & Evans' tests, the responsive attacker.

The attacker holds auxiliary data from the provider's population. It draws
shadow training sets with controlled property values, trains shadow models
with the provider's recipe, and learns the map from a model to its
training set's property class (a bin of the default rate, or one of two
worlds).

* :class:`MetaClassifierAttack`: a classifier (logistic regression, random
  forest or MLP) on white-box features (parameters; sorted hidden units for
  an MLP) or black-box features (probabilities on a fixed query set).
* :class:`LossTest` and :class:`ThresholdTest` (Suri and Evans): cheap
  black-box tests on reference data of each property class. The loss test
  needs no shadow model: it picks the class on whose data the model does
  best. The threshold test learns, on shadow models, thresholds on the
  difference between the model's performance on the last and the first
  class's reference data.
* :class:`ResponsiveAttack`: the attacker of the responsive-CPI setting
  (arXiv:2509.16352, reconstructed, see below). It knows the defense
  procedure, applies it to its own shadow models, and retrains; among its
  candidate attacks, and the fixed attack it started from, it keeps the one
  with the best cross-validated accuracy on its defended shadows.

Differentiable meta-classifiers
-------------------------------
Defenses that act against a given attacker (property unlearning, the
arms-race penalty) need the gradient, and for the approximate strategy the
Hessian, of the attacker's posterior with respect to the features.
:class:`MetaNet` reads a fitted ``StandardScaler`` + ``LogisticRegression``
or ``MLPClassifier`` pipeline as a network :math:`z = N(\phi)` of class
logits (posterior :math:`\operatorname{softmax}(z)`); with a ReLU, identity
or linear network :math:`N` is piecewise affine, so its Jacobian
:math:`J = \partial z/\partial\phi` is exact and its second derivative zero
almost everywhere.

Responsive CPI: what is reconstructed
-------------------------------------
The full text of Yang, Xu, Zhang and Fang (arXiv:2509.16352) was not
available. Its abstract states that existing defenses assume the attack is
not adaptive, and that the responsive attacker adjusts its attack models to
the target and its defenses. This module implements that idea in its
standard form (Kerckhoffs: the defense procedure and its parameters are
known, its randomness is not): defended shadows, retrained meta-classifier.
It is *inspired by*, not faithful to, the paper.

References
----------
* [1] A. Suri and D. Evans, "Formalizing and Estimating Distribution
  Inference Risks", PETS 2022, arXiv:2109.06024 (loss and threshold tests).
* [2] K. Ganju et al., CCS 2018; G. Ateniese et al., IJSN 2015 (white-box
  meta-classifiers); W. Zhang, S. Tople and O. Ohrimenko, USENIX Security
  2021 (black-box).
* [3] Y. Yang, J. Xu, H. Zhang and X. Fang, "Secure Confidential Business
  Information When Sharing Machine Learning Models", arXiv:2509.16352.
* [4] EPFL dlab ``propinfer`` (meta-classifier MLPClassifier(128, 64)).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._param_validation import HasMethods, Interval, StrOptions, validate_params
from .._validation import check_binary, check_generator, check_queries, check_vector
from ..base import ParamsMixin
from .models import ModelSet

__all__ = [
    "MetaClassifierAttack",
    "LossTest",
    "ThresholdTest",
    "ResponsiveAttack",
    "MetaNet",
    "make_meta_classifier",
]

_META_NAMES = {"logistic", "random_forest", "mlp"}


@validate_params({"name": [StrOptions(_META_NAMES)], "random_state": ["random_state"]})
def make_meta_classifier(name, random_state=None):
    """The default meta-classifiers.

    * ``"logistic"``: ``StandardScaler`` + ``LogisticRegression(C=1)``
      (multinomial for m > 2 classes);
    * ``"random_forest"``: ``RandomForestClassifier(n_estimators=200)``;
    * ``"mlp"``: ``StandardScaler`` + ``MLPClassifier((128, 64))`` with
      ``alpha=1e-3`` and at most 500 epochs (the meta-classifier of
      ``propinfer`` [4]).
    """
    return _make_meta(name, random_state)


def _make_meta(name, random_state):
    seed = None if random_state is None else int(check_generator(random_state).integers(2**31 - 1))
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    if name == "mlp":
        return make_pipeline(StandardScaler(), MLPClassifier((128, 64), alpha=1e-3, max_iter=500,
                                                             random_state=seed))
    raise ValueError(f"unknown meta-classifier {name!r}; expected one of {sorted(_META_NAMES)} or an estimator.")


# --------------------------------------------------------------------------------------
# a fitted meta-classifier as a differentiable network
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MetaNet:
    r"""A fitted (scaler +) logistic-regression or MLP meta-classifier as a network of class logits.

    :math:`z = N((\phi - \mu)/\sigma)`, posterior :math:`\operatorname{softmax}(z)`
    (equal to the estimator's ``predict_proba``). A binary classifier with
    one decision value :math:`d` is written :math:`z = (0, d)`. Build it with
    :meth:`from_estimator`.

    Attributes
    ----------
    mean, scale : ndarray
        The scaler's centring and scaling (0 and 1 without a scaler).
    layers : list of (W, b)
        Affine layers, ReLU (or identity) between them.
    n_classes : int
    """

    mean: np.ndarray
    scale: np.ndarray
    layers: list
    n_classes: int

    @classmethod
    def from_estimator(cls, estimator):
        """Read a fitted ``[StandardScaler +] LogisticRegression | MLPClassifier``.

        Raises
        ------
        ValueError
            For a meta-classifier that is not differentiable (a random
            forest) or not piecewise affine, or not fitted.
        """
        scaler, clf = None, estimator
        if isinstance(estimator, Pipeline):
            steps = [s for _, s in estimator.steps]
            if len(steps) == 2 and isinstance(steps[0], StandardScaler):
                scaler, clf = steps
            elif len(steps) == 1:
                clf = steps[0]
            else:
                raise ValueError("estimator: a differentiable meta-classifier must be [StandardScaler +] "
                                 "LogisticRegression or MLPClassifier.")
        if isinstance(clf, (LogisticRegression, MLPClassifier)) or scaler is not None:
            try:
                check_is_fitted(clf)
                if scaler is not None:
                    check_is_fitted(scaler)
            except ValueError as exc:  # NotFittedError
                raise ValueError(f"estimator must be a fitted meta-classifier: {exc}") from exc
        if isinstance(clf, LogisticRegression):
            layers = [(clf.coef_.T.copy(), clf.intercept_.copy())]
            act = "identity"
        elif isinstance(clf, MLPClassifier):
            layers = [(W.copy(), b.copy()) for W, b in zip(clf.coefs_, clf.intercepts_)]
            act = clf.activation
            if clf.out_activation_ not in ("logistic", "softmax"):
                raise ValueError(f"unsupported MLP output {clf.out_activation_!r}.")
        else:
            raise ValueError(
                f"estimator: {type(clf).__name__} is not differentiable: a defense against a given attacker needs a "
                "LogisticRegression or MLPClassifier meta-classifier (optionally after a StandardScaler).")
        if act not in ("relu", "identity"):
            raise ValueError(f"meta-classifier activation {act!r} is not piecewise affine; use 'relu'.")
        W, b = layers[-1]
        if W.shape[1] == 1:  # binary: z = (0, d)
            layers[-1] = (np.hstack([np.zeros_like(W), W]), np.concatenate([[0.0], b]))
        mean = np.zeros(layers[0][0].shape[0]) if scaler is None else scaler.mean_.copy()
        scale = np.ones_like(mean) if scaler is None else scaler.scale_.copy()
        return cls(mean, scale, layers, layers[-1][0].shape[1])

    def logits_and_jacobian(self, phi):
        r"""Class logits :math:`z` (m,) and Jacobian :math:`\partial z/\partial\phi` (m, d) at one point.

        ``phi`` is one finite feature vector of the meta-classifier's dimension.
        """
        return self._logits_and_jacobian(check_vector(phi, "phi", n=self.mean.size))

    def _logits_and_jacobian(self, phi):
        h = (phi - self.mean) / self.scale
        J = np.diag(1.0 / self.scale)
        for l, (W, b) in enumerate(self.layers):
            a = h @ W + b
            J = W.T @ J
            if l < len(self.layers) - 1:
                mask = a > 0
                h = np.where(mask, a, 0.0)
                J = J * mask[:, None]
            else:
                h = a
        return h, J

    def logits(self, Phi):
        """Class logits of feature vectors ``Phi`` (one vector (d,) or a matrix (k, d)), shape ``(k, m)``."""
        Phi = check_queries(Phi, "Phi") if np.ndim(Phi) != 1 else check_vector(Phi, "Phi")[None, :]
        if Phi.shape[1] != self.mean.size:
            raise ValueError(f"Phi must have {self.mean.size} features (the meta-classifier's), got {Phi.shape[1]}.")
        H = (Phi - self.mean) / self.scale
        for l, (W, b) in enumerate(self.layers):
            H = H @ W + b
            if l < len(self.layers) - 1:
                H = np.maximum(H, 0.0)
        return H


def _kl_to_uniform(z, *, hessian=False):
    r""":math:`\mathrm{KL}(\operatorname{softmax}(z)\,\|\,U_m) = \sum_k p_k\log p_k + \log m`, gradient and Hessian in z.

    With :math:`u = \log p - \sum_k p_k \log p_k`: :math:`\nabla = p \odot u`
    and :math:`\nabla^2 = \operatorname{diag}(p\odot u) - p (p\odot u)^\top
    - (p\odot u) p^\top + \operatorname{diag}(p) - p p^\top`.
    """
    lp = log_softmax(z)
    p = np.exp(lp)
    s = p @ lp
    u = lp - s
    f = s + np.log(z.size)
    g = p * u
    if not hessian:
        return f, g, None
    H = np.diag(g) - np.outer(p, g) - np.outer(g, p) + np.diag(p) - np.outer(p, p)
    return f, g, H


# --------------------------------------------------------------------------------------
# meta-classifier attack
# --------------------------------------------------------------------------------------
class MetaClassifierAttack(ParamsMixin, ClassifierMixin, BaseEstimator):
    """Meta-classifier property inference: features of a model -> its property class.

    Parameters
    ----------
    meta_classifier : {"logistic", "random_forest", "mlp"} or estimator, default="logistic"
        See :func:`make_meta_classifier`; an estimator is cloned.
    access : {"white", "black"}, default="white"
        White-box features (parameters, sorted for an MLP) or black-box
        features (probabilities on the query set given to :meth:`fit`).
    random_state : None, int, SeedSequence or Generator
        Seeds the meta-classifier (random forest, MLP).

    Attributes
    ----------
    meta_classifier_ : fitted estimator
    classes_ : ndarray
    queries_ : ndarray or None
    """

    _parameter_constraints = {
        "meta_classifier": [StrOptions(_META_NAMES), HasMethods(["fit", "predict_proba"])],
        "access": [StrOptions({"white", "black"})],
        "random_state": ["random_state"],
    }

    def __init__(self, meta_classifier="logistic", *, access="white", random_state=None):
        self.meta_classifier = meta_classifier
        self.access = access
        self.random_state = random_state

    def fit(self, shadows, y=None, *, queries=None, references=None):
        """Train the meta-classifier on shadow models.

        Parameters
        ----------
        shadows : ModelSet
            Shadow models with their property classes (``shadows.labels``).
        y : ignored (the labels are ``shadows.labels``)
        queries : ndarray of shape (n_queries, d), required for ``access="black"``
        references : ignored (accepted so every attack has one signature)
        """
        self._validate_params()
        _check_models(shadows, "shadows")
        if self.access == "black" and queries is None:
            raise ValueError("a black-box MetaClassifierAttack needs the query set: fit(shadows, queries=Q).")
        if queries is not None:
            queries = check_queries(queries, "queries", n_features=shadows.family.n_features)
        labels = np.asarray(shadows.labels)
        counts = np.bincount(labels)
        if np.unique(labels).size < 2:
            raise ValueError("the shadow models must cover at least two property classes.")
        if np.min(counts[counts > 0]) < 2:
            raise ValueError(f"every property class needs at least two shadow models, got counts {counts.tolist()}.")
        self.queries_ = None if self.access == "white" else queries
        est = (_make_meta(self.meta_classifier, self.random_state) if isinstance(self.meta_classifier, str)
               else clone(self.meta_classifier))
        Phi = shadows.features(self.access, self.queries_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(Phi, labels)
        self.meta_classifier_ = est
        self.classes_ = est.classes_
        self.n_classes_ = int(np.max(labels)) + 1
        return self

    def features(self, models):
        return models.features(self.access, self.queries_)

    def predict_proba(self, models):
        """Posterior over property classes, shape ``(k, n_classes)``."""
        return self.meta_classifier_.predict_proba(self.features(models))

    def predict(self, models):
        return self.meta_classifier_.predict(self.features(models))

    def score(self, models, y=None, sample_weight=None):
        """Accuracy on ``models`` (labels from ``models.labels`` unless ``y`` is given)."""
        y = models.labels if y is None else y
        return float(np.mean(self.predict(models) == np.asarray(y)))

    @property
    def differentiable(self):
        """Whether defenses can take gradients through this attack (not a random forest)."""
        try:
            MetaNet.from_estimator(self.meta_classifier_)
            return True
        except ValueError:
            return False

    def meta_net(self):
        """The fitted meta-classifier as a :class:`MetaNet` (raises for a random forest)."""
        return MetaNet.from_estimator(self.meta_classifier_)


def _check_models(models, name):
    if not isinstance(models, ModelSet):
        raise TypeError(f"{name} must be a ModelSet, got {type(models).__name__}.")
    if len(models) == 0:
        raise ValueError(f"{name} is empty.")


# --------------------------------------------------------------------------------------
# Suri & Evans tests
# --------------------------------------------------------------------------------------
def _performance(models, references, metric):
    """``(k, m)`` performance of every model on every class's reference data (higher is better)."""
    out = np.empty((len(models), len(references)))
    for i in range(len(models)):
        for j, (X, y) in enumerate(references):
            seed = None if models.output_seeds is None else (int(models.output_seeds[i]), j)
            p = models.predict_proba(i, X, rng=seed)
            if metric == "accuracy":
                out[i, j] = np.mean((p > 0.5) == (y == 1))
            else:
                p = np.clip(p, 1e-12, 1 - 1e-12)
                out[i, j] = np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))  # minus the log-loss
    return out


def _check_references(references, n_classes=None, n_features=None):
    if references is None or isinstance(references, (str, bytes)) or not hasattr(references, "__len__") \
            or len(references) < 2:
        raise ValueError("the test needs reference data (X, y) for at least two property classes: "
                         "fit(shadows, references=[(X0, y0), (X1, y1), ...]).")
    if n_classes is not None and len(references) != n_classes:
        raise ValueError(f"got reference data for {len(references)} classes, expected {n_classes}.")
    out = []
    for c, pair in enumerate(references):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"references[{c}] must be a pair (X, y), got {type(pair).__name__}.")
        X = check_queries(pair[0], f"references[{c}] X", n_features=n_features)
        if c and X.shape[1] != out[0][0].shape[1]:
            raise ValueError(f"references[{c}] X has {X.shape[1]} features, references[0] X {out[0][0].shape[1]}.")
        check_binary(pair[1], f"references[{c}] y", n=X.shape[0])
        out.append((X, np.asarray(pair[1])))
    return out


def _check_against(references, models):
    """The models read the references' features."""
    _check_models(models, "models")
    d = references[0][0].shape[1]
    if models.family.n_features != d:
        raise ValueError(f"the references have {d} features but the models read {models.family.n_features}.")


class LossTest(ParamsMixin, BaseEstimator):
    """Suri and Evans' loss test: the class on whose reference data the model does best.

    A model trained on data with property class ``c`` should fit data drawn
    with class ``c``'s property value best. No shadow model is needed.

    Parameters
    ----------
    metric : {"accuracy", "log_loss"}, default="accuracy"
        Suri and Evans compare accuracies; the log-loss also sees
        calibration (the base rate).
    """

    _parameter_constraints = {"metric": [StrOptions({"accuracy", "log_loss"})]}

    def __init__(self, metric="accuracy"):
        self.metric = metric

    def fit(self, shadows=None, y=None, *, queries=None, references=None):
        """Store the reference data ``[(X_0, y_0), ..., (X_{m-1}, y_{m-1})]`` (shadows are not used)."""
        self._validate_params()
        self.references_ = _check_references(references)
        self.n_classes_ = len(self.references_)
        self.classes_ = np.arange(self.n_classes_)
        return self

    def predict(self, models):
        _check_against(self.references_, models)
        return np.argmax(_performance(models, self.references_, self.metric), axis=1)

    def score(self, models, y=None):
        y = models.labels if y is None else y
        return float(np.mean(self.predict(models) == np.asarray(y)))


def _monotone_thresholds(s, labels, m):
    """Cut points maximising accuracy when the class is non-decreasing in the score ``s``.

    Dynamic programme over the sorted scores: ``best[c]`` is the largest
    number of correct predictions of the prefix with the last item in
    class ``c``. Returns ``(thresholds, correct)``.
    """
    order = np.argsort(s, kind="stable")
    ss, ll = s[order], labels[order]
    n = ss.size
    best = np.zeros(m)
    back = np.zeros((n, m), dtype=int)
    for i in range(n):
        run = np.maximum.accumulate(best)
        arg = np.zeros(m, dtype=int)
        for c in range(1, m):
            arg[c] = arg[c - 1] if best[arg[c - 1]] >= best[c] else c
        back[i] = arg
        best = run + (ll[i] == np.arange(m))
    c = int(np.argmax(best))
    correct = best[c]
    assign = np.empty(n, dtype=int)
    for i in range(n - 1, -1, -1):
        assign[i] = c
        c = back[i, c]
    thr = []
    for c in range(1, m):
        above = np.flatnonzero(assign >= c)
        if above.size == 0:
            thr.append(np.inf)
        elif above[0] == 0:
            thr.append(-np.inf)
        else:
            thr.append(0.5 * (ss[above[0] - 1] + ss[above[0]]))
    return np.array(thr), correct


class ThresholdTest(ParamsMixin, BaseEstimator):
    r"""Suri and Evans' threshold test, generalised to m ordered classes.

    The statistic of a model is the difference of its performance on the
    last and the first class's reference data,
    :math:`s = \mathrm{perf}(R_{m-1}) - \mathrm{perf}(R_0)`. On the shadow
    models the test chooses the orientation and the :math:`m - 1` ordered
    thresholds that classify the shadows best (exact dynamic programme);
    for two worlds this is the single best threshold of Suri and Evans.

    Parameters
    ----------
    metric : {"accuracy", "log_loss"}, default="accuracy"
    """

    _parameter_constraints = {"metric": [StrOptions({"accuracy", "log_loss"})]}

    def __init__(self, metric="accuracy"):
        self.metric = metric

    def _statistic(self, models):
        perf = _performance(models, [self.references_[0], self.references_[-1]], self.metric)
        return perf[:, 1] - perf[:, 0]

    def fit(self, shadows, y=None, *, queries=None, references=None):
        """Choose the thresholds on shadow models and the references of every class."""
        self._validate_params()
        _check_models(shadows, "shadows")
        labels = np.asarray(shadows.labels)
        m = int(labels.max()) + 1
        self.references_ = _check_references(references, m, shadows.family.n_features)
        s = self._statistic(shadows)
        up, c_up = _monotone_thresholds(s, labels, m)
        down, c_down = _monotone_thresholds(-s, labels, m)
        self.sign_ = 1.0 if c_up >= c_down else -1.0
        self.thresholds_ = up if c_up >= c_down else down
        self.n_classes_ = m
        self.classes_ = np.arange(m)
        return self

    def predict(self, models):
        _check_against(self.references_, models)
        s = self.sign_ * self._statistic(models)
        return np.searchsorted(self.thresholds_, s, side="right")

    def score(self, models, y=None):
        y = models.labels if y is None else y
        return float(np.mean(self.predict(models) == np.asarray(y)))


# --------------------------------------------------------------------------------------
# the responsive attacker
# --------------------------------------------------------------------------------------
class ResponsiveAttack(ParamsMixin, BaseEstimator):
    """The responsive attacker: rerun the known defense on the shadows, retrain, keep the best.

    ``fit`` applies ``defense`` to every shadow model (with fresh
    randomness: the attacker knows the procedure and its parameters, not the
    provider's random draws) and fits every candidate attack on the defended
    shadows. It then keeps the best of these and of the ``fixed_attack``
    (the non-adaptive attacker, already fitted on undefended shadows), by
    accuracy on defended *validation* shadows:

    * with ``validation`` shadows (drawn apart from the training shadows,
      defended by the same procedure) every option, the fixed attack
      included, is scored out of sample. Since the fixed attack is one of
      its options, the responsive attacker is never worse than the fixed one
      on this estimate, and against targets not worse up to its sampling
      error. This matters for defenses built *from* the fixed attack
      (property unlearning), for which no honest in-sample score of the
      fixed attack exists;
    * without them the candidates are compared by stratified ``cv``-fold
      cross-validation on the defended shadows and the fixed attack is not
      considered.

    Parameters
    ----------
    attacks : attack or sequence of attacks (unfitted)
    defense : Defense or None
        The defense procedure to rerun; ``None``: the shadows are used as
        given (already defended).
    fixed_attack : fitted attack or None, default=None
    cv : int >= 2, default=3

    Attributes
    ----------
    best_attack_ : fitted attack
    scores_ : list of float
        Validation accuracy of each candidate, then of the fixed attack.
    uses_fixed_ : bool
    defended_shadows_ : ModelSet
    """

    _parameter_constraints = {
        "attacks": [list, tuple, HasMethods(["fit", "predict"])],
        "defense": [None, HasMethods(["apply"])],
        "fixed_attack": [None, HasMethods(["predict"])],
        "cv": [Interval(Integral, 2, None)],
    }

    def __init__(self, attacks, defense=None, *, fixed_attack=None, cv=3):
        self.attacks = attacks
        self.defense = defense
        self.fixed_attack = fixed_attack
        self.cv = cv

    def fit(self, shadows, y=None, *, validation=None, queries=None, references=None, random_state=None):
        """Defend the shadows (and validation shadows), fit and validate every option, keep the best.

        Parameters
        ----------
        shadows : ModelSet
            Undefended shadow models (with their training sets if the
            defense retrains).
        validation : ModelSet, optional
            Undefended validation shadows.
        queries, references : passed to the candidates' ``fit``
        random_state : None, int, SeedSequence or Generator
        """
        self._validate_params()
        _check_models(shadows, "shadows")
        rng = check_generator(random_state)
        s_def, s_val, s_cv = rng.spawn(3)
        defended = shadows if self.defense is None else self.defense.apply(shadows, random_state=s_def)
        self.defended_shadows_ = defended
        candidates = list(self.attacks) if isinstance(self.attacks, (list, tuple)) else [self.attacks]
        if not candidates:
            raise ValueError("attacks must hold at least one candidate attack.")
        for a in candidates:
            if not HasMethods(["fit", "predict"]).is_satisfied_by(a):
                raise TypeError(f"attacks must hold attacks with fit and predict, got {type(a).__name__}.")
        labels = np.asarray(defended.labels)
        counts = np.bincount(labels)[np.unique(labels)]
        if counts.size < 2 or counts.min() < 2:
            raise ValueError(f"every property class needs at least two shadow models, got {np.bincount(labels)}.")
        fitted = [clone(a).fit(defended, queries=queries, references=references) for a in candidates]
        if validation is not None:
            _check_models(validation, "validation")
            val = validation if self.defense is None else self.defense.apply(validation, random_state=s_val)
            scores = [float(np.mean(a.predict(val) == val.labels)) for a in fitted]
            if self.fixed_attack is not None:
                scores.append(float(np.mean(self.fixed_attack.predict(val) == val.labels)))
        else:
            folds = min(self.cv, int(counts.min()))
            split = StratifiedKFold(folds, shuffle=True, random_state=int(s_cv.integers(2**31 - 1)))
            scores = []
            for att in candidates:
                correct = 0
                for tr, te in split.split(np.zeros(labels.size), labels):
                    a = clone(att).fit(defended.subset(tr), queries=queries, references=references)
                    correct += np.sum(a.predict(defended.subset(te)) == labels[te])
                scores.append(correct / labels.size)
        best = int(np.argmax(scores))
        self.scores_ = scores
        self.uses_fixed_ = best >= len(fitted)
        self.best_attack_ = self.fixed_attack if self.uses_fixed_ else fitted[best]
        self.best_index_ = best
        return self

    def predict(self, models):
        return self.best_attack_.predict(models)

    def score(self, models, y=None):
        y = models.labels if y is None else y
        return float(np.mean(self.predict(models) == np.asarray(y)))
