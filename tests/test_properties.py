"""Property-based tests of the whole public API (hypothesis).

Every public function and class -- the names of every public module's
``__all__``, as the documentation test collects them -- has an entry in
:data:`CASES` (or in one of the documented skip-lists), and three properties are
checked on every entry:

* **valid input meets the contract**: a valid draw returns finite numbers (no
  NaN, no infinity, except where the case documents one) and passes the case's
  own contract check (utility budget met, probabilities summing to one,
  privacy level non-negative, certificate holding, ...);
* **invalid input is refused, naming the argument**: one argument of a valid
  draw is replaced by a bad value (NaN or infinity inside an array, a complex or
  string array, the wrong number of dimensions, an empty array, NaN, infinity, a
  complex number, a string, a boolean for a number, or a value out of the
  argument's domain) and the call must raise ``ValueError`` or ``TypeError``
  whose message contains the argument's name;
* **coverage**: :func:`test_every_public_name_has_a_strategy` fails when a new
  public name has neither a case nor a documented reason to have none.

The number of examples is bounded by the hypothesis profile of
``tests/conftest.py`` (``ci``: a fixed, derandomised budget) and per case by
``examples`` for the expensive calls.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import math
import pkgutil
import re
import warnings
from dataclasses import dataclass, field, fields, is_dataclass
from numbers import Number

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import modelprivacy
from modelprivacy import (
    attacks,
    base,
    bounds,
    cli,
    defenses,
    features,
    figures,
    games,
    metrics,
    queries,
    simulate,
    solvers,
    symbolic,
    targets,
    threat,
    verify,
    victims,
)
from modelprivacy import arms_race as stealing_race
from modelprivacy import property_inference as pi
from modelprivacy.figures import clf as figures_clf
from modelprivacy.figures import property_inference as figures_pi
from modelprivacy.figures import regression as figures_regression
from modelprivacy.figures import responsive as figures_responsive
from modelprivacy.property_inference import attacks as pi_attacks
from modelprivacy.property_inference import metrics as pi_metrics
from modelprivacy.property_inference import models as pi_models

PACKAGE = "modelprivacy"
BAD = (ValueError, TypeError)


# =========================================================================== the public API
def public_objects():
    """``{object: "module.name"}`` of every public module's ``__all__`` (first name wins)."""
    names = [PACKAGE]
    for info in pkgutil.walk_packages(modelprivacy.__path__, PACKAGE + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    out = {}
    for modname in sorted(names):
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            key = id(obj)
            if key not in out:
                out[key] = (obj, f"{modname}.{name}")
    return out


# =========================================================================== strategies
def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


SIZES = st.integers(3, 9)


@st.composite
def vectors(draw, n=None, lo=-3.0, hi=3.0):
    n = draw(SIZES) if n is None else n
    return np.array(draw(st.lists(floats(lo, hi), min_size=n, max_size=n)))


@st.composite
def points(draw, n=None, d=1, lo=0.0, hi=1.0, distinct=True):
    """Queries ``(n, d)`` in ``[lo, hi]^d``, pairwise distinct in their first column when asked."""
    n = draw(SIZES) if n is None else n
    if distinct:
        base_ = np.sort(np.array(draw(st.lists(floats(0.0, 1.0), min_size=n, max_size=n, unique=True))))
        # spread: a minimum gap keeps the designs well posed
        base_ = np.linspace(0.0, 1.0, n) * 0.5 + 0.5 * base_
        col = lo + (hi - lo) * base_
        rest = np.array(draw(st.lists(floats(lo, hi), min_size=n * (d - 1), max_size=n * (d - 1)))).reshape(n, d - 1)
        return np.column_stack([col, rest])
    return np.array(draw(st.lists(floats(lo, hi), min_size=n * d, max_size=n * d))).reshape(n, d)


@st.composite
def probabilities(draw, n=None, K=None):
    n = draw(SIZES) if n is None else n
    K = draw(st.integers(2, 4)) if K is None else K
    raw = np.array(draw(st.lists(floats(0.01, 1.0), min_size=n * K, max_size=n * K))).reshape(n, K)
    return raw / raw.sum(axis=1, keepdims=True)


def seeds():
    return st.integers(0, 2**32 - 1)


# =========================================================================== bad values
def _nan_in(a):
    a = np.array(a, dtype=float, copy=True)
    a.flat[a.size // 2] = np.nan
    return a


def _inf_in(a):
    a = np.array(a, dtype=float, copy=True)
    a.flat[0] = np.inf
    return a


ARRAY_BAD = {
    "nan": _nan_in,
    "inf": _inf_in,
    "complex": lambda a: np.asarray(a, dtype=float) + 1j,
    "strings": lambda a: np.asarray(a, dtype=float).astype(str),
    "3-D": lambda a: np.zeros((2, 2, 2)),
    "empty": lambda a: np.empty((0,) + np.shape(a)[1:]),
    "none": lambda a: None,
}
SCALAR_BAD = {
    "nan": lambda v: math.nan,
    "inf": lambda v: math.inf,
    "complex": lambda v: 1 + 1j,
    "string": lambda v: "1",
    "bool": lambda v: True,
}
ARRAY = tuple(k for k in ARRAY_BAD if k != "none")
SCALAR = tuple(SCALAR_BAD)


@dataclass
class Case:
    """How to call one public object with valid input, and what is bad for it.

    Attributes
    ----------
    call : callable
        ``call(**kwargs)``; returns what the contract is checked on.
    valid : strategy
        Draws the keyword arguments of a valid call.
    bad : dict
        ``argument -> kinds``: names of :data:`ARRAY_BAD`/:data:`SCALAR_BAD`
        corruptions, or explicit bad values (in a list).
    check : callable, optional
        ``check(result, kwargs)``: the contract beyond finiteness.
    finite : bool
        Whether every number in the result must be finite.
    examples : int, optional
        Cap on examples (expensive calls).
    covers : tuple
        Other public objects this case exercises (result types, base classes).
    name : str
        The name an error must contain for argument ``arg`` (``{arg}`` by default,
        ``'{arg}' parameter of {owner}`` for constructor parameters).
    """

    call: object
    valid: object
    bad: dict = field(default_factory=dict)
    check: object = None
    finite: bool = True
    examples: int | None = None
    covers: tuple = ()
    owner: str | None = None
    documented: tuple = ()   # (exception type, regex) a valid call may raise by contract
    params: tuple = ()       # arguments that are constructor parameters of ``owner``
    names: dict = field(default_factory=dict)  # argument -> regex its error names it by, when not its own name


def kw(**strategies):
    return st.fixed_dictionaries(strategies)


def assert_finite(obj, path="result", seen=None):
    """Every number reachable from ``obj`` is finite."""
    seen = set() if seen is None else seen
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, bool, type)):
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            assert np.all(np.isfinite(obj)), f"{path} has NaN or inf"
        return
    if isinstance(obj, Number):
        assert math.isfinite(complex(obj).real), f"{path} = {obj}"
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert_finite(v, f"{path}[{k!r}]", seen)
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            assert_finite(v, f"{path}[{i}]", seen)
        return
    if is_dataclass(obj):
        for f in fields(obj):
            assert_finite(getattr(obj, f.name), f"{path}.{f.name}", seen)


# --------------------------------------------------------------------------- shared data
RNG = np.random.default_rng(0)
TARGET = targets.QuadraticTarget()


def quad_game(n=12, defense="iid", sigma=0.3):
    return games.poly_game(n=n, defense=defense, sigma=sigma, attacker=attacks.OLSRegression(3))


def _victim():
    if not hasattr(_victim, "v"):
        _victim.v = victims.make_victim("binary", "logreg", random_state=0)
    return _victim.v


def rows_sum_to_one(P):
    np.testing.assert_allclose(np.sum(P, axis=1), 1.0, atol=1e-9)
    assert np.all(P >= -1e-12) and np.all(P <= 1 + 1e-12)


def is_psd(C, tol=1e-9):
    C = np.asarray(C)
    np.testing.assert_allclose(C, C.T, atol=1e-12)
    assert np.linalg.eigvalsh(C)[0] >= -tol * max(1.0, np.abs(C).max())


# =========================================================================== cases
CASES: dict[object, Case] = {}


def case(obj, **kwargs):
    CASES[obj] = Case(**kwargs)


# ----- metrics ---------------------------------------------------------------------------
@st.composite
def pair(draw, lo=-3.0, hi=3.0):
    n = draw(SIZES)
    return {"y_true": draw(vectors(n, lo, hi)), "y_pred": draw(vectors(n, lo, hi))}


def _mse(r, k):
    assert r >= 0 and r == pytest.approx(np.mean((k["y_true"] - k["y_pred"]) ** 2), abs=1e-12)


for _f in (metrics.stealing_error, metrics.utility_loss):
    case(_f, call=_f, valid=pair(), bad={"y_true": ARRAY, "y_pred": ARRAY}, check=_mse)


@st.composite
def coef_pair(draw):
    n = draw(SIZES)
    return {"coef_true": draw(vectors(n)) * draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)),
            "coef_pred": draw(vectors(n))}


case(metrics.support_f1, call=metrics.support_f1, valid=coef_pair(), bad={"coef_true": ARRAY, "coef_pred": ARRAY},
     check=lambda r, k: 0.0 <= r <= 1.0)
case(metrics.support_symmetric_difference, call=metrics.support_symmetric_difference, valid=coef_pair(),
     bad={"coef_true": ARRAY, "coef_pred": ARRAY}, check=lambda r, k: 0 <= r <= len(k["coef_true"]))


def _interval(r, k):
    assert r.low <= r.mean <= r.high


case(metrics.privacy_level, call=metrics.privacy_level,
     valid=kw(errors=vectors(lo=0.0, hi=5.0), confidence=floats(0.5, 0.99), interval=st.sampled_from(["t", "bootstrap-t"])),
     bad={"errors": ARRAY + ([-1.0, 2.0],), "confidence": SCALAR + ([0.0, 1.0, 1.5],), "interval": (["z"],)},
     check=lambda r, k: (_interval(r, k), r.low >= 0.0), covers=(metrics.PrivacyLevel,))
case(metrics.mean_interval, call=metrics.mean_interval,
     valid=kw(values=vectors(), confidence=floats(0.5, 0.99)),
     bad={"values": ARRAY, "confidence": SCALAR + ([0.0, 1.0],)}, check=_interval, covers=(metrics.MeanInterval,))
case(metrics.bootstrap_t_interval, call=metrics.bootstrap_t_interval,
     valid=kw(values=vectors(), confidence=floats(0.5, 0.99), n_resamples=st.integers(99, 300), random_state=seeds()),
     bad={"values": ARRAY, "confidence": SCALAR, "n_resamples": SCALAR + ([5, 2.5],),
          "random_state": (["x", -1, 1.5],)}, check=_interval)
case(metrics.privacy_gain, call=metrics.privacy_gain,
     valid=kw(privacy_level=floats(0, 5), utility_loss=floats(1e-3, 5)),
     bad={"privacy_level": SCALAR + ([-1.0],), "utility_loss": SCALAR + ([-1.0],), "form": (["x"],),
          "atol": SCALAR + ([-1.0],)},
     check=lambda r, k: r.value == pytest.approx(k["privacy_level"] / k["utility_loss"]), covers=(metrics.PrivacyGain,))


@st.composite
def answers(draw):
    P = draw(probabilities())
    return {"y_true": P, "y_pred": draw(probabilities(n=P.shape[0], K=P.shape[1]))}


@st.composite
def labelled(draw):
    P = draw(probabilities(K=2))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=P.shape[0], max_size=P.shape[0])))
    return {"y_true": y, "y_pred": P}


_unit = lambda r, k: 0.0 <= r <= 1.0  # noqa: E731
case(metrics.agreement, call=metrics.agreement, valid=answers(), bad={"y_true": ARRAY, "y_pred": ARRAY}, check=_unit)
case(metrics.stolen_accuracy, call=metrics.stolen_accuracy, valid=labelled(),
     bad={"y_true": ARRAY + ([[0.5, 1.0]],), "y_pred": ARRAY}, check=_unit)
case(metrics.auc_f1, call=metrics.auc_f1, valid=labelled(), bad={"y_true": ARRAY, "y_pred": ARRAY},
     finite=False, check=lambda r, k: 0.0 <= r["f1"] <= 1.0)
case(metrics.kl_per_query, call=metrics.kl_per_query, valid=answers(),
     bad={"y_true": ARRAY, "y_pred": ARRAY, "eps": SCALAR + ([0.0],)}, check=lambda r, k: r >= -1e-12)
case(metrics.l1_distance, call=metrics.l1_distance, valid=answers(), bad={"y_true": ARRAY, "y_pred": ARRAY},
     check=lambda r, k: 0.0 <= r <= 2.0 + 1e-12)
case(metrics.flip_rate, call=metrics.flip_rate, valid=answers(), bad={"y_true": ARRAY, "y_pred": ARRAY}, check=_unit)
case(metrics.utility_report, call=metrics.utility_report, valid=answers(), bad={"y_true": ARRAY, "y_pred": ARRAY},
     check=lambda r, k: r["kl_fwd"] >= -1e-12 and 0 <= r["flip_rate"] <= 1)
case(metrics.budget_grid, call=metrics.budget_grid,
     valid=st.integers(0, 8).flatmap(lambda a: kw(k_min=st.just(a), k_max=st.integers(a, 10))),
     bad={"k_min": SCALAR + ([-1],), "k_max": SCALAR + ([-1],)},
     check=lambda r, k: r == [2**j for j in range(k["k_min"], k["k_max"] + 1)])


@st.composite
def budget_scores(draw):
    n = draw(SIZES)
    b = np.cumsum(np.array(draw(st.lists(st.integers(1, 50), min_size=n, max_size=n))))
    return {"budgets": b, "scores": draw(vectors(n, 0.0, 1.0)), "target": draw(floats(0.0, 1.0))}


case(metrics.queries_to_target, call=metrics.queries_to_target, valid=budget_scores(), finite=False,
     bad={"budgets": ARRAY + ([[3, 2, 1]],), "scores": ARRAY, "target": SCALAR},
     check=lambda r, k: r == math.inf or r in k["budgets"])
case(metrics.query_multiplier, call=metrics.query_multiplier,
     valid=kw(q_defended=floats(1, 1e4), q_clean=floats(1, 1e4)),
     bad={"q_defended": ("nan", "complex", "string", "bool", [0.0, -1.0]),   # inf: never reached, documented
          "q_clean": ("nan", "complex", "string", "bool", [0.0, -1.0])},
     check=lambda r, k: r > 0)
case(metrics.degradation, call=metrics.degradation,
     valid=kw(score_clean=floats(0.01, 1), score_defended=floats(0, 1)),
     bad={"score_clean": SCALAR + ([-0.1, 1.5],), "score_defended": SCALAR + ([-0.1, 1.5],)},
     check=lambda r, k: r[0] == pytest.approx(k["score_clean"] - k["score_defended"]))

# ----- features ---------------------------------------------------------------------------
case(features.default_p_max, call=features.default_p_max, valid=kw(n=st.integers(1, 10**6)),
     bad={"n": SCALAR + ([0, -3, 2.5],)}, check=lambda r, k: r**3 <= max(k["n"], 1) < (r + 1) ** 3 or r == 1)
case(features.basis_matrix, call=features.basis_matrix,
     valid=kw(x=points(), n_terms=st.integers(1, 4), basis=st.sampled_from(features.BASES)),
     bad={"x": ARRAY, "n_terms": SCALAR + ([0],), "basis": (["x"],), "interval": ([(1.0, 0.0), (0.0, math.nan)],)},
     check=lambda r, k: r.shape == (len(k["x"]), k["n_terms"]))


@st.composite
def kernel_args(draw):
    A = draw(points(d=2, distinct=False))
    return {"A": A, "B": draw(points(d=2, distinct=False)), "kernel": draw(st.sampled_from(["rbf", "laplacian", "poly", "linear"])),
            "gamma": draw(st.one_of(st.none(), floats(0.1, 3.0))), "degree": draw(st.integers(1, 4)),
            "coef0": draw(floats(0.0, 2.0))}


case(features.kernel_matrix, call=features.kernel_matrix, valid=kernel_args(),
     bad={"A": ARRAY, "B": ARRAY, "kernel": (["nope"],), "gamma": SCALAR + ([-1.0, 0.0],),
          "degree": SCALAR[:3] + ([-1],), "coef0": SCALAR[:3]},
     check=lambda r, k: r.shape == (len(k["A"]), len(k["B"])))

# ----- targets ---------------------------------------------------------------------------
def target_case(cls, params, d=1, bad_params=None, check=None):
    def call(X, **p):
        return cls(**p)(X)

    case(cls, call=call, valid=kw(X=points(d=d, lo=-1, hi=1), **params),
         bad={"X": ARRAY, **(bad_params or {})}, owner=cls.__name__, params=tuple(bad_params or ()),
         check=check or (lambda r, k: r.shape == (len(k["X"]),)))


target_case(targets.QuadraticTarget, {"center": floats(-1, 1), "scale": floats(-5, 5)},
            bad_params={"center": SCALAR, "scale": SCALAR},
            check=lambda r, k: np.allclose(r, k["scale"] * (k["X"][:, 0] - k["center"]) ** 2))
target_case(targets.CubicCosineTarget, {})
target_case(targets.LinearTarget, {"coef": st.just(np.array([1.0, -2.0])), "intercept": floats(-2, 2)}, d=2,
            bad_params={"coef": ARRAY[:4], "intercept": SCALAR})
target_case(targets.PolynomialTarget, {"coef": vectors(3)}, bad_params={"coef": ARRAY[:4]})
target_case(targets.CosineSeriesTarget, {"smoothness": floats(0.6, 3), "n_terms": st.integers(1, 50)},
            bad_params={"smoothness": SCALAR + ([0.5],), "n_terms": SCALAR + ([0],)})
target_case(targets.ShiftedTarget, {"target": st.just(TARGET), "amount": floats(-2, 2)},
            bad_params={"amount": SCALAR, "target": ([3.0],)},
            check=lambda r, k: np.allclose(r, TARGET(k["X"]) + k["amount"]))
CASES[targets.QuadraticTarget].covers = (targets.Target, base.ParamsMixin)

# ----- query strategies -------------------------------------------------------------------
def query_case(cls, params, bad_params, check=None, interactive=False, examples=None):
    def call(n, rng, **p):
        q = cls(**p)
        if interactive:
            return q.collect(n, threat.Server(TARGET, defenses.IIDNoise(0.1), rng=0), rng=rng)[0]
        return q.sample(n, rng=rng)

    case(cls, call=call, valid=kw(n=st.integers(2, 12), rng=seeds(), **params),
         bad={"n": SCALAR + ([0, -1, 2.5],), "rng": (["x", -1, 1.5],), **bad_params}, owner=cls.__name__,
         params=tuple(bad_params), check=check or (lambda r, k: len(r) == k["n"]), examples=examples)


def _inside(r, k):
    lb, ub = k.get("interval", (0.0, 1.0))
    assert r.shape[0] == k["n"] and np.all(r >= lb) and np.all(r <= ub)


_intervals = st.tuples(floats(-3, 0), floats(0.5, 3))
query_case(queries.UniformQueries, {"interval": _intervals, "d": st.integers(1, 3)},
           {"d": SCALAR + ([0],), "interval": ([(1.0, 0.0), (0.0, math.inf), "ab"],)}, check=_inside)
query_case(queries.GaussianQueries, {"mean": floats(-1, 1), "std": floats(0.1, 2), "interval": _intervals},
           {"mean": SCALAR, "std": SCALAR + ([0.0, -1.0],), "interval": ([(1.0, 0.0)],)}, check=_inside)
query_case(queries.BetaQueries, {"a": floats(0.5, 4), "b": floats(0.5, 4), "interval": _intervals},
           {"a": SCALAR + ([0.0],), "b": SCALAR + ([-1.0],)}, check=_inside)
query_case(queries.MultivariateGaussianQueries, {"cov": st.just(np.array([[1.0, 0.3], [0.3, 2.0]]))},
           {"cov": ARRAY[:5] + ([[[1.0, 0.9], [0.0, 1.0]], -np.eye(2), [[1.0, 2.0], [2.0, 1.0]]],)})
query_case(queries.GridQueries, {"interval": _intervals}, {"interval": ([(0.0, 0.0), (math.nan, 1.0)],)}, check=_inside)
query_case(queries.PoolQueries, {"pool": points(n=10), "replace": st.just(True)},
           {"pool": ARRAY, "replace": (["yes", 1.5],)})
query_case(queries.SequentialQueries, {}, {"base": ([3.0, "x"],)}, interactive=True)
query_case(queries.AdaptiveQueries, {"n_init": st.just(2), "n_candidates": st.integers(1, 20),
                                     "committee_size": st.integers(2, 4)},
           {"n_init": SCALAR + ([1],), "committee_size": SCALAR + ([1],), "n_candidates": SCALAR + ([0],),
            "learner": ([3.0],)}, interactive=True, examples=5)
CASES[queries.UniformQueries].covers = (queries.QueryStrategy,)
case(queries.toeplitz_covariance, call=queries.toeplitz_covariance,
     valid=kw(d=st.integers(1, 8), rho=floats(-0.95, 0.95)),
     bad={"d": SCALAR + ([0],), "rho": SCALAR + ([1.0, -1.5],)},
     check=lambda r, k: (is_psd(r), np.allclose(np.diag(r), 1.0)))

# ----- regression attackers -----------------------------------------------------------------
@st.composite
def regression_data(draw, d=1):
    n = draw(st.integers(6, 14))
    X = draw(points(n=n, d=d))
    return {"X": X, "y": TARGET(X[:, :1]) + draw(vectors(n, -0.1, 0.1)), "Z": draw(points(d=d, distinct=False))}


def attacker_case(cls, params, bad_params, d=1):
    def call(X, y, Z, **p):
        att = cls(**p)
        pred = att.fit(X, y).predict(Z)
        many = att.fit_predict_many(X, np.column_stack([y, -y]), Z) if hasattr(att, "fit_predict_many") else \
            np.column_stack([pred, -pred])
        if attacks.is_linear_smoother(att):
            S = att.smoother_matrix(X, Z)
            # the copy is S y: the contract of a linear smoother (tolerance relative to the smoother)
            np.testing.assert_allclose(S @ y, pred, atol=1e-6 * (1 + np.abs(S).sum(axis=1).max() * np.abs(y).max()))
        np.testing.assert_allclose(many[:, 0], pred, atol=1e-8 * (1 + np.abs(pred).max()))
        return pred

    case(cls, call=call, valid=st.tuples(regression_data(d), kw(**params)).map(lambda t: {**t[0], **t[1]}),
         bad={"X": ARRAY, "y": ARRAY, "Z": ARRAY, **bad_params}, owner=cls.__name__, params=tuple(bad_params),
         check=lambda r, k: r.shape == (len(k["Z"]),))


attacker_case(attacks.OLSRegression, {"n_terms": st.integers(1, 4), "basis": st.sampled_from(features.BASES)},
              {"n_terms": SCALAR + ([0],), "basis": (["x"],), "interval": ([(1.0, 0.0)],)})
attacker_case(attacks.PolynomialRegression, {"p_max": st.one_of(st.none(), st.integers(1, 4)),
                                             "criterion": st.sampled_from(attacks.CRITERIA)},
              {"p_max": SCALAR + ([0],), "criterion": (["AICc"],)})
attacker_case(attacks.KernelRidgeAttacker, {"kernel": st.sampled_from(["rbf", "laplacian", "poly"]),
                                            "alpha": floats(1e-4, 1.0), "gamma": floats(0.1, 3),
                                            "solver": st.sampled_from(["pinv", "solve"])},
              {"alpha": SCALAR + ([-1.0],), "gamma": SCALAR + ([-1.0, 0.0],), "degree": SCALAR[:3] + ([-1.0],),
               "kernel": (["nope"],)}, d=2)
case(attacks.is_linear_smoother, call=attacks.is_linear_smoother,
     valid=kw(attacker=st.sampled_from([attacks.OLSRegression(), attacks.KernelRidgeAttacker(), object()])),
     check=lambda r, k: r == callable(getattr(k["attacker"], "smoother_matrix", None)))
case(attacks.make_attacker, call=attacks.make_attacker, valid=kw(name=st.sampled_from(sorted(attacks.ATTACKERS))),
     bad={"name": (["nope", 3.0],)}, check=lambda r, k: hasattr(r, "fit"))

# ----- classification attackers -------------------------------------------------------------
@st.composite
def clf_data(draw):
    n = draw(st.integers(8, 16))
    X = np.array(draw(st.lists(floats(-2, 2), min_size=2 * n, max_size=2 * n))).reshape(n, 2)
    return {"X": X, "P": draw(probabilities(n=n, K=3))}


def classifier_case(cls, params, bad_params, examples=None, P=None):
    def call(X, P, **p):
        return cls(**p).fit(X, P).predict_proba(X)

    case(cls, call=call, valid=st.tuples(P or clf_data(), kw(**params)).map(lambda t: {**t[0], **t[1]}),
         bad={"X": ARRAY, "P": ARRAY, **bad_params}, owner=cls.__name__, params=tuple(bad_params),
         check=lambda r, k: rows_sum_to_one(r), examples=examples)


classifier_case(attacks.SoftLabelLogisticRegression, {"C": floats(0.1, 10)}, {"C": SCALAR + ([0.0],)}, examples=6)
classifier_case(attacks.SoftmaxMLP, {"hidden": st.integers(2, 6), "max_iter": st.integers(5, 20)},
                {"hidden": SCALAR + ([0],), "alpha": SCALAR + ([-1.0],)}, examples=4)
classifier_case(attacks.LabelOnlyAttacker, {}, {"estimator": ([3.0],)}, examples=6)
classifier_case(attacks.EquationSolvingAttack, {}, {"floor": SCALAR + ([0.0],)}, examples=6)
classifier_case(attacks.ReverseSigmoidAwareAttacker, {"beta": floats(0.1, 0.5), "gamma": floats(0.1, 0.5)},
                {"beta": SCALAR + ([0.0],), "gamma": SCALAR + ([-1.0],)}, examples=5)
case(attacks.equation_solving_queries, call=attacks.equation_solving_queries,
     valid=kw(n_features=st.integers(1, 5), n_queries=st.integers(1, 10), scale=floats(0.1, 3), random_state=seeds()),
     bad={"n_features": SCALAR + ([0],), "n_queries": SCALAR + ([0],), "scale": SCALAR + ([0.0, -1.0],)},
     check=lambda r, k: r.shape == (k["n_queries"], k["n_features"]))
case(attacks.reverse_sigmoid_branch, call=attacks.reverse_sigmoid_branch,
     valid=kw(beta=floats(0.05, 1.0), gamma=floats(0.05, 1.0), n_grid=st.integers(101, 2001)),
     bad={"beta": SCALAR + ([0.0],), "gamma": SCALAR + ([-1.0],), "n_grid": SCALAR + ([1],)}, finite=False)


@st.composite
def rs_answers(draw):
    beta, gamma = draw(floats(0.1, 0.5)), draw(floats(0.2, 1.0))
    return {"P_hat": defenses.reverse_sigmoid(draw(probabilities()), beta, gamma), "beta": beta, "gamma": gamma}


case(attacks.invert_reverse_sigmoid, call=attacks.invert_reverse_sigmoid, valid=rs_answers(),
     bad={"P_hat": ARRAY, "beta": SCALAR + ([0.0],), "gamma": SCALAR + ([-1.0],), "low_classes": (["x"],)},
     check=lambda r, k: rows_sum_to_one(r))

# ----- regression defenses ------------------------------------------------------------------
@st.composite
def defense_data(draw, d=1):
    X = draw(points(n=draw(st.integers(5, 12)), d=d))
    return {"X": X, "rng": draw(seeds())}


def _utility(r, k, exact):
    d, X, Y = r
    if isinstance(d, defenses.NoDefense):
        np.testing.assert_array_equal(Y, TARGET(X))
        return
    y = TARGET(X) if not isinstance(d, defenses.MisleadingVariableProjection) else X @ d.coef
    if exact:
        assert np.mean((Y - y) ** 2) == pytest.approx(float(d.sigma) ** 2, rel=1e-9, abs=1e-15)
    if not d.query_dependent:
        mom = d.moments(X)
        is_psd(mom.cov)
        assert mom.expected_utility_loss() == pytest.approx(float(d.sigma) ** 2, rel=1e-9)


def defense_case(cls, params, bad_params=None, d=1, exact=False, examples=None, extra=()):
    sigma_bad = SCALAR + ([-0.1, 1e200],)

    def call(X, rng, **p):
        dfn = cls(**p)
        f = TARGET if cls is not defenses.MisleadingVariableProjection else targets.LinearTarget(dfn.coef)
        return dfn, X, dfn.respond(X, f(X), rng=rng, target=f)

    bad = {"X": ARRAY, "rng": (["x", -1],), **({"sigma": sigma_bad} if "sigma" in params else {}),
           **(bad_params or {})}
    case(cls, call=call, valid=st.tuples(defense_data(d), kw(**params)).map(lambda t: {**t[0], **t[1]}),
         bad=bad, owner=cls.__name__, params=tuple(k for k in bad if k not in ("X", "rng")),
         check=lambda r, k: _utility(r, k, exact), examples=examples, covers=extra)


SIGMAS = floats(0.0, 2.0)
defense_case(defenses.NoDefense, {}, exact=True, extra=(defenses.Defense, defenses.Moments))
defense_case(defenses.IIDNoise, {"sigma": SIGMAS})
defense_case(defenses.ConstantShift, {"sigma": SIGMAS}, exact=True)
defense_case(defenses.LongRangeNoise, {"sigma": SIGMAS, "gamma": st.one_of(st.none(), floats(0.05, 1.0)),
                                       "sort": st.booleans()}, {"gamma": SCALAR + ([0.0, 1.5],), "sort": (["x"],)})
defense_case(defenses.GaussianProcessNoise, {"sigma": SIGMAS, "gamma": floats(0.1, 5)},
             {"gamma": SCALAR + ([0.0],), "jitter": SCALAR + ([-1.0],), "kernel": (["poly"],)})
defense_case(defenses.TwoPointDefense, {"sigma": SIGMAS, "sign": st.sampled_from([1, -1])},
             {"sign": ([0, 2, "x"],), "scale": SCALAR + ([0.0],)}, exact=True)
defense_case(defenses.OrderDisguise, {"sigma": SIGMAS, "p": st.one_of(st.none(), st.integers(1, 3))},
             {"p": SCALAR + ([0],), "basis": (["cosine"],)}, exact=True)
defense_case(defenses.KernelConfusion, {"sigma": SIGMAS, "n_emp": st.integers(5, 30), "random_state": seeds(),
                                        "solver": st.sampled_from(["trust_region", "lanczos"]),
                                        "n_components": st.integers(1, 4)},
             {"alpha": SCALAR + ([-1.0],), "n_emp": SCALAR + ([0],), "solver": (["x"],)}, exact=True)
defense_case(defenses.OptimalLinearSmoother, {"sigma": SIGMAS, "attacker": st.just(attacks.OLSRegression(3)),
                                              "n_emp": st.integers(5, 30), "random_state": seeds()},
             {"attacker": ([3.0],), "n_emp": SCALAR + ([0],)}, exact=True)
defense_case(defenses.RobustLinearSmoother, {"sigma": floats(0.05, 1.0), "n_emp": st.integers(5, 20),
                                             "attackers": st.just((attacks.OLSRegression(2), attacks.OLSRegression(3))),
                                             "random_state": seeds(), "n_samples": st.integers(1, 10)},
             {"attackers": ([(), (3.0,)],), "n_samples": SCALAR + ([0],)}, exact=True, examples=4)
defense_case(defenses.MisleadingVariableProjection, {"sigma": floats(0.05, 2.0),
                                                     "coef": st.just(np.array([1.0, 0.0, 0.0, 0.0])),
                                                     "exclude_ratio": floats(0.0, 1.0)},
             {"coef": ARRAY[:4], "exclude_ratio": SCALAR + ([1.5, -0.1],)}, d=4, exact=True)
case(defenses.long_range_autocovariance, call=defenses.long_range_autocovariance,
     valid=kw(n=st.integers(1, 40), gamma=st.one_of(st.none(), floats(0.05, 1.0))),
     bad={"n": SCALAR + ([0],), "gamma": SCALAR + ([0.0, 2.0],)},
     check=lambda r, k: r[0] == pytest.approx(1.0) and np.all(np.abs(r) <= 1 + 1e-12))
case(defenses.make_defense, call=defenses.make_defense,
     valid=kw(name=st.sampled_from(sorted(defenses.DEFENSES))), bad={"name": (["nope", 3.0],)},
     check=lambda r, k: isinstance(r, defenses.Defense))


# ----- postprocessors ------------------------------------------------------------------------
def post_case(cls, params, bad_params):
    def call(P, rng, **p):
        d = cls(**p)
        out = d.respond(P, rng=rng)
        assert out.shape == P.shape
        if d.returns_probabilities:
            rows_sum_to_one(out)
        if d._strength is not None:   # calibration reaches its target or says it cannot
            try:
                c = cls(**p).calibrate(P, 0.3, rng=0, tol=0.2)
                assert abs(c.calibrated_flip_rate_ - 0.3) <= 0.2
            except ValueError as exc:
                assert re.search("unreachable|cannot be hit", str(exc))
        return out

    case(cls, call=call, valid=kw(P=probabilities(), rng=seeds(), **params),
         bad={"P": ARRAY + ([[[0.5, 0.6]], [[1.5, -0.5]]],), **bad_params}, owner=cls.__name__,
         params=tuple(bad_params))


post_case(defenses.NoPostprocessing, {}, {})
post_case(defenses.MisleadingShift, {"shift": floats(0, 10)}, {"shift": SCALAR + ([-1.0],),
                                                               "target_class": SCALAR + ([-1],)})
post_case(defenses.ReverseSigmoid, {"beta": floats(0.05, 1), "gamma": floats(0.05, 1)},
          {"beta": SCALAR + ([0.0],), "gamma": SCALAR + ([-1.0],), "variant": (["x"],)})
post_case(defenses.AdaptiveMisinformation, {"p": floats(0, 1)}, {"p": SCALAR + ([1.5, -0.1],)})
post_case(defenses.RandomShuffle, {"p": floats(0, 1)}, {"p": SCALAR + ([1.5],)})
post_case(defenses.GaussianNoise, {"scale": floats(0, 5)}, {"scale": SCALAR + ([-1.0],)})
post_case(defenses.Rounding, {"decimals": st.integers(0, 6), "renormalise": st.booleans()},
          {"decimals": SCALAR + ([-1],), "renormalise": (["x"],)})
post_case(defenses.TopLabel, {}, {})
post_case(defenses.HighConfidence, {"cutoff": floats(0.01, 1)}, {"cutoff": SCALAR + ([0.0],)})
CASES[defenses.NoPostprocessing].covers = (defenses.Postprocessor,)
_rs = kw(beta=floats(0.05, 1.0), gamma=floats(0.05, 1.0))
case(defenses.reverse_sigmoid, call=defenses.reverse_sigmoid,
     valid=st.tuples(kw(P=probabilities()), _rs).map(lambda t: {**t[0], **t[1]}),
     bad={"P": ARRAY, "beta": SCALAR + ([0.0],), "gamma": SCALAR + ([-1.0],), "variant": (["x"],)},
     check=lambda r, k: rows_sum_to_one(r))
for _f in (defenses.reverse_sigmoid_r, defenses.reverse_sigmoid_map):
    case(_f, call=_f, valid=st.tuples(kw(y=vectors(lo=0.0, hi=1.0)), _rs).map(lambda t: {**t[0], **t[1]}),
         bad={"y": ARRAY[:4] + ([[-0.5, 0.5], [1.5]],), "beta": SCALAR + ([0.0],), "gamma": SCALAR + ([-1.0],)},
         check=lambda r, k: r.shape == k["y"].shape)

# ----- solvers -------------------------------------------------------------------------------
@st.composite
def tr_problem(draw, psd=False):
    n = draw(st.integers(2, 8))
    A = np.array(draw(st.lists(floats(-2, 2), min_size=n * n, max_size=n * n))).reshape(n, n)
    M = A @ A.T / n if psd else (A + A.T) / 2
    return {"M": M, "u": draw(vectors(n)), "radius": draw(st.one_of(st.just(0.0), floats(1e-3, 3.0)))}


def _tr_contract(r, k):
    assert np.linalg.norm(r.e) <= k["radius"] * (1 + 1e-12) + 1e-300
    if k["radius"] > 0:
        exact = solvers.trust_region(k["M"], k["u"], k["radius"])
        assert exact.certificate.check(), exact.certificate.residuals()
        assert exact.objective <= exact.certificate.dual_bound + 1e-9 * (1 + abs(exact.objective))
        # Lanczos optimises over a subspace: never above the global optimum
        assert r.objective <= exact.objective + 1e-9 * (1 + abs(exact.objective))


def _tr(M, u, radius, method="exact"):
    return solvers.trust_region(M, u, radius, method=method, n_components=2)


case(solvers.trust_region, call=_tr,
     valid=st.tuples(tr_problem(), kw(method=st.sampled_from(["exact", "lanczos"]))).map(lambda t: {**t[0], **t[1]}),
     bad={"M": ARRAY + ([[[1.0, 2.0], [0.0, 1.0]]],), "u": ARRAY, "radius": SCALAR + ([-1.0],), "method": (["x"],)},
     check=_tr_contract, finite=False,
     covers=(solvers.TrustRegionResult, solvers.TrustRegionCertificate))


def _tr_eigen(eigenvalues, c, radius):
    w, lam, hard = solvers.trust_region_eigen(eigenvalues, c, radius)
    return w


case(solvers.trust_region_eigen, call=_tr_eigen,
     valid=SIZES.flatmap(lambda n: kw(eigenvalues=vectors(n), c=vectors(n), radius=floats(0.01, 3))),
     bad={"eigenvalues": ARRAY, "c": ARRAY, "radius": SCALAR + ([-1.0],)},
     check=lambda r, k: np.linalg.norm(r) <= k["radius"] * (1 + 1e-12))
case(solvers.unit_sphere_slsqp, call=lambda M, u, radius: solvers.unit_sphere_slsqp(M, u, radius).e,
     valid=tr_problem(), bad={"M": ARRAY, "u": ARRAY, "radius": SCALAR + ([-1.0],)},
     check=lambda r, k: np.linalg.norm(r) == pytest.approx(k["radius"], abs=1e-12))


def _design_contract(r, k):
    assert r.gap >= -1e-5 * max(1.0, abs(r.bound))
    if k.get("radius") is not None:
        assert np.linalg.norm(r.e) <= k["radius"] * (1 + 1e-9) + 1e-12
        if r.budget_reachable and k["radius"] > 0 and np.linalg.eigvalsh(k["M"])[0] >= 0 and np.any(k["u"]):
            # a convex objective spends the whole budget whenever it can
            assert r.budget_used["radius"] == pytest.approx(1.0, rel=1e-3)


case(solvers.sdp_relaxation, call=solvers.sdp_relaxation, valid=tr_problem(psd=True), examples=5,
     bad={"M": ARRAY, "u": ARRAY, "radius": SCALAR + ([-1.0],), "solver": (["x"],)},
     check=_design_contract, covers=(solvers.DesignResult,))


@st.composite
def design_problem(draw):
    p = draw(tr_problem(psd=True))
    n = len(p["u"])
    y = draw(vectors(n, -0.5, 0.5))
    return {**p, "y": y, "lb": -1.0, "ub": 1.0, "cap": draw(floats(0.1, 2.0))}


case(solvers.constrained_design, call=solvers.constrained_design, valid=design_problem(), examples=5,
     bad={"M": ARRAY, "u": ARRAY, "radius": SCALAR + ([-1.0],), "y": ARRAY, "lb": (["x", [math.nan]],),
          "cap": (["x", -1.0],), "c": SCALAR},
     check=lambda r, k: (_design_contract(r, k), np.all(np.abs(r.e) <= k["cap"]),
                         np.all(k["y"] + r.e >= -1.0) and np.all(k["y"] + r.e <= 1.0)))


@st.composite
def robust_problem(draw):
    p = draw(tr_problem(psd=True))
    q = draw(tr_problem(psd=True).filter(lambda q: len(q["u"]) == len(p["u"])))
    return {"quadratics": [(p["M"], p["u"]), (q["M"], q["u"])], "radius": p["radius"]}


case(solvers.robust_design, call=solvers.robust_design, valid=SIZES.flatmap(
    lambda n: st.tuples(*[tr_problem(psd=True).filter(lambda q, n=n: True) for _ in range(1)])).flatmap(
    lambda t: st.just({"quadratics": [(t[0]["M"], t[0]["u"]), (t[0]["M"] * 0.5, t[0]["u"])], "radius": t[0]["radius"]})),
    examples=4, bad={"quadratics": ([[], 3.0, [(np.eye(2), np.ones(3))]],), "radius": SCALAR + ([-1.0],)},
    check=lambda r, k: np.linalg.norm(r.e) <= k["radius"] * (1 + 1e-9) + 1e-12)


@st.composite
def smoother_problem(draw):
    m, n = draw(SIZES), draw(SIZES)
    S = np.array(draw(st.lists(floats(-1, 1), min_size=m * n, max_size=m * n))).reshape(m, n)
    return {"S": S, "y": draw(vectors(n)), "f_Z": draw(vectors(m))}


def _quadratic(S, y, f_Z, as_operator=False):
    q = solvers.stealing_quadratic(S, y, f_Z, as_operator=as_operator)
    e = np.linspace(-1, 1, len(y))
    # the quadratic is the stealing error of the perturbed answers
    assert q.value(e) == pytest.approx(np.mean((S @ (y + e) - f_Z) ** 2), rel=1e-9, abs=1e-12)
    return q.u


case(solvers.stealing_quadratic, call=_quadratic,
     valid=st.tuples(smoother_problem(), kw(as_operator=st.booleans())).map(lambda t: {**t[0], **t[1]}),
     bad={"S": ARRAY, "y": ARRAY, "f_Z": ARRAY}, covers=(solvers.StealingQuadratic,))
case(solvers.kernel_ridge_smoother, call=solvers.kernel_ridge_smoother,
     valid=kw(X=points(d=2), Z=points(d=2, distinct=False), alpha=floats(1e-4, 1), gamma=floats(0.1, 3),
              kernel=st.sampled_from(["rbf", "poly", "laplacian"]), regularization=st.sampled_from(solvers.REGULARIZATIONS)),
     bad={"X": ARRAY, "Z": ARRAY, "alpha": SCALAR + ([-1.0],), "gamma": SCALAR + ([-1.0],),
          "regularization": (["x"],), "kernel": (["nope"],)},
     check=lambda r, k: r.shape == (len(k["Z"]), len(k["X"])))
case(solvers.order_disguise_direction, call=solvers.order_disguise_direction,
     valid=kw(x=points(), n_terms=st.integers(1, 3), basis=st.sampled_from(["monomial", "legendre"])),
     bad={"x": ARRAY, "n_terms": SCALAR + ([0],), "basis": (["x"],)},
     check=lambda r, k: np.linalg.norm(r) == pytest.approx(1.0))
case(solvers.check_memory, call=solvers.check_memory,
     valid=kw(n_bytes=st.integers(0, 10**6), what=st.just("a test"), max_memory=st.integers(10**6, 10**9)),
     bad={"n_bytes": SCALAR + ([-1],), "max_memory": SCALAR + ([-1.0],), "what": ([3.0],)},
     check=lambda r, k: r is None, covers=(solvers.available_memory,))
case(solvers.exact_memory_bytes, call=solvers.exact_memory_bytes, valid=kw(n=st.integers(1, 10**5)),
     bad={"n": SCALAR + ([0, -1],)}, check=lambda r, k: r >= 8 * k["n"] ** 2)

# ----- bounds --------------------------------------------------------------------------------
@st.composite
def smoother_bound(draw, with_sigma=True):
    p = draw(smoother_problem())
    out = {"S": p["S"], "y": p["y"], "f_Z": p["f_Z"]}
    if with_sigma:
        out["sigma"] = draw(floats(0.0, 2.0))
    return out


@st.composite
def moments_problem(draw):
    p = draw(smoother_problem())
    n = len(p["y"])
    A = np.array(draw(st.lists(floats(-1, 1), min_size=n * n, max_size=n * n))).reshape(n, n)
    return {**p, "mean": draw(vectors(n)), "cov": A @ A.T}


def _exact(r, k):
    assert r.value >= 0 and r.variance >= 0 and r.utility_loss >= 0
    e = np.random.default_rng(0).multivariate_normal(k["mean"], k["cov"], size=20000)
    mc = np.mean(np.mean((k["S"] @ (k["y"][None, :] + e).T - k["f_Z"][:, None]) ** 2, axis=0))
    assert r.value == pytest.approx(mc, rel=0.1, abs=0.05 * (1 + r.value))


case(bounds.exact_privacy_level, call=bounds.exact_privacy_level, valid=moments_problem(), examples=6,
     bad={"S": ARRAY, "y": ARRAY, "f_Z": ARRAY, "mean": ARRAY, "cov": ARRAY[:5] + ([-np.eye(3)],),
          "weights": (["x", [-1.0]],)},
     check=_exact, covers=(bounds.ExactPrivacyLevel,))
for _f in (bounds.iid_privacy_level, bounds.constant_shift_privacy_level):
    case(_f, call=_f, valid=smoother_bound(), bad={"S": ARRAY, "y": ARRAY, "f_Z": ARRAY, "sigma": SCALAR + ([-1.0],)},
         check=lambda r, k: r >= 0)
case(bounds.long_range_privacy_level, call=bounds.long_range_privacy_level,
     valid=st.tuples(smoother_bound(), kw(gamma=st.one_of(st.none(), floats(0.1, 1)))).map(lambda t: {**t[0], **t[1]}),
     bad={"S": ARRAY, "sigma": SCALAR + ([-1.0],), "gamma": SCALAR + ([0.0, 2.0],)}, check=lambda r, k: r >= 0)


@st.composite
def threat_draw(draw):
    n = draw(st.integers(6, 12))
    return {"threat_model": quad_game(n=n), "X": draw(points(n=n)), "Z": draw(points(distinct=False))}


case(bounds.conditional_privacy_level, call=bounds.conditional_privacy_level, valid=threat_draw(),
     bad={"X": ARRAY, "Z": ARRAY}, check=lambda r, k: r.value >= 0)
case(bounds.long_range_mean_variance, call=bounds.long_range_mean_variance,
     valid=kw(n=st.integers(1, 200), gamma=st.one_of(st.none(), floats(0.05, 1))),
     bad={"n": SCALAR + ([0, [1, 0]],), "gamma": SCALAR + ([0.0, 1.5],)}, check=lambda r, k: 0 < r <= 1)
case(bounds.least_squares_rate, call=bounds.least_squares_rate,
     valid=kw(sigma=floats(0, 3), p=st.integers(1, 5), n=st.integers(5, 1000)),
     bad={"sigma": SCALAR + ([-1.0],), "p": SCALAR + ([0],), "n": SCALAR + ([0],)},
     check=lambda r, k: r == pytest.approx(k["sigma"] ** 2 * k["p"] / k["n"]))
case(bounds.nonparametric_rate, call=bounds.nonparametric_rate,
     valid=kw(sigma=floats(0.01, 3), n=st.integers(1, 1000), smoothness=floats(0.1, 3)),
     bad={"sigma": SCALAR + ([0.0],), "n": SCALAR + ([0],), "smoothness": SCALAR + ([0.0],),
          "constant": SCALAR + ([0.0],)}, check=lambda r, k: r > 0)
case(bounds.long_range_rate, call=bounds.long_range_rate,
     valid=kw(sigma=floats(0, 3), n=st.integers(1, 300), gamma=floats(0.05, 1), asymptotic=st.booleans()),
     bad={"sigma": SCALAR + ([-1.0],), "n": SCALAR + ([0],), "gamma": SCALAR + ([0.0],)}, check=lambda r, k: r >= 0)
case(bounds.tuned_series_privacy_level, call=bounds.tuned_series_privacy_level,
     valid=kw(n=st.integers(3, 60), sigma=floats(0.05, 2), smoothness=floats(0.6, 3), n_eval=st.integers(1, 100)),
     bad={"n": SCALAR + ([2],), "sigma": SCALAR + ([0.0],), "smoothness": SCALAR + ([0.5],),
          "n_eval": SCALAR + ([0],), "max_terms": SCALAR + ([0],)},
     check=lambda r, k: r[0] >= 0 and 1 <= r[1] < k["n"])


def _frontier(r, k):
    assert np.all(r.certified) and np.all(r.privacy_level >= r.approximation - 1e-12)
    assert np.all(np.diff(r.privacy_level) >= -1e-12)  # more budget, more privacy


case(bounds.privacy_frontier, call=bounds.privacy_frontier,
     valid=st.tuples(smoother_bound(with_sigma=False), kw(budgets=st.lists(floats(0.01, 3), min_size=1, max_size=4)
                                                         .map(sorted))).map(lambda t: {**t[0], **t[1]}),
     bad={"S": ARRAY, "y": ARRAY, "f_Z": ARRAY, "budgets": ARRAY + ([[0.0], -1.0],),
          "certificate_tol": SCALAR + ([-1.0],)},
     check=_frontier, covers=(bounds.Frontier,))
case(bounds.privacy_ceiling, call=bounds.privacy_ceiling,
     valid=st.tuples(smoother_bound(with_sigma=False), kw(budgets=floats(0.01, 3))).map(lambda t: {**t[0], **t[1]}),
     bad={"S": ARRAY, "y": ARRAY, "f_Z": ARRAY, "budgets": SCALAR + ([0.0],)}, check=lambda r, k: r >= 0)


def _basis(P):
    return np.column_stack([np.ones(len(P)), P[:, 0]])


case(bounds.minimax_lower_bound, call=bounds.minimax_lower_bound,
     valid=kw(budgets=floats(0.01, 3), basis=st.just(_basis), X=points(), Z=points(distinct=False)),
     bad={"budgets": SCALAR + ([0.0],), "X": ARRAY, "Z": ARRAY, "basis": ([3.0],)},
     check=lambda r, k: r >= k["budgets"] * (1 - 1e-9))
case(bounds.two_point_games, call=bounds.two_point_games,
     valid=kw(threat_model=st.just(quad_game()), budget=floats(0.01, 2)),
     bad={"budget": SCALAR + ([0.0],), "threat_model": ([3.0],)},
     check=lambda r, k: len(r) == 2)

# ----- threat models, games, simulation ----------------------------------------------------
def _tm(n, n_eval, sigma):
    return threat.ThreatModel(target=TARGET, queries=queries.UniformQueries(), n=n, defense=defenses.IIDNoise(sigma),
                              attacker=attacks.OLSRegression(3), n_eval=n_eval)


case(threat.ThreatModel, call=_tm, valid=kw(n=st.integers(3, 50), n_eval=st.integers(1, 50), sigma=SIGMAS),
     bad={"n": SCALAR + ([0, 2],), "n_eval": SCALAR + ([0],)}, covers=(threat.Game,),
     check=lambda r, k: r.n == k["n"])


def _server(X, sigma, rng):
    s = threat.Server(TARGET, defenses.IIDNoise(sigma), rng=rng)
    return s.answer(X)


case(threat.Server, call=_server, valid=kw(X=points(), sigma=SIGMAS, rng=seeds()), bad={"X": ARRAY, "rng": (["x"],)},
     check=lambda r, k: r.shape == (len(k["X"]),))
case(threat.attacker_min_queries, call=threat.attacker_min_queries,
     valid=kw(attacker=st.sampled_from([attacks.OLSRegression(3), attacks.PolynomialRegression(), attacks.KernelRidgeAttacker()])),
     check=lambda r, k: r >= 1)
case(threat.needs_attacker, call=threat.needs_attacker, valid=kw(hook=st.just(lambda draw: 1.0)),
     check=lambda r, k: r in (True, False))
case(threat.hook_fields, call=threat.hook_fields, valid=kw(name=st.sampled_from(["a", "b"]), hook=st.just(lambda d: 1.0)),
     bad={"name": ([3.0, ""],)})


def _classification_tm(n):
    return threat.ClassificationThreatModel(victim=_victim(), n=n)


case(threat.ClassificationThreatModel, call=_classification_tm, valid=kw(n=st.integers(10, 50)),
     bad={"n": SCALAR + ([0],)}, examples=3, check=lambda r, k: r.n == k["n"])
for _g in (games.poly_game, games.krr_game):
    case(_g, call=_g, valid=kw(n=st.integers(12, 60), sigma=SIGMAS, defense=st.sampled_from(["iid", "none", "constant"])),
         bad={"n": SCALAR + ([0],), "sigma": SCALAR + ([-1.0, 1e200],), "defense": (["nope", 3.0],)},
         check=lambda r, k: r.n == k["n"])
case(games.lasso_game, call=games.lasso_game, valid=kw(n=st.integers(12, 60), d=st.integers(6, 12), rho=floats(-0.5, 0.9)),
     bad={"n": SCALAR + ([0],), "d": SCALAR + ([0],), "rho": SCALAR + ([1.0],)}, check=lambda r, k: r.n == k["n"])
case(games.lasso_coef, call=games.lasso_coef, valid=kw(d=st.integers(5, 100)), bad={"d": SCALAR + ([0, 3],)},
     check=lambda r, k: r.shape == (k["d"],))
case(games.game_defenses, call=games.game_defenses, valid=kw(game=st.sampled_from(sorted(games.GAMES)), sigma=SIGMAS),
     bad={"game": (["nope"],), "sigma": SCALAR + ([-1.0],)}, check=lambda r, k: len(r) > 0)
case(games.make_game, call=games.make_game, valid=kw(name=st.sampled_from(sorted(games.GAMES))),
     bad={"name": (["nope", 3.0],)})
case(games.classification_attackers, call=games.classification_attackers,
     valid=kw(C=floats(0.1, 10), mlp=st.booleans(), tol=floats(1e-6, 1e-2)),
     bad={"C": SCALAR + ([0.0],), "tol": SCALAR + ([0.0],), "mlp": (["x"],)})
case(games.calibrated_defenses, call=games.calibrated_defenses,
     valid=kw(P_benign=probabilities(n=60, K=3), utilities=st.just((0.05, 0.1))), examples=3,
     bad={"P_benign": ARRAY, "utilities": ([(0.0,), (1.5,), "x"],), "seed": SCALAR[2:] + ([-1],)})


def _cells(which, **kwargs):
    v = _victim()
    if which == "agreement":
        return games.agreement_budget_cells(v, {"none": defenses.NoPostprocessing()},
                                            {"soft": games.classification_attackers(mlp=False)["soft"]}, **kwargs)
    if which == "table":
        return games.classification_table_cells(v, **kwargs)
    return games.equation_solving_cells(v, {"none": defenses.NoPostprocessing()}, **kwargs)


case(games.agreement_budget_cells, call=lambda budgets: _cells("agreement", budgets=budgets),
     valid=kw(budgets=st.lists(st.integers(10, 100), min_size=1, max_size=3, unique=True).map(sorted)), examples=3,
     bad={"budgets": ([[0], "x", [2.5]],)}, check=lambda r, k: len(r) >= 1)
case(games.classification_table_cells, call=lambda budgets: _cells("table", budgets=budgets, utilities=(0.05,)),
     valid=kw(budgets=st.lists(st.integers(20, 100), min_size=1, max_size=2, unique=True).map(sorted)), examples=2,
     bad={"budgets": ([[0], "x"],)}, check=lambda r, k: len(r) >= 1)
case(games.equation_solving_cells, call=lambda scale: _cells("eq", scale=scale),
     valid=kw(scale=floats(0.1, 3)), examples=3, bad={"scale": SCALAR + ([0.0, -1.0],)})


def _simulate(reps, seed, sigma):
    return simulate.simulate(quad_game(sigma=sigma), reps=reps, seed=seed)


case(simulate.simulate, call=_simulate, valid=kw(reps=st.integers(1, 3), seed=st.integers(0, 100), sigma=SIGMAS),
     bad={"reps": SCALAR + ([0],), "seed": SCALAR[:4] + ([-1],)}, examples=4,
     check=lambda r, k: np.all(r.column("stealing_error") >= 0), covers=(simulate.Results, simulate.CellStatus))
case(simulate.sweep, call=lambda reps, seed: simulate.sweep([simulate.Cell(quad_game())], reps=reps, seed=seed,
                                                             progress=False),
     valid=kw(reps=st.integers(1, 3), seed=st.integers(0, 100)), examples=3,
     bad={"reps": SCALAR + ([0],), "seed": SCALAR[:4] + ([-1],)}, covers=(simulate.Cell,))
case(simulate.grid, call=lambda n, sigma: simulate.grid(quad_game(), defenses={"iid": defenses.IIDNoise()}, n=n,
                                                        sigma=sigma),
     valid=kw(n=st.lists(st.integers(12, 40), min_size=1, max_size=3), sigma=st.lists(SIGMAS, min_size=1, max_size=2)),
     bad={"n": ([[0], "x"],), "sigma": ([[-1.0], [math.nan]],)}, check=lambda r, k: len(r) == len(k["n"]) * len(k["sigma"]))
case(simulate.replication_streams, call=simulate.replication_streams,
     valid=kw(seed=st.integers(0, 10**6), rep=st.integers(0, 1000)), bad={"seed": SCALAR[:4] + ([-1],),
                                                                          "rep": SCALAR[:4] + ([-1],)})
case(simulate.Precision, call=lambda **p: simulate.Precision(**p),
     valid=kw(rel_half_width=floats(0.01, 0.5), min_reps=st.integers(3, 10)),
     bad={"rel_half_width": SCALAR + ([-1.0],), "min_reps": SCALAR + ([0],)})

# ----- verification --------------------------------------------------------------------------
case(verify.verify, call=lambda reps, seed: verify.verify(verify.exact_bound(), [quad_game()], reps=reps, seed=seed),
     valid=kw(reps=st.integers(3, 4), seed=st.integers(0, 100)), examples=3,
     bad={"reps": SCALAR + ([0],), "seed": SCALAR[:4] + ([-1],)},
     covers=(verify.Verification, verify.VerificationRow, verify.Bound, verify.exact_bound))
case(verify.verify_two_point, call=lambda budgets: verify.verify_two_point([quad_game()], budgets, reps=3),
     valid=kw(budgets=st.lists(floats(0.05, 1), min_size=1, max_size=2)), examples=3,
     bad={"budgets": ([[0.0], "x", [math.nan]],)})


@st.composite
def slope_data(draw):
    n = np.array(sorted(draw(st.lists(st.integers(10, 10**4), min_size=3, max_size=6, unique=True))), dtype=float)
    slope = draw(floats(-2, 1))
    return {"n": n, "values": n**slope * draw(floats(0.1, 10))}


case(verify.fit_slope, call=verify.fit_slope, valid=slope_data(), bad={"n": ARRAY + ([[-1.0, 2.0, 3.0]],),
                                                                       "values": ARRAY + ([[0.0, 1.0, 2.0]],)},
     check=lambda r, k: r[0] == pytest.approx(np.log(k["values"][1] / k["values"][0]) / np.log(k["n"][1] / k["n"][0]),
                                              abs=1e-6))
case(verify.check_slope, call=lambda n, values: verify.check_slope(n, values, -1.0), valid=slope_data(),
     bad={"n": ARRAY, "values": ARRAY}, covers=(verify.RateCheck,))
case(verify.verify_rate, call=lambda ns, reps: verify.verify_rate(quad_game(), ns, -1.0, reps=reps),
     valid=kw(ns=st.just([12, 24, 48]), reps=st.integers(2, 3)), examples=2, bad={"ns": ([[0, 1], "x", [12]],)},
     finite=False, check=lambda r, k: np.all(np.isfinite(r.values)) and np.all(r.low <= r.values))
case(verify.defense_points, call=lambda reps: verify.defense_points(
    quad_game(), {"iid": defenses.IIDNoise(0.3), "constant": defenses.ConstantShift(0.3)}, reps=reps),
     valid=kw(reps=st.integers(3, 4)), examples=2, bad={"reps": SCALAR + ([0],)})

# ----- victims -------------------------------------------------------------------------------
case(victims.load_task, call=victims.load_task, valid=kw(name=st.sampled_from(["binary", "digits"]), random_state=seeds()),
     bad={"name": (["nope", 3.0],), "random_state": (["x", -1],)}, examples=3, covers=(victims.ClassificationTask,))
case(victims.make_victim, call=victims.make_victim, valid=kw(task=st.just("binary"), model=st.just("logreg")),
     bad={"task": (["nope"],), "model": (["nope"],), "C": SCALAR + ([0.0],)}, examples=2, covers=(victims.Victim,),
     check=lambda r, k: 0.5 <= r.accuracy() <= 1.0)

# ----- symbolic ------------------------------------------------------------------------------
case(symbolic.iid_least_squares_privacy_level, call=symbolic.iid_least_squares_privacy_level,
     # the sizes whose sympy derivation takes a second (n = 4, p = 3 takes minutes)
     valid=st.sampled_from([(2, 1), (3, 1), (3, 2), (4, 2)]).map(lambda t: {"n": t[0], "p": t[1]}), examples=3,
     bad={"n": SCALAR + ([0],), "p": SCALAR + ([0],)}, covers=(symbolic.SymbolicForm,))
case(symbolic.constant_shift_privacy_level, call=symbolic.constant_shift_privacy_level,
     valid=kw(m=st.integers(1, 4)), bad={"m": SCALAR + ([0],)}, examples=3)
case(symbolic.long_range_mean_variance, call=symbolic.long_range_mean_variance,
     valid=kw(parity=st.sampled_from(["even", "odd"])), bad={"parity": (["x", 3],)}, examples=2)
case(symbolic.long_range_mean_variance_asymptotic, call=symbolic.long_range_mean_variance_asymptotic,
     valid=kw(refined=st.booleans()), bad={"refined": (["x"],)}, examples=2)
case(symbolic.expected_quadratic, call=lambda A, mean, cov_factor: symbolic.expected_quadratic(A, mean, cov_factor),
     valid=kw(A=st.just(np.eye(2)), mean=vectors(2), cov_factor=st.just(np.eye(2))), examples=3,
     bad={"A": ARRAY[:5], "mean": ARRAY[:4]})
for _f in (symbolic.reverse_sigmoid_monotone, symbolic.reverse_sigmoid_decreasing_set):
    case(_f, call=_f, valid=kw(beta_value=floats(0.05, 1), gamma_value=floats(0.05, 1)), examples=3, finite=False,
         bad={"beta_value": SCALAR + ([0.0],), "gamma_value": SCALAR + ([-1.0],)})

# ----- figures: bad arguments are refused before any run ----------------
for _name in ("clf_agreement_budget", "clf_table", "clf_equation_solving", "clf_reverse_sigmoid_kl",
              "clf_privacy_utility"):
    _f = getattr(figures_clf, _name)
    case(_f, call=_f, valid=None, bad={"reps": SCALAR + ([0],), "seed": SCALAR[:4] + ([-1],)},
         covers=(figures.FigureOutput,))
case(figures_clf.reverse_sigmoid_utility, call=figures_clf.reverse_sigmoid_utility,
     valid=kw(P=probabilities(n=20)), bad={"P": ARRAY}, examples=3)
case(figures_clf.summarise_budget_curves, call=figures_clf.summarise_budget_curves, valid=None,
     bad={"rows": ([3.0],)})
case(figures_clf.format_table, call=figures_clf.format_table, valid=None, bad={"rows": ([3.0],)})
case(figures_regression.figure_cells, call=figures_regression.figure_cells,
     valid=kw(name=st.sampled_from(["krr_n", "poly_n_AIC"]), quick=st.just(True)), bad={"name": (["nope"],)}, examples=2)
case(figures_regression.figure_precision, call=figures_regression.figure_precision,
     valid=kw(name=st.sampled_from(["krr_n", "poly_n_AIC"])), bad={"name": (["nope"],)}, examples=2)
case(figures_regression.krr_frontier, call=figures_regression.krr_frontier,
     valid=kw(utility_losses=st.lists(floats(0.01, 0.5), min_size=1, max_size=3), n=st.integers(10, 20),
              draws=st.integers(1, 2)), examples=2,
     bad={"utility_losses": ([[0.0], "x"],), "n": SCALAR + ([0],), "draws": SCALAR + ([0],)})
case(figures.get_figure, call=figures.get_figure, valid=kw(name=st.sampled_from(sorted(figures.FIGURES))),
     bad={"name": (["nope", 3.0],)}, check=lambda r, k: callable(r))
case(figures.register, call=figures.register, valid=None, bad={"name": ([3.0, ""],)})

# ----- defense-aware regression attackers ----------------------------------------------------
@st.composite
def repeated_data(draw):
    """Queries asked ``k`` times each (rows tiled), noisy answers, evaluation points."""
    m, k = draw(st.integers(4, 8)), draw(st.integers(1, 3))
    X = np.tile(draw(points(n=m)), (k, 1))
    return {"X": X, "y": TARGET(X) + draw(vectors(m * k, -0.1, 0.1)), "Z": draw(points(distinct=False))}


def _repeat_averaging(X, y, Z, estimator=None):
    att = attacks.RepeatAveraging(estimator).fit(X, y)
    pred = att.predict(Z)
    assert att.n_distinct_ == np.unique(X[:, 0]).size
    if estimator is not None:   # a linear-smoother learner: the copy is S y with S = S_m A
        np.testing.assert_allclose(att.smoother_matrix(X, Z) @ y, pred, atol=1e-6 * (1 + np.abs(pred).max()))
    return pred, att.repeat_spread_


def _spread(r, k):
    pred, spread = r
    assert np.all(np.isfinite(pred)) and pred.shape == (len(k["Z"]),)
    # NaN exactly when no query was repeated (documented)
    assert (np.isnan(spread) and np.unique(k["X"][:, 0]).size == len(k["X"])) or spread >= 0.0


case(attacks.RepeatAveraging, call=_repeat_averaging,
     valid=st.tuples(repeated_data(), kw(estimator=st.sampled_from([None, attacks.OLSRegression(2),
                                                                   attacks.KernelRidgeAttacker(gamma=1.0)])))
     .map(lambda t: {**t[0], **t[1]}),
     bad={"X": ARRAY, "y": ARRAY, "Z": ARRAY, "estimator": ([3.0, "x"],)}, finite=False, check=_spread,
     owner="RepeatAveraging", params=("estimator",))


_CANDIDATES = [("ols1", attacks.OLSRegression(1)), ("ols2", attacks.OLSRegression(2)),
               ("krr", attacks.KernelRidgeAttacker(gamma=1.0))]


def _cv_attacker(X, y, Z, cv, candidates=_CANDIDATES, random_state=0):
    att = attacks.CrossValidatedAttacker(candidates, cv=cv, random_state=random_state).fit(X, y)
    s = att.cv_scores_
    assert np.all(s >= 0) and att.best_name_ == att.names_[att.best_index_]
    assert s[att.best_index_] <= s.min() + 1e-12 * max(float(y @ y) / len(y), 1e-300)   # the minimiser
    return att.predict(Z)


case(attacks.CrossValidatedAttacker, call=_cv_attacker,
     valid=st.tuples(regression_data(), kw(cv=st.sampled_from([2, 3, "loo"]))).map(lambda t: {**t[0], **t[1]}),
     bad={"X": ARRAY, "y": ARRAY, "Z": ARRAY, "cv": SCALAR + ([1, "x"],), "candidates": ([[], [3.0], 3.0],),
          "random_state": (["x", -1, 1.5],)},
     check=lambda r, k: r.shape == (len(k["Z"]),), owner="CrossValidatedAttacker",
     params=("cv", "candidates", "random_state"))
_NOISES = st.sampled_from([None, defenses.IIDNoise(0.2), defenses.ConstantShift(0.2), defenses.LongRangeNoise(0.2)])
attacker_case(attacks.GLSRegression, {"n_terms": st.integers(1, 4), "noise": _NOISES,
                                      "basis": st.sampled_from(features.BASES)},
              {"n_terms": SCALAR + ([0],), "noise": ([3.0],), "basis": (["x"],), "interval": ([(1.0, 0.0)],)})
# a rank-one covariance (the constant shift) regularises one direction only: K + alpha Sigma is then as
# ill-conditioned as the Gram matrix K, and S y and the fit differ by its round-off
_FULL_RANK = st.sampled_from([None, defenses.IIDNoise(0.2), defenses.LongRangeNoise(0.2)])
attacker_case(attacks.GLSKernelRidge, {"kernel": st.sampled_from(["rbf", "laplacian"]), "alpha": floats(1e-3, 1.0),
                                       "gamma": floats(0.1, 3), "noise": _FULL_RANK,
                                       "solver": st.sampled_from(["pinv", "solve"])},
              {"alpha": SCALAR + ([-1.0],), "noise": ([3.0],), "kernel": (["nope"],)})
attacker_case(attacks.TruncatedPolynomialRegression, {"p_max": st.one_of(st.none(), st.integers(1, 4)),
                                                      "refuse": st.integers(0, 3),
                                                      "criterion": st.sampled_from(attacks.CRITERIA)},
              {"refuse": SCALAR + ([-1],), "p_max": SCALAR + ([0],), "criterion": (["x"],)})


@st.composite
def known_defense_data(draw):
    n = draw(st.integers(6, 12))
    X = draw(points(n=n))
    k = draw(st.integers(1, 3))
    defense = draw(st.sampled_from([None, defenses.ConstantShift(0.3), defenses.IIDNoise(0.3),
                                    defenses.OrderDisguise(0.3), defenses.LongRangeNoise(0.3)]))
    y = TARGET(X)
    Y = y if defense is None else defense.respond(X, y, rng=draw(seeds()), target=TARGET)
    return {"X": X, "y": Y, "Z": draw(points(distinct=False)), "defense": defense, "owned_X": X[:k],
            "owned_y": y[:k], "n_directions": draw(st.integers(1, 3))}


def _known_defense(X, y, Z, **p):
    att = attacks.KnownDefenseAttacker(**{"random_state": 0, **p}).fit(X, y)
    k = len(p["owned_X"])
    assert att.n_owned_ == k
    if p["defense"] is not None:   # universal kriging returns the observed residuals on the owned queries
        np.testing.assert_allclose(att.perturbation_[:k], y[:k] - p["owned_y"], atol=1e-9)
    if isinstance(p["defense"], defenses.ConstantShift):   # one owned point removes a constant shift exactly
        np.testing.assert_allclose(y - att.perturbation_, TARGET(X), atol=1e-9)
    return att.predict(Z)


case(attacks.KnownDefenseAttacker, call=_known_defense, valid=known_defense_data(),
     bad={"X": ARRAY, "y": ARRAY, "Z": ARRAY, "owned_X": ARRAY, "owned_y": ARRAY, "n_directions": SCALAR + ([0],),
          "defense": ([3.0],), "estimator": ([3.0],), "random_state": (["x", -1],)},
     check=lambda r, k: r.shape == (len(k["Z"]),), owner="KnownDefenseAttacker",
     params=("owned_X", "owned_y", "n_directions", "defense", "estimator", "random_state"))


def _candidates_contract(r, k):
    names = [name for name, _ in r]
    assert len(set(names)) == len(names) == 24 + 4
    assert all(callable(getattr(est, "fit", None)) and callable(getattr(est, "predict", None)) for _, est in r)
    assert sum(attacks.is_linear_smoother(est) for _, est in r) == 24   # the Lasso and ridge pipelines are not


case(attacks.default_candidates, call=attacks.default_candidates, valid=kw(), check=_candidates_contract, examples=1)


def _group_repeats(r, k):
    distinct, mean, counts, inverse = r
    np.testing.assert_array_equal(distinct[inverse], k["X"])
    assert counts.sum() == len(k["X"])
    for i in range(len(distinct)):
        assert mean[i] == pytest.approx(np.mean(k["y"][inverse == i]), abs=1e-12)


case(attacks.group_repeats, call=attacks.group_repeats,
     valid=repeated_data().map(lambda d: {"X": d["X"], "y": d["y"]}), bad={"X": ARRAY, "y": ARRAY},
     check=_group_repeats)


@st.composite
def kriging_problem(draw):
    n = draw(SIZES)
    k = draw(st.integers(1, n))
    owned = np.sort(np.array(draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))))
    kind = draw(st.sampled_from(["directions", "cov", "both", "none"]))
    j = draw(st.integers(1, 2))
    A = np.array(draw(st.lists(floats(-1, 1), min_size=n * n, max_size=n * n))).reshape(n, n)
    D = np.linalg.qr(A[:, :j] + np.eye(n)[:, :j])[0] if kind in ("directions", "both") else None
    C = A @ A.T / n + np.eye(n) * 0.1 if kind in ("cov", "both") else None
    return {"residuals": draw(vectors(k)), "owned": owned, "model": defenses.PerturbationModel(D, C), "n": n}


def _kriging(r, k):
    e_hat, coef = r
    assert e_hat.shape == (k["n"],)
    np.testing.assert_allclose(e_hat[k["owned"]], k["residuals"])   # exact on the owned queries
    D = k["model"].directions
    assert coef.shape == ((0,) if D is None else (D.shape[1],))
    if k["model"].cov is None and D is None:
        assert np.all(np.delete(e_hat, k["owned"]) == 0.0)


case(attacks.universal_kriging, call=attacks.universal_kriging, valid=kriging_problem(),
     bad={"residuals": ARRAY + ([[1.0] * 20],), "owned": ([[-1], [1.5], "x", [10**6], [[0]], [0, 0]],),
          "model": ([3.0, None],), "n": SCALAR + ([0],)},
     check=_kriging)


# ----- the defense's known form and the online design ---------------------------------------
@st.composite
def perturbation_model(draw):
    n = draw(SIZES)
    j = draw(st.integers(1, 3))
    D = np.array(draw(st.lists(floats(-1, 1), min_size=n * j, max_size=n * j))).reshape(n, j)
    A = np.array(draw(st.lists(floats(-1, 1), min_size=n * n, max_size=n * n))).reshape(n, n)
    return {"directions": draw(st.sampled_from([None, D])), "cov": draw(st.sampled_from([None, A @ A.T]))}


def _same_model(r, k):
    for name in ("directions", "cov"):
        got, want = getattr(r, name), k[name]
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(got, want)


case(defenses.PerturbationModel, call=defenses.PerturbationModel, valid=perturbation_model(),
     bad={"directions": ARRAY, "cov": ARRAY + ([[[1.0, 0.9], [0.0, 1.0]], -np.eye(2), [[1.0, 2.0], [2.0, 1.0]]],)},
     check=_same_model)
defense_case(defenses.PerturbationFunctionDesign,
             {"sigma": floats(0.05, 1.0), "n_design": st.integers(5, 20), "n_mc": st.integers(1, 2),
              "n_emp": st.integers(10, 30), "n_terms": st.integers(2, 4), "n_quad": st.integers(8, 32),
              "basis": st.sampled_from(features.BASES), "random_state": st.integers(0, 100)},
             {"interval": ([(1.0, 0.0), (0.0, math.nan), "ab", (0.0, math.inf), 3.0],), "n_mc": SCALAR + ([0],),
              "n_terms": SCALAR + ([0],), "basis": (["x"],), "attacker": ([3.0],), "queries": ([3.0],),
              "n_quad": SCALAR + ([0],), "random_state": (["x", -1, 1.5],)}, examples=8)

# ----- query strategies of the aware attackers -----------------------------------------------
query_case(queries.RepeatedQueries, {"repeats": st.integers(1, 4), "schedule": st.sampled_from(["rounds", "batch"])},
           {"repeats": SCALAR + ([0],), "schedule": (["x"],), "base": ([3.0],)}, interactive=True,
           check=lambda r, k: len(r) == k["n"] and np.unique(r[:, 0]).size <= -(-k["n"] // k["repeats"]))


def _owned_points(r, k):
    q = queries.OwnedPointQueries(points=k["points"])
    assert len(r) == k["n"]
    np.testing.assert_array_equal(r[q.positions(k["n"])], k["points"])


query_case(queries.OwnedPointQueries, {"points": st.integers(1, 2).flatmap(lambda m: points(n=m))},
           {"points": ARRAY, "base": ([3.0],)}, check=_owned_points)

# ----- round games ---------------------------------------------------------------------------
def _stream(r, k):
    assert isinstance(r, np.random.SeedSequence) and r.entropy == k["seed"]
    assert r.spawn_key == ((k["rep"], 0) if k["t"] is None else (k["rep"], 1, k["t"]))


case(threat.round_stream, call=threat.round_stream,
     valid=kw(seed=st.integers(0, 2**32), rep=st.integers(0, 100), t=st.one_of(st.none(), st.integers(0, 20))),
     bad={"seed": SCALAR + ([-1, 1.5],), "rep": SCALAR + ([-1, 1.5],), "t": (["x", -1, 1.5, math.nan],)},
     check=_stream)


def _family(r, k):
    names = [name for name, _ in r]
    assert len(set(names)) == len(names) >= 2 and all(attacks.is_linear_smoother(a) for _, a in r)


case(games.game_attacker_family, call=games.game_attacker_family, valid=kw(game=st.sampled_from(["poly", "krr"])),
     bad={"game": (["nope", 3.0],)}, check=_family)


def _aware(r, k):
    assert r and all(hasattr(a, "fit") and hasattr(q, "sample") for a, q in r.values())
    assert {f"repeat_k{j}" for j in k["repeats"]} <= set(r)


case(games.game_aware_attackers, call=games.game_aware_attackers,
     valid=kw(game=st.sampled_from(["poly", "krr"]),
              defense=st.sampled_from([defenses.IIDNoise(0.3), defenses.ConstantShift(0.3),
                                       defenses.LongRangeNoise(0.3), defenses.OrderDisguise(0.3)]),
              n_owned=st.integers(1, 5), owned_seed=st.integers(0, 100),
              repeats=st.lists(st.integers(2, 5), min_size=0, max_size=2, unique=True)),
     bad={"game": (["nope", 3.0],), "defense": ([3.0],), "n_owned": SCALAR + ([0],),
          "owned_seed": SCALAR + ([-1],), "repeats": ([[1], "x", [2.5], 3.0],)},
     check=_aware, examples=10)

# ----- ratio of paired means -------------------------------------------------------------------
@st.composite
def paired(draw):
    n = draw(st.integers(2, 9))
    return {"numerator": draw(vectors(n, 0.0, 3.0)), "denominator": draw(vectors(n, 0.5, 3.0)),
            "confidence": draw(floats(0.5, 0.99))}


def _ratio(r, k):
    assert r.low <= r.ratio <= r.high and r.std_err >= 0 and r.reps == len(k["numerator"])
    assert r.ratio == pytest.approx(np.mean(k["numerator"]) / np.mean(k["denominator"]))


case(metrics.ratio_interval, call=metrics.ratio_interval, valid=paired(),
     bad={"numerator": ARRAY + ([[1.0]],), "denominator": ARRAY + ([[1.0]],), "confidence": SCALAR + ([0.0, 1.0],)},
     check=_ratio, covers=(metrics.RatioInterval,))

# ----- the stealing arms race ------------------------------------------------------------------
_RACE_FAMILY = (("ols2", attacks.OLSRegression(2)), ("ols3", attacks.OLSRegression(3)),
                ("krr", attacks.KernelRidgeAttacker(gamma=3.0)))
_TINY_STEALING = dict(game="poly", n=12, reps=2, n_emp=20, n_eval=30, family=_RACE_FAMILY)


def _raw_rounds(race, seed):
    """The records of ``race.step`` round by round until the state says stop (no engine bookkeeping)."""
    state = race.init_state(seed)
    out = []
    while not state.stopped:
        state, rec = race.step(state, threat.round_stream(0, 0, state.round))
        out.append(rec)
    return out


def _stealing_race(seed=0, **p):
    race = stealing_race.StealingArmsRace(**{**_TINY_STEALING, **p})
    out = _raw_rounds(race, seed)
    assert set(out[-1]) == set(race.record_fields) | set(race.text_fields) - {"round"}
    return out


def _race_record(rec, names):
    """Numbers finite (NaN by contract: a member outside the pool has no single design), worst cases ordered."""
    for key, v in rec.items():
        if isinstance(v, float) and not key.startswith("single_worst_case_"):
            assert math.isfinite(v), (key, v)
    assert rec["worst_case_family"] <= rec["worst_case_pool"] + 1e-12
    assert rec["worst_case_pool"] >= 0 and rec["chosen"] in names
    assert rec["gap"] >= -1e-6 * (1 + rec["worst_case_pool"])   # a relaxation bound, to the conic solver's tolerance


def _stealing_contract(r, k):
    names = [name for name, _ in k.get("family", _RACE_FAMILY)]
    for rec in r:
        _race_record(rec, names)
        assert rec["utility_loss"] == pytest.approx(k.get("sigma", 0.5) ** 2, rel=1e-9)
    assert len(r) <= k.get("max_rounds", 6)


case(stealing_race.StealingArmsRace, call=_stealing_race,
     valid=kw(seed=st.integers(0, 100), sigma=floats(0.1, 1.0), max_rounds=st.integers(1, 3),
              cv=st.sampled_from([2, "loo"]), initial=st.sampled_from([None, "ols3"])),
     bad={"game": (["nope", 3.0],), "n": SCALAR + ([1],), "sigma": SCALAR + ([0.0, -1.0, 1e200],),
          "family": ([[], [3.0], [("a", 3.0)], [("a", attacks.OLSRegression(2))] * 2],),
          "initial": (["nope", 3.0],), "reps": SCALAR + ([0],), "max_rounds": SCALAR + ([0],),
          "n_emp": SCALAR + ([0],), "n_eval": SCALAR + ([0],), "cv": ([1, "x"],), "conic_solver": (["x"],),
          "n_samples": SCALAR + ([0],), "seed": (["x", -1, 1.5],)},
     finite=False, check=_stealing_contract, examples=4,
     covers=(stealing_race.StealingArmsRaceState, threat.RoundGame), owner="StealingArmsRace",
     names={"family": "family"})


def _evaluate_pool(spec, pool, seed=0):
    return stealing_race.evaluate_pool(spec, pool, seed)


case(stealing_race.evaluate_pool, call=_evaluate_pool,
     valid=kw(spec=st.just(stealing_race.StealingArmsRace(**_TINY_STEALING)),
              pool=st.lists(st.sampled_from(["ols2", "ols3", "krr"]), min_size=1, max_size=3, unique=True),
              seed=st.integers(0, 100)),
     bad={"spec": ([3.0],), "pool": ([[], ["nope"], ["ols2", "ols2"], 3.0],), "seed": (["x", -1, 1.5],)},
     finite=False, check=lambda r, k: _race_record(r, ["ols2", "ols3", "krr"]), examples=4)

# ----- figures of responsive stealing ------------------------------------------------------------
def _tiny_design():
    if not hasattr(_tiny_design, "d"):
        _tiny_design.d = defenses.PerturbationFunctionDesign(0.5, n_design=10, n_mc=1, n_emp=20, n_terms=3,
                                                             n_quad=16).fit(TARGET)
    return _tiny_design.d


def _function_cost(X, e, own=False, design=None):
    e = _tiny_design().perturbation_function(X) if own else e
    design = _tiny_design() if design is None else design
    y = TARGET(X)
    draw = type("Draw", (), {"X": X, "y": y, "Y": y + e})()
    return figures_responsive.FunctionClassCost(design)(draw)


def _cost(r, k):
    assert r["utility"] >= 0 and -1e-12 <= r["share"] <= 1 + 1e-9
    if k["own"]:   # the design's own answers: share 1, population utility sigma^2
        assert r["share"] == pytest.approx(1.0) and r["utility"] == pytest.approx(0.25, rel=1e-6)


case(figures_responsive.FunctionClassCost, call=_function_cost,
     valid=SIZES.flatmap(lambda n: kw(X=points(n=n), e=vectors(n, 0.1, 1.0), own=st.booleans())),
     bad={"design": ([3.0, defenses.PerturbationFunctionDesign(0.5)],)}, check=_cost)


def _figure_cells(r, k, game_type=None):
    cells = r[0] if isinstance(r, tuple) else r
    assert cells and all(isinstance(c, simulate.Cell) for c in cells)
    for c in cells:
        if game_type is not None:
            assert isinstance(c.game, game_type)
        if hasattr(c.game, "_validate_params"):   # every spec is valid (not only when it is played)
            c.game._validate_params()


for _f, _kind in ((figures_responsive.pl_vs_u_cells, None), (figures_responsive.online_vs_batch_cells, None),
                  (figures_responsive.arms_race_cells, stealing_race.StealingArmsRace)):
    case(_f, call=_f, valid=kw(quick=st.just(True)), bad={"quick": (["x", 3.0, None],)},
         check=lambda r, k, _kind=_kind: _figure_cells(r, k, _kind), examples=1)


def _pl_records(draw, reps, sigma):
    recs = []
    for attacker in ("known", "a1", "a2"):
        for rep in range(reps):
            recs.append({"game": "poly", "defense": "iid", "sigma": sigma, "attacker": attacker, "rep": rep,
                         "stealing_error": draw(floats(0.01, 2.0)), "utility_loss": sigma**2})
    return recs


@st.composite
def pl_results(draw):
    return {"res": simulate.Results(_pl_records(draw, draw(st.integers(4, 6)), draw(st.sampled_from([0.3, 0.5]))))}


def _pl_rows(r, k):
    aware = [row for row in r if row["role"] == "aware"]
    best = [row for row in r if row["role"] == "best_aware"]
    assert len(best) == 1 and best[0]["privacy_level"] == min(row["privacy_level"] for row in aware)
    for row in r:
        assert row["pl_low"] <= row["privacy_level"] <= row["pl_high"]


case(figures_responsive.pl_vs_u_rows, call=figures_responsive.pl_vs_u_rows, valid=pl_results(),
     bad={"res": ([3.0, [3.0], [{"game": "poly"}]],)}, check=_pl_rows)


@st.composite
def race_results(draw):
    rounds, races = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    recs = []
    for rep in range(races):
        for t in range(rounds):
            pool = draw(floats(0.1, 1.0))
            recs.append({"game": "krr", "rep": rep, "round": t, "worst_case_pool": pool,
                         "worst_case_family": pool - draw(floats(0.0, 0.1)), "best_single_worst_case": pool,
                         "robust_minus_best_single": draw(floats(-0.1, 0.1)),
                         "worst_case_pool_se": draw(floats(0.0, 0.1)), "utility_loss": 0.25, "gap": 0.0,
                         "gap_max": 0.0, "relative_gap": 0.0, "pool_size": t + 1, "pool": "a", "chosen": "b",
                         "oracle_best": "b", "worst_case_pool_attacker": "a",
                         "stop_reason": "max_rounds" if t == rounds - 1 else ""})
    return {"res": simulate.Results(recs)}


def _race_rows(r, k):
    assert [row["round"] for row in r][-1] == "final"
    for row in r:
        for key in ("worst_case_pool", "worst_case_family", "best_single_worst_case"):
            assert row[f"{key}_low"] <= row[key] <= row[f"{key}_high"]


case(figures_responsive.arms_race_rows, call=figures_responsive.arms_race_rows, valid=race_results(),
     bad={"res": ([3.0, [3.0], [{"game": "krr"}]],)}, check=_race_rows)


@st.composite
def online_results(draw):
    reps = draw(st.integers(2, 5))
    recs = []
    for n in (10, 20):
        for defense in ("online", "batch"):
            for rep in range(reps):
                recs.append({"n": n, "defense": defense, "rep": rep, "sigma": 0.5,
                             "stealing_error": draw(floats(0.05, 1.0)), "utility_loss": 0.25,
                             "function_utility": draw(floats(0.01, 0.5)), "function_share": draw(floats(0.1, 1.0))})
    return {"res": simulate.Results(recs), "designs": {10: _tiny_design(), 20: _tiny_design()}}


def _online_rows(r, k):
    assert [row["n"] for row in r] == [10, 20]
    for row in r:
        assert row["ratio_low"] <= row["ratio"] <= row["ratio_high"]
        assert row["design_population_utility"] == pytest.approx(0.25, rel=1e-6)


case(figures_responsive.online_vs_batch_rows, call=figures_responsive.online_vs_batch_rows, valid=online_results(),
     bad={"res": ([3.0, [3.0]],), "designs": ([3.0, {}, {10: 3.0, 20: 3.0}],)}, check=_online_rows)


# ----- property inference: data ---------------------------------------------------------------
CREDIT = pi.SyntheticCredit(3, separation=2.0)
LOGISTIC = pi.LogisticFamily(3)
PI_QUERIES = CREDIT.sample(8, 0.5, 0)[0]


@functools.lru_cache(maxsize=None)
def _pool(independent=False):
    """A synthetic pool; ``independent``: its property (x_1 > 0) is not the label."""
    data = CREDIT.make_data(200, 0.3, random_state=0)
    return pi.TabularData.from_arrays(data.X, data.y, prop=data.X[:, 1] > 0) if independent else data


@functools.lru_cache(maxsize=None)
def _pi_models(k=4, m=2, seed=0, n_train=20):
    """``k`` logistic-regression models per class, class ``c`` trained at default rate 0.2 + 0.3 c."""
    rng = np.random.default_rng(seed)
    data, labels, values = [], [], []
    for c in range(m):
        v = 0.2 + 0.3 * c
        for _ in range(k):
            data.append(CREDIT.sample(n_train, v, rng))
            labels.append(c)
            values.append(v)
    thetas = pi.exact_fits(LOGISTIC, data)[0]
    return pi.ModelSet(LOGISTIC, thetas, np.array(labels), np.array(values), data)


@functools.lru_cache(maxsize=None)
def _pi_attack(access="white", m=2):
    return pi.MetaClassifierAttack("logistic", access=access, random_state=0).fit(_pi_models(6, m),
                                                                                 queries=PI_QUERIES)


def _references(m=2, n=30, seed=3):
    rng = np.random.default_rng(seed)
    return [CREDIT.sample(n, 0.2 + 0.3 * c, rng) for c in range(m)]


def _classes(pred, m):
    pred = np.asarray(pred)
    assert np.all((pred >= 0) & (pred < m) & (pred == np.round(pred)))


@st.composite
def tabular(draw):
    n, d = draw(st.integers(4, 12)), draw(st.integers(1, 3))
    X = np.array(draw(st.lists(floats(-3, 3), min_size=n * d, max_size=n * d))).reshape(n, d)
    y = np.array([0, 1] + draw(st.lists(st.integers(0, 1), min_size=n - 2, max_size=n - 2)))
    prop = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return {"X": X, "y": y, "prop": prop}


def _tabular(X, y, prop):
    data = pi.TabularData.from_arrays(X, y, prop=prop)
    direct = pi.TabularData(data.X, data.y, {"property": prop}, "property")   # the constructor checks too
    assert data.n_samples == direct.n_samples == len(X) and data.n_features == X.shape[1]
    np.testing.assert_array_equal(data.indicator(), prop)
    np.testing.assert_array_equal(data.y, (y == y.max()).astype(int))
    return data.subset(np.arange(0, len(X), 2)).X


case(pi.TabularData, call=_tabular, valid=tabular(),
     bad={"X": ARRAY, "y": ("nan", "inf", "complex", "3-D", "empty", [[0.0]]), "prop": (["nope", [[0.5]], [2.0]],)},
     names={"prop": "prop|indicator"})


def _loaded(r, k):
    assert r.X.ndim == 2 and np.all(np.isfinite(r.X)) and set(np.unique(r.y)) == {0, 1}
    assert len(r.feature_names) == r.n_features and all(v.shape == r.y.shape for v in r.attributes.values())
    assert 0.0 < np.mean(r.indicator()) < 1.0


for _f in (pi.load_adult, pi.load_german_credit):
    case(_f, call=_f, valid=kw(drop=st.sampled_from(["first", None])), bad={"path": ([3.0],), "drop": (["x", 3.0],)},
         check=_loaded, examples=2)
case(pi.load_dataset, call=pi.load_dataset,
     valid=kw(name=st.sampled_from(["german", "pool"]).map(lambda s: s if s == "german" else _pool())),
     bad={"name": (["nope", 3.0],)}, check=lambda r, k: isinstance(r, pi.TabularData))


@st.composite
def fractions(draw):
    raw = np.array(draw(st.lists(floats(0.2, 1.0), min_size=2, max_size=3)))
    return raw / raw.sum()


def _split(r, k):
    data = k["data"]
    rows = [{row.tobytes() for row in part.X} for part in r]
    assert sum(len(s) for s in rows) == data.n_samples == len(set().union(*rows))   # disjoint, complete
    for part, f in zip(r, k["fractions"]):
        assert abs(part.n_samples - f * data.n_samples) <= 4   # one row per (property, label) stratum


case(pi.split_pool, call=pi.split_pool,
     valid=kw(data=st.sampled_from([False, True]).map(_pool), fractions=fractions(), random_state=seeds()),
     bad={"data": ([3.0],), "fractions": ([[1.0], [0.7, 0.7], [-0.5, 1.5], "x", [[0.5, 0.5]], [math.nan, 0.5]],),
          "prop": (["nope", [[0.5]]],), "random_state": (["x", -1],)},
     check=_split)


@st.composite
def sampler_args(draw):
    independent = draw(st.booleans())
    share = draw(st.sampled_from(["follow", "fixed", 0.3])) if independent else "follow"
    data = _pool(independent)
    n = draw(st.integers(2, 30))
    lo, hi = pi.PropertySampler(data, label_share=share).achievable_range(n)
    k = draw(st.integers(int(math.ceil(lo * n - 1e-9)), int(math.floor(hi * n + 1e-9))))
    return {"data": data, "label_share": share, "n_samples": n, "value": k / n, "random_state": draw(seeds())}


def _sampler(data, n_samples, value, random_state, label_share="follow", prop=None):
    s = pi.PropertySampler(data, prop, label_share=label_share)
    idx = s.sample_indices(n_samples, value, random_state)
    X, y = s.sample(n_samples, value, random_state)
    assert s.property_of(idx) == pytest.approx(value, abs=1e-12) and np.unique(idx).size == n_samples
    if label_share != "follow":   # the label share is held: round(n * share) positives
        share = float(np.mean(data.y)) if label_share == "fixed" else label_share
        assert y.sum() == int(round(n_samples * share))
    return X


case(pi.PropertySampler, call=_sampler, valid=sampler_args(),
     documented=(ValueError, "cannot hold the label share|cannot supply|no positive labels"),
     bad={"data": ([3.0],), "prop": (["nope", [[0.5]]],), "label_share": (["x", 0.0, 1.5],),
          "n_samples": SCALAR + ([0, 2.5],), "value": SCALAR + ([1.5, -0.1],), "random_state": (["x", -1],)},
     names={"prop": "prop"})


@st.composite
def credit_args(draw):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(1, 30))
    return {"n_features": d, "separation": draw(floats(0.1, 3.0)),
            "n_informative": draw(st.one_of(st.none(), st.integers(1, 5))), "n_samples": n,
            "value": draw(st.integers(0, n)) / n, "random_state": draw(seeds()),
            "default_rate": draw(floats(0.01, 0.99)), "X": draw(points(d=d, distinct=False, lo=-3, hi=3))}


def _credit(n_features, separation, n_informative, n_samples, value, random_state, default_rate, X):
    c = pi.SyntheticCredit(n_features, separation=separation, n_informative=n_informative)
    Xs, y = c.sample(n_samples, value, random_state)
    assert Xs.shape == (n_samples, n_features) and y.sum() == round(value * n_samples)   # the rate exactly
    assert np.linalg.norm(c.mean_shift()) == pytest.approx(separation)
    return c.bayes_logit(X, default_rate)


case(pi.SyntheticCredit, call=_credit, valid=credit_args(),
     bad={"n_features": SCALAR + ([0],), "separation": SCALAR + ([0.0],), "n_informative": SCALAR + ([0],),
          "n_samples": SCALAR + ([0],), "value": SCALAR + ([1.5],), "random_state": (["x", -1],),
          "default_rate": SCALAR + ([0.0, 1.0, 1.5],), "X": ARRAY + ([[[1.0] * 9]],)},
     check=lambda r, k: r.shape == (len(k["X"]),))


@st.composite
def bins_args(draw):
    lo = draw(floats(0.0, 0.5))
    hi = draw(floats(lo + 0.1, 1.0))
    if draw(st.booleans()):
        return {"bins": draw(st.integers(1, 5)), "property_range": (lo, hi)}
    inner = sorted(draw(st.lists(floats(lo + 0.01, hi - 0.01), max_size=3, unique=True)))
    return {"bins": [lo - draw(floats(0, 0.1))] + inner + [hi + draw(floats(0, 0.1))], "property_range": (lo, hi)}


def _edges(r, k):
    lo, hi = k["property_range"]
    assert np.all(np.diff(r) > 0) and r[0] <= lo and r[-1] >= hi
    if isinstance(k["bins"], int):
        assert r.size == k["bins"] + 1


case(pi.make_bins, call=pi.make_bins, valid=bins_args(),
     bad={"bins": SCALAR + ([0, [0.5, 0.2], [0.3], [0.4, 0.45], [[0.0, 1.0]]],),
          "property_range": ([[0.5, 0.2], [math.nan, 1.0], "x", [0.0, 1.5], [[0.0, 1.0]], 3.0],)},
     check=_edges)


@st.composite
def binned(draw):
    edges = pi.make_bins(**draw(bins_args()))
    v = np.array(draw(st.lists(floats(edges[0], edges[-1]), min_size=1, max_size=8)))
    return {"values": v, "edges": edges}


def _assigned(r, k):
    e = k["edges"]
    assert np.all(e[r] - 1e-12 <= k["values"]) and np.all(k["values"] <= e[r + 1] + 1e-12)


case(pi.assign_bins, call=pi.assign_bins, valid=binned(),
     bad={"values": ARRAY[:5] + ([[2.0], [-1.0]],), "edges": ARRAY + ([[0.5, 0.2], [0.3]],)}, check=_assigned)


@st.composite
def bin_values_args(draw):
    m = draw(st.integers(1, 4))
    lo = draw(floats(0.0, 0.5))
    hi = draw(floats(lo + 0.1, 1.0))
    n = draw(st.integers(int(math.ceil(m / (hi - lo))) + 1, 80))
    achievable = draw(st.sampled_from([None, (0.0, 1.0), (lo, hi)]))
    return {"edges": pi.make_bins(m, (lo, hi)), "n_samples": n, "achievable": achievable}


def _bin_values(r, k):
    e, n = k["edges"], k["n_samples"]
    assert len(r) == e.size - 1
    for j, vals in enumerate(r):
        assert vals.size and np.all(vals >= e[j] - 1e-12) and np.all(vals <= e[j + 1] + 1e-12)
        np.testing.assert_allclose(vals * n, np.round(vals * n), atol=1e-9)   # exact values k/n


case(pi.bin_values, call=pi.bin_values, valid=bin_values_args(), documented=(ValueError, "holds no property value"),
     bad={"edges": ARRAY + ([[0.5, 0.2], [0.3]],), "n_samples": SCALAR + ([0],),
          "achievable": ([[0.5, 0.2], [math.nan, 1.0], "x", [0.0, 1.0, 2.0], 3.0],)},
     check=_bin_values)


# ----- property inference: models ---------------------------------------------------------------
@st.composite
def binary_data(draw, d=None):
    d = draw(st.integers(1, 3)) if d is None else d
    n = draw(st.integers(6, 15))
    X = np.array(draw(st.lists(floats(-2, 2), min_size=n * d, max_size=n * d))).reshape(n, d)
    y = np.array([0, 1] + draw(st.lists(st.integers(0, 1), min_size=n - 2, max_size=n - 2)))
    return {"X": X, "y": y}


def _logistic_family(X, y, C, n_features=None):
    fam = pi.LogisticFamily(X.shape[1] if n_features is None else n_features, C=C)
    theta, _ = pi_models.fit_family(fam, X, y, tol=1e-10)
    _, g = fam.loss_grad(theta, X, y)
    assert np.linalg.norm(g) <= 1e-6   # the optimum of sklearn's objective
    is_psd(fam.hessian(theta, X, y))
    p = fam.predict_proba(theta, X)
    assert np.all((p >= 0) & (p <= 1))
    return theta


case(pi.LogisticFamily, call=_logistic_family,
     valid=st.tuples(binary_data(), kw(C=floats(0.05, 10))).map(lambda t: {**t[0], **t[1]}),
     bad={"C": SCALAR + ([0.0, -1.0],), "n_features": SCALAR + ([0],)}, owner="LogisticFamily", examples=10,
     params=("C", "n_features"))


def _permuted(fam, theta, perm):
    """The same network with the first hidden layer's units relabelled."""
    (W1, b1), (W2, b2) = fam.unpack(theta)
    return np.concatenate([W1[:, perm].ravel(), b1[perm], W2[perm].ravel(), b2])


def _mlp_family(X, y, hidden, alpha, activation, seed, n_features=None):
    fam = pi.MLPFamily(X.shape[1] if n_features is None else n_features, hidden, alpha=alpha, activation=activation)
    theta = fam.init(seed)
    f, g = fam.loss_grad(theta, X, y)
    j = seed % fam.n_params
    step = np.zeros_like(theta)
    step[j] = 1e-6
    fd = (fam.loss_grad(theta + step, X, y)[0] - fam.loss_grad(theta - step, X, y)[0]) / 2e-6
    assert fd == pytest.approx(g[j], abs=1e-5)   # the analytic gradient
    perm = np.arange(hidden[0])[::-1]
    other = _permuted(fam, theta, perm)
    np.testing.assert_allclose(fam.predict_proba(other, X), fam.predict_proba(theta, X), atol=1e-12)
    # the sorted white-box features do not see a relabelling of hidden units (Ganju et al.)
    np.testing.assert_allclose(pi_models.white_box_features(fam, other), pi_models.white_box_features(fam, theta))
    return f, g


case(pi.MLPFamily, call=_mlp_family,
     valid=st.tuples(binary_data(), kw(hidden=st.integers(2, 5).map(lambda h: (h,)), alpha=floats(0, 1),
                                       activation=st.sampled_from(["relu", "tanh", "logistic", "identity"]),
                                       seed=st.integers(0, 1000))).map(lambda t: {**t[0], **t[1]}),
     bad={"hidden": ([3.0, [0], ["a"], (2.5,)],), "alpha": SCALAR + ([-1.0],), "activation": (["x"],),
          "n_features": SCALAR + ([0],)},
     names={"hidden": "hidden_layer_sizes"}, owner="MLPFamily", params=("hidden", "alpha", "activation"))


@st.composite
def model_set(draw):
    k = draw(st.integers(1, 6))
    thetas = np.array(draw(st.lists(floats(-2, 2), min_size=4 * k, max_size=4 * k))).reshape(k, 4)
    return {"thetas": thetas, "labels": np.array(draw(st.lists(st.integers(0, 2), min_size=k, max_size=k))),
            "values": draw(vectors(k, 0.0, 1.0)), "access": draw(st.sampled_from(["white", "black"])),
            "queries": draw(points(d=3, distinct=False, lo=-2, hi=2))}


def _model_set(thetas, labels, values, access, queries):
    ms = pi.ModelSet(LOGISTIC, thetas, labels, values)
    np.testing.assert_array_equal(ms.features("white"), thetas)
    P = ms.features("black", queries)
    assert P.shape == (len(thetas), len(queries)) and np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(ms.predict_proba(0, queries), P[0])
    assert len(ms.subset([0])) == 1
    return ms.features(access, queries)


case(pi.ModelSet, call=_model_set, valid=model_set(),
     bad={"thetas": ARRAY + ([[[1.0, 2.0]]],), "labels": ARRAY + ([[-1], [0.5]],), "values": ARRAY + ([[1.5]],),
          "access": (["x", 3.0],), "queries": ARRAY + ([[[1.0]]],)}, owner="ModelSet")


def _family_of(r, k):
    est, d = k["estimator"], k["n_features"]
    assert r.n_features == d
    if isinstance(r, pi.LogisticFamily):
        assert r.C == est.C and r.n_params == d + 1
    else:
        assert tuple(r.hidden_layer_sizes) == est.hidden_layer_sizes and r.alpha == est.alpha


_ESTIMATORS = st.one_of(floats(0.1, 10).map(lambda C: LogisticRegression(C=C)),
                        st.integers(2, 6).map(lambda h: MLPClassifier((h,), alpha=1e-3)))
case(pi.family_of, call=pi.family_of, valid=kw(estimator=_ESTIMATORS, n_features=st.integers(1, 5)),
     bad={"estimator": ([3.0, RandomForestClassifier(), LogisticRegression(fit_intercept=False)],),
          "n_features": SCALAR + ([0, 2.5],)},
     check=_family_of)


def _indexed(X, y, indices):
    sets = pi_models.IndexedSets(X, y, indices)
    assert len(sets) == len(indices) == len(list(sets)) == len(sets[:])
    for (Xi, yi), idx in zip(sets, indices):
        np.testing.assert_array_equal(Xi, X[idx])
        np.testing.assert_array_equal(yi, y[idx])
    return [Xi for Xi, _ in sets]


@st.composite
def indexed_args(draw):
    d = draw(binary_data())
    n = len(d["y"])
    idx = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=n), min_size=1, max_size=4))
    return {**d, "indices": [np.array(i) for i in idx]}


case(pi_models.IndexedSets, call=_indexed, valid=indexed_args(),
     bad={"X": ARRAY, "y": ARRAY, "indices": ([3.0, [[1.5]], [[-1]], [[10**6]], ["x"]],)})


def _train_model(X, y, estimator, random_state):
    theta = pi_models.train_model(estimator, X, y, random_state)
    assert theta.shape == (pi.family_of(estimator, X.shape[1]).n_params,)
    return theta


case(pi_models.train_model, call=_train_model,
     valid=st.tuples(binary_data(), kw(estimator=st.sampled_from([LogisticRegression(C=1.0),
                                                                  MLPClassifier((3,), max_iter=30)]),
                                       random_state=seeds())).map(lambda t: {**t[0], **t[1]}),
     bad={"estimator": ([3.0, RandomForestClassifier(n_estimators=2)],), "X": ARRAY, "y": ARRAY + ([[0.5]],),
          "random_state": (["x", -1],)},
     examples=6)


@st.composite
def train_models_args(draw):
    sampler = draw(st.sampled_from([CREDIT, "pool"]))
    sampler = pi.PropertySampler(_pool()) if sampler == "pool" else sampler
    n = draw(st.integers(10, 20))
    values = [k / n for k in draw(st.lists(st.integers(1, n // 3), min_size=1, max_size=3))]
    return {"sampler": sampler, "n_train": n, "values": values, "random_state": draw(seeds())}


def _train_models(sampler, n_train, values, random_state, estimator=None):
    est = LogisticRegression(C=1.0) if estimator is None else estimator
    thetas, indices, data, seconds = pi_models.train_models(est, sampler, n_train, values, random_state)
    assert thetas.shape == (len(values), 4) and seconds >= 0
    for (X, y), idx, v in zip(data, indices, values):
        assert len(y) == n_train
        if idx is not None:
            assert sampler.property_of(idx) == pytest.approx(v)
        else:
            assert y.mean() == pytest.approx(v)
    return thetas


case(pi_models.train_models, call=_train_models, valid=train_models_args(),
     bad={"estimator": ([3.0],), "sampler": ([3.0],), "n_train": SCALAR + ([0],),
          "values": ARRAY[:5] + ([[1.5]],), "random_state": (["x", -1],)},
     examples=6)


@st.composite
def fit_family_args(draw):
    d = draw(binary_data())
    n = len(d["y"])
    return {**d, "sample_weight": draw(st.one_of(st.none(), vectors(n, 0.5, 2.0))),
            "theta0": draw(st.one_of(st.none(), vectors(d["X"].shape[1] + 1, -1.0, 1.0))),
            "family": pi.LogisticFamily(d["X"].shape[1], C=draw(floats(0.1, 10)))}


def _fit_family(X, y, family, sample_weight=None, theta0=None, tol=1e-10, max_iter=2000, penalty=None,
                random_state=None):
    fam = family
    theta, nfev = pi_models.fit_family(fam, X, y, sample_weight=sample_weight, theta0=theta0, tol=tol,
                                       max_iter=max_iter, penalty=penalty, random_state=random_state)
    f, g = fam.loss_grad(theta, X, y, sample_weight)
    start = np.zeros(fam.n_params) if theta0 is None else theta0
    assert f <= fam.loss_grad(start, X, y, sample_weight)[0] + 1e-12 and nfev >= 1   # it descends
    assert np.linalg.norm(g) <= 1e-6
    return theta


case(pi_models.fit_family, call=_fit_family, valid=fit_family_args(),
     bad={"family": ([3.0],), "X": ARRAY + ([[[1.0] * 7]],), "y": ARRAY + ([[0.0]],),
          "sample_weight": ARRAY + ([[-1.0]],), "theta0": ARRAY + ([[1.0]],), "tol": SCALAR + ([0.0, -1.0],),
          "max_iter": SCALAR + ([0],), "penalty": ([3.0],), "random_state": (["x", -1],)}, examples=10)


@st.composite
def feature_args(draw):
    fam = draw(st.sampled_from([LOGISTIC, pi.MLPFamily(3, (4,))]))
    k = draw(st.integers(1, 4))
    p = fam.n_params
    thetas = np.array(draw(st.lists(floats(-2, 2), min_size=k * p, max_size=k * p))).reshape(k, p)
    return {"family": fam, "thetas": thetas, "queries": draw(points(d=3, distinct=False, lo=-2, hi=2))}


def _white(r, k):
    assert r.shape == k["thetas"].shape
    if isinstance(k["family"], pi.LogisticFamily):
        np.testing.assert_array_equal(r, k["thetas"])
    else:   # a permutation of the parameters
        np.testing.assert_allclose(np.sort(r, axis=1), np.sort(k["thetas"], axis=1))


case(pi_models.white_box_features,
     call=lambda family, thetas, queries=None: pi_models.white_box_features(family, thetas),
     valid=feature_args(), bad={"family": ([3.0],), "thetas": ARRAY[:5] + ([[1.0]],)}, check=_white)
case(pi_models.black_box_features, call=pi_models.black_box_features, valid=feature_args(),
     bad={"family": ([3.0],), "thetas": ARRAY[:5] + ([[1.0]],), "queries": ARRAY + ([[[1.0]]],)},
     check=lambda r, k: r.shape == (len(k["thetas"]), len(k["queries"])) and np.all((r >= 0) & (r <= 1)))


# ----- property inference: attacks ------------------------------------------------------------
def _meta_attack(access, meta_classifier, random_state, m, queries=PI_QUERIES, shadows=None):
    shadows = _pi_models(4, m) if shadows is None else shadows
    att = pi.MetaClassifierAttack(meta_classifier, access=access, random_state=random_state)
    att.fit(shadows, queries=queries)
    targets = _pi_models(2, m, seed=1)
    P = att.predict_proba(targets)
    rows_sum_to_one(P)
    _classes(att.predict(targets), m)
    assert 0.0 <= att.score(targets) <= 1.0 and att.differentiable
    return P


case(pi.MetaClassifierAttack, call=_meta_attack,
     valid=kw(access=st.sampled_from(["white", "black"]),
              meta_classifier=st.sampled_from(["logistic", LogisticRegression(C=0.5, max_iter=1000)]),
              random_state=seeds(), m=st.sampled_from([2, 3])),
     bad={"meta_classifier": (["x", 3.0],), "access": (["x"],), "random_state": (["x", -1],),
          "shadows": ([3.0],), "queries": ARRAY + ([[[1.0]]],)},
     examples=8, owner="MetaClassifierAttack", params=("meta_classifier", "access", "random_state"))


@st.composite
def meta_net_args(draw):
    k, d, m = draw(st.integers(8, 16)), draw(st.integers(1, 4)), draw(st.integers(2, 3))
    Phi = np.array(draw(st.lists(floats(-2, 2), min_size=k * d, max_size=k * d))).reshape(k, d)
    labels = np.arange(k) % m
    return {"Phi": Phi, "labels": labels, "kind": draw(st.sampled_from(["logistic", "scaled", "mlp"])),
            "phi": draw(vectors(d))}


def _meta_net(Phi, labels, kind, phi, estimator=None):
    if estimator is None:
        clf = (MLPClassifier((4,), max_iter=200, random_state=0) if kind == "mlp"
               else LogisticRegression(max_iter=1000))
        estimator = make_pipeline(StandardScaler(), clf) if kind == "scaled" else clf
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(Phi, labels)
    net = pi.MetaNet.from_estimator(estimator)
    z = net.logits(Phi)
    np.testing.assert_allclose(np.exp(z - z.max(axis=1, keepdims=True)) / np.exp(z - z.max(axis=1, keepdims=True))
                               .sum(axis=1, keepdims=True), estimator.predict_proba(Phi), atol=1e-9)
    z0, J = net.logits_and_jacobian(phi)
    np.testing.assert_allclose(z0, net.logits(phi)[0], atol=1e-12)
    j = 0
    step = np.zeros_like(phi)
    step[j] = 1e-6
    fd = (net.logits(phi + step)[0] - net.logits(phi - step)[0]) / 2e-6
    np.testing.assert_allclose(fd, J[:, j], atol=1e-4 * (1 + np.abs(J).max()))   # exact a.e. (piecewise affine)
    return z0, J


case(pi.MetaNet, call=_meta_net, valid=meta_net_args(),
     bad={"estimator": ([3.0, RandomForestClassifier(), LogisticRegression()],), "phi": ARRAY + ([[1.0] * 7],)},
     examples=10)


_DEFAULT = object()   # "not given" where None is itself a value to test


def _loss_test(metric, references=_DEFAULT, models=None):
    t = pi.LossTest(metric).fit(references=_references() if references is _DEFAULT else references)
    models = _pi_models(2, seed=1) if models is None else models
    pred = t.predict(models)
    _classes(pred, 2)
    assert 0.0 <= t.score(models) <= 1.0
    return pred


_BAD_REFS = [None, 3.0, [(np.ones((5, 3)), np.r_[0, 1, 0, 1, 0])],
             [(np.full((5, 3), np.nan), np.r_[0, 1, 0, 1, 0]), (np.ones((5, 3)), np.r_[0, 1, 0, 1, 0])],
             [(np.ones((5, 2)), np.r_[0, 1, 0, 1, 0]), (np.ones((5, 2)), np.r_[0, 1, 0, 1, 0])],
             [(np.ones((5, 3)), np.r_[0, 2, 0, 1, 0]), (np.ones((5, 3)), np.r_[0, 1, 0, 1, 0])]]
case(pi.LossTest, call=_loss_test, valid=kw(metric=st.sampled_from(["accuracy", "log_loss"])),
     bad={"metric": (["x", 3.0],), "references": (_BAD_REFS,), "models": ([3.0],)}, examples=4)


def _threshold_test(metric, references=_DEFAULT, models=None, shadows=None):
    t = pi.ThresholdTest(metric).fit(_pi_models(4) if shadows is None else shadows,
                                     references=_references() if references is _DEFAULT else references)
    models = _pi_models(2, seed=1) if models is None else models
    pred = t.predict(models)
    _classes(pred, 2)
    assert np.all(np.diff(t.thresholds_) >= 0) and t.sign_ in (-1.0, 1.0)
    return pred


case(pi.ThresholdTest, call=_threshold_test, valid=kw(metric=st.sampled_from(["accuracy", "log_loss"])),
     bad={"metric": (["x", 3.0],), "references": (_BAD_REFS,), "models": ([3.0],), "shadows": ([3.0],)},
     examples=4)


def _responsive(access, defense, cv, with_validation, with_fixed, random_state, attacks=None, fixed_attack=None,
                shadows=None, validation=None):
    attacks = [pi.MetaClassifierAttack("logistic", access=access)] if attacks is None else attacks
    fixed = (_pi_attack(access) if with_fixed else None) if fixed_attack is None else fixed_attack
    val = (_pi_models(2, seed=2) if with_validation else None) if validation is None else validation
    r = pi.ResponsiveAttack(attacks, defense, fixed_attack=fixed, cv=cv)
    r.fit(_pi_models(4) if shadows is None else shadows, validation=val, queries=PI_QUERIES,
          random_state=random_state)
    assert all(0.0 <= s <= 1.0 for s in r.scores_)
    assert len(r.scores_) == len(attacks) + (1 if (fixed is not None and val is not None) else 0)
    assert r.uses_fixed_ == (r.best_index_ >= len(attacks))
    pred = r.predict(_pi_models(2, seed=1))
    _classes(pred, 2)
    return pred


case(pi.ResponsiveAttack, call=_responsive,
     valid=kw(access=st.sampled_from(["white", "black"]),
              defense=st.sampled_from([None, pi.ParameterNoise(0.05), pi.OutputNoise(0.05)]),
              cv=st.integers(2, 3), with_validation=st.booleans(), with_fixed=st.booleans(), random_state=seeds()),
     bad={"attacks": ([3.0, [], [3.0]],), "defense": ([3.0],), "fixed_attack": ([3.0],), "cv": SCALAR + ([1],),
          "shadows": ([3.0],), "validation": ([3.0],), "random_state": (["x", -1],)},
     examples=6, owner="ResponsiveAttack")
case(pi_attacks.make_meta_classifier, call=pi_attacks.make_meta_classifier,
     valid=kw(name=st.sampled_from(["logistic", "random_forest", "mlp"]), random_state=seeds()),
     bad={"name": (["x", 3.0],), "random_state": (["x", -1],)},
     check=lambda r, k: callable(getattr(r, "fit", None)) and callable(getattr(r, "predict_proba", None)))


# ----- property inference: defenses ------------------------------------------------------------
def _noise_defense(cls):
    def call(scale, random_state, models=None):
        models = _pi_models(3) if models is None else models
        out = cls(scale).apply(models, random_state)
        np.testing.assert_array_equal(out.labels, models.labels)
        if cls is pi.OutputNoise:   # outputs perturbed, parameters released as they are
            np.testing.assert_array_equal(out.thetas, models.thetas)
            P = out.features("black", PI_QUERIES)
            assert np.all((P >= 0) & (P <= 1))
            np.testing.assert_array_equal(P, out.features("black", PI_QUERIES))   # a repeated query, the same answer
        else:
            assert out.thetas.shape == models.thetas.shape
        return out.thetas

    case(cls, call=call, valid=kw(scale=floats(0.01, 2.0), random_state=seeds()),
         bad={"scale": SCALAR + ([0.0, -1.0],), "random_state": (["x", -1],), "models": ([3.0],)},
         owner=cls.__name__, params=("scale",), covers=(pi.Defense,))


_noise_defense(pi.OutputNoise)
_noise_defense(pi.ParameterNoise)


def _unlearning(access, max_steps, tol=1e-10, attack=_DEFAULT, models=None):
    attack = _pi_attack(access) if attack is _DEFAULT else attack
    models = _pi_models(2, seed=1) if models is None else models
    out = pi.PropertyUnlearning(attack, max_steps=max_steps, tol=tol).apply(models)
    P = attack.predict_proba(out)
    if access == "white":   # linear constraints: one step reaches the uniform posterior
        np.testing.assert_allclose(P, 0.5, atol=1e-6)
    return out.thetas


case(pi.PropertyUnlearning, call=_unlearning, valid=kw(access=st.sampled_from(["white", "black"]),
                                                       max_steps=st.integers(1, 20)),
     bad={"attack": ([3.0, None],), "max_steps": SCALAR + ([0],), "tol": SCALAR + ([0.0],), "models": ([3.0],)},
     examples=6, owner="PropertyUnlearning")


def _pool_penalty(penalty, strategy, lam, aggregate, n_newton_steps, pool=None, models=None, init=None, **p):
    pool = [_pi_attack("white"), _pi_attack("black")] if pool is None else pool
    models = _pi_models(2, seed=1) if models is None else models
    d = pi.PoolPenaltyDefense(pool, penalty=penalty, strategy=strategy, lam=lam, aggregate=aggregate,
                              n_newton_steps=n_newton_steps, **p)
    init = models.thetas if init is None and isinstance(models, pi.ModelSet) else init
    out = d.apply(models, random_state=0, init=init)
    if penalty == "constraint" and strategy == "exact":   # every pool attacker's posterior uniform
        assert d.constraint_violation(out) <= 1e-6
    assert d.last_evaluations_ >= 1
    return out.thetas


case(pi.PoolPenaltyDefense, call=_pool_penalty,
     valid=kw(penalty=st.sampled_from(["constraint", "kl"]), strategy=st.sampled_from(["exact", "approximate"]),
              lam=floats(0.1, 10), aggregate=st.sampled_from(["mean", "max"]), n_newton_steps=st.integers(1, 2)),
     bad={"pool": ([3.0, [3.0], [None]],), "penalty": (["x"],), "lam": SCALAR + ([-1.0],), "aggregate": (["x"],),
          "strategy": (["x"],), "n_newton_steps": SCALAR + ([0],), "warm_iter": SCALAR + ([0],),
          "tol": SCALAR + ([0.0],), "models": ([3.0],), "init": ARRAY + ([[[1.0]]],)},
     examples=8, owner="PoolPenaltyDefense")


# ----- property inference: the approximate strategy ----------------------------------------------
@st.composite
def newton_args(draw):
    d = draw(binary_data())
    n, p = len(d["y"]), d["X"].shape[1] + 1
    sw = draw(st.one_of(st.none(), vectors(n, 0.5, 2.0)))
    fam = pi.LogisticFamily(p - 1, C=draw(floats(0.1, 10)))
    star = pi_models.fit_family(fam, d["X"], d["y"], sample_weight=sw, tol=1e-12)[0]
    return {**d, "family": fam, "sample_weight": sw, "theta_star": star,
            "theta": star + draw(vectors(p, -1.0, 1.0)) * draw(floats(0.0, 0.5))}


def _newton_step(family, theta, X, y, sample_weight, theta_star, hessian=None):
    step = pi.newton_step(family, theta, X, y, sample_weight=sample_weight, hessian=hessian)
    bound = pi.newton_error_bound(family, theta, theta_star, X, y, sample_weight=sample_weight)
    if hessian is None:   # Newton's quadratic convergence, with the bound of the module docstring
        assert np.linalg.norm(step - theta_star) <= bound + 1e-7
    return step


case(pi.newton_step, call=_newton_step, valid=newton_args(),
     bad={"family": ([3.0, pi.MLPFamily(2)],), "theta": ARRAY + ([[1.0]],), "X": ARRAY + ([[[1.0] * 7]],),
          "y": ARRAY + ([[0.0]],), "sample_weight": ARRAY + ([[-1.0]],), "hessian": ARRAY + ([[[1.0]]],)},
     examples=10)


def _error_bound(family, theta, X, y, sample_weight, theta_star, theta0=None):
    theta0 = theta if theta0 is None else theta0
    bound = pi.newton_error_bound(family, theta0, theta_star, X, y, sample_weight=sample_weight)
    step = pi.newton_step(family, theta0, X, y, sample_weight=sample_weight)
    return bound, float(np.linalg.norm(step - theta_star))


case(pi.newton_error_bound, call=_error_bound, valid=newton_args(), finite=False,
     bad={"family": ([3.0, pi.MLPFamily(2)],), "theta0": ARRAY + ([[1.0]],), "theta_star": ARRAY + ([[1.0]],),
          "X": ARRAY + ([[[1.0] * 7]],), "y": ARRAY + ([[0.0]],), "sample_weight": ARRAY + ([[-1.0]],)},
     check=lambda r, k: r[0] >= 0 and (r[0] == math.inf or r[1] <= r[0] + 1e-7), examples=10)


def _lipschitz(X, sample_weight):
    L = pi.hessian_lipschitz_bound(X, sample_weight)
    fam = pi.LogisticFamily(X.shape[1])
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, fam.n_params))
    dH = fam.hessian(a, X, None, sample_weight) - fam.hessian(b, X, None, sample_weight)
    assert np.linalg.norm(dH, 2) <= L * np.linalg.norm(a - b) * (1 + 1e-9)   # the Lipschitz bound holds
    return L


case(pi.hessian_lipschitz_bound, call=_lipschitz,
     valid=binary_data().flatmap(lambda d: kw(X=st.just(d["X"]),
                                              sample_weight=st.one_of(st.none(), vectors(len(d["y"]), 0.1, 2.0)))),
     bad={"X": ARRAY, "sample_weight": ARRAY + ([[-1.0], [0.0]],)}, check=lambda r, k: r > 0)


@st.composite
def fits_args(draw):
    m, k, n = draw(st.integers(1, 2)), draw(st.integers(1, 3)), 20
    rng = np.random.default_rng(draw(seeds()))
    datasets = [CREDIT.sample(n, 0.2 + 0.3 * c, rng) for c in range(m) for _ in range(k)]
    fam = draw(st.sampled_from([LOGISTIC, pi.MLPFamily(3, (3,))]))
    return {"family": fam, "datasets": datasets, "groups": np.repeat(np.arange(m), k), "random_state": draw(seeds())}


def _fits(family, datasets, random_state=None, groups=None, approximate=True, **p):
    tol = 1e-6 if isinstance(family, pi.LogisticFamily) else 1e-2   # an MLP's L-BFGS run is cut short
    if approximate:
        thetas, seconds, evals = pi.approximate_fits(family, datasets, groups, random_state=random_state,
                                                     **{"tol": tol, "warm_iter": 5, **p})
    else:
        thetas, seconds, evals = pi.exact_fits(family, datasets, random_state=random_state, **{"tol": tol, **p})
    assert thetas.shape == (len(datasets), family.n_params) and seconds >= 0 and evals >= len(datasets)
    if isinstance(family, pi.LogisticFamily):   # exact fits (the references of approximate ones) are optima
        first = [i for i in range(len(datasets)) if not approximate or i == list(groups).index(groups[i])]
        for i in first:
            X, y = datasets[i]
            assert np.linalg.norm(family.loss_grad(thetas[i], X, y)[1]) <= 1e-4
    return thetas


_FITS_BAD = {"family": ([3.0],), "datasets": ([3.0, [], "x", [(np.full((4, 3), np.nan), np.r_[0, 1, 0, 1])],
                                               [(np.ones((4, 2)), np.r_[0, 1, 0, 1])]],),
             "tol": SCALAR + ([0.0],), "random_state": (["x", -1],)}
case(pi.approximate_fits, call=_fits, valid=fits_args(),
     bad={**_FITS_BAD, "groups": ARRAY + ([[0.5]],), "n_newton_steps": SCALAR + ([0],), "warm_iter": SCALAR + ([0],)},
     examples=6)
case(pi.exact_fits, call=lambda **k: _fits(approximate=False, **k),
     valid=fits_args().map(lambda d: {k: v for k, v in d.items() if k != "groups"}), bad=_FITS_BAD, examples=6)


# ----- property inference: the arms race and the experiment -------------------------------------
_TINY_RACE = dict(dataset=CREDIT, bins=2, n_train=20, n_test=10, n_shadows=3, n_targets=2, n_queries=8)
#: fields of a round's record that are NaN by contract before the pool holds an attacker
_EMPTY_POOL = ("previous_accuracy", "pool_kl", "constraint_violation")


def _pi_race(seed=0, **p):
    race = pi.ArmsRace(**{**_TINY_RACE, **p})
    out = _raw_rounds(race, seed)
    assert set(out[-1]) == set(race.record_fields) | set(race.text_fields)
    return out


def _race_records(r, k):
    for rec in r:
        assert 0.0 <= rec["attack_low"] <= rec["attack_accuracy"] <= rec["attack_high"] <= 1.0
        assert rec["chance"] == pytest.approx(1.0 / rec["n_classes"]) and 0.0 <= rec["fixed_accuracy"] <= 1.0
        for key, v in rec.items():
            if isinstance(v, (float, np.floating)) and not (rec["pool_size"] == 0 and key in _EMPTY_POOL) \
                    and not (key == "constraint_violation" and k.get("penalty") == "kl"):
                assert math.isfinite(v), (key, v)
    assert len(r) <= k.get("max_rounds", 8)


case(pi.ArmsRace, call=_pi_race,
     valid=kw(seed=st.integers(0, 100), access=st.sampled_from(["white", "black"]),
              penalty=st.sampled_from(["constraint", "kl"]), strategy=st.sampled_from(["exact", "approximate"]),
              max_rounds=st.integers(1, 2)),
     bad={"dataset": (["x", 3.0],), "label_share": (["x", 0.0, 1.5],), "bins": ([1, [0.5, 0.2], "x"],),
          "property_range": ([[0.5, 0.1], "x"],), "n_train": SCALAR + ([1],), "n_shadows": SCALAR + ([1],),
          "n_targets": SCALAR + ([0],), "attackers": ([["x"], [], ["random_forest"], 3.0],), "penalty": (["x"],),
          "lam": SCALAR + ([-1.0],), "aggregate": (["x"],), "epsilon": SCALAR + ([0.0, 1.5],),
          "patience": SCALAR + ([0],), "max_auc_drop": SCALAR + ([0.0],), "max_rounds": SCALAR + ([0],),
          "strategy": (["x"],), "tol": SCALAR + ([0.0],), "cv": SCALAR + ([1],), "seed": (["x", -1, 1.5],)},
     finite=False, check=_race_records, examples=5, covers=(pi.ArmsRaceState,), owner="ArmsRace")


def _race_state():
    if not hasattr(_race_state, "s"):
        race = pi.ArmsRace(**{**_TINY_RACE, "max_rounds": 2})
        state = race.init_state(0)
        while not state.stopped:
            state, _ = race.step(state, threat.round_stream(0, 0, state.round))
        _race_state.s = state
    return _race_state.s


def _evaluate(seed, attackers, n_shadows, state=None):
    out = pi.evaluate(_race_state() if state is None else state, seed, attackers=attackers, n_shadows=n_shadows)
    for a in attackers:
        assert 0.0 <= out[f"final_low_{a}"] <= out[f"final_accuracy_{a}"] <= out[f"final_high_{a}"] <= 1.0
    assert out["final_accuracy_max"] == max(out[f"final_accuracy_{a}"] for a in attackers)
    return out


case(pi.evaluate, call=_evaluate,
     valid=kw(seed=st.integers(0, 100), attackers=st.just(("logistic",)),
              n_shadows=st.one_of(st.none(), st.integers(2, 4))),
     bad={"state": ([3.0],), "seed": (["x", -1, 1.5],), "attackers": ([["x"], 3.0, []],),
          "n_shadows": SCALAR + ([1],)},
     examples=4)

_TINY_CPI = dict(dataset=CREDIT, bins=2, n_train=20, n_test=10, n_shadows=3, n_targets=2, n_reference=20,
                 n_queries=8, n_validation=2, attacks=("white_logistic", "black_logistic", "loss_test",
                                                        "threshold_test"))


def _cpi(seed=0, **p):
    spec = pi.CPIExperiment(**{**_TINY_CPI, **p})
    rec = pi.run_experiment(spec, seed)
    assert set(rec) == set(spec.record_fields) | set(spec.text_fields)
    return rec


def _cpi_record(r, k):
    for name in k.get("attacks", _TINY_CPI["attacks"]):
        assert 0.0 <= r[f"{name}_low"] <= r[f"{name}_accuracy"] <= r[f"{name}_high"] <= 1.0
        if f"{name}_n_leaked" in r:
            assert 0.0 <= r[f"{name}_n_leaked_se"] <= r[f"{name}_n_leaked"] or math.isnan(r[f"{name}_n_leaked"])
    assert r["chance"] == pytest.approx(1.0 / r["n_classes"])
    for key, v in r.items():   # NaN only where a defense defined against one attacker has none to face
        if isinstance(v, (float, np.floating)) and not key.endswith("_n_leaked") and not key.endswith("_se") \
                and not isinstance(k.get("defense"), pi.PropertyUnlearning):
            assert math.isfinite(v), (key, v)


case(pi.CPIExperiment, call=_cpi,
     valid=kw(seed=st.integers(0, 100),
              defense=st.sampled_from([None, pi.ParameterNoise(0.1), pi.OutputNoise(0.1), pi.PropertyUnlearning()]),
              worlds=st.sampled_from([None, (0.5, 0.2), (0.5, 0.5)]))
     .map(lambda d: {k: v for k, v in {**d, "property_values": d["worlds"],
                                       "bins": None if d["worlds"] else 2}.items() if k != "worlds"}),
     bad={"dataset": (["x", 3.0],), "bins": ([1, [0.5, 0.2]],), "property_range": ([[0.5, 0.1], "x"],),
          "property_values": ([[0.5], [0.5, 1.5], "x"],), "n_train": SCALAR + ([1],), "n_test": SCALAR + ([1],),
          "n_queries": SCALAR + ([0],), "n_shadows": SCALAR + ([1],), "n_targets": SCALAR + ([0],),
          "n_reference": SCALAR + ([1],), "n_validation": SCALAR + ([1],), "attacks": ([["x"], [], 3.0],),
          "defense": ([3.0],), "responsive": (["x"],), "seed": (["x", -1, 1.5],)},
     finite=False, check=_cpi_record, examples=5, covers=(pi.run_experiment,), owner="CPIExperiment")


# ----- property inference: metrics ------------------------------------------------------------
@st.composite
def class_labels(draw):
    m, n = draw(st.integers(2, 4)), draw(st.integers(1, 20))
    labels = st.lists(st.integers(0, m - 1), min_size=n, max_size=n)
    return {"y_true": np.array(draw(labels)), "y_pred": np.array(draw(labels)), "n_classes": m,
            "confidence": draw(floats(0.5, 0.99))}


def _accuracy(r, k):
    assert r.accuracy == pytest.approx(np.mean(k["y_true"] == k["y_pred"]))
    assert 0.0 <= r.low <= r.accuracy <= r.high <= 1.0 and r.contains(r.accuracy)   # Wilson contains the estimate
    assert r.chance == pytest.approx(1.0 / k["n_classes"]) and r.n == len(k["y_true"])


case(pi.attack_accuracy, call=pi.attack_accuracy, valid=class_labels(),
     bad={"y_true": ARRAY + ([[-1], [9]],), "y_pred": ARRAY + ([[0.5]],), "n_classes": SCALAR + ([1],),
          "confidence": SCALAR + ([0.0, 1.0],)},
     check=_accuracy, covers=(pi.AttackAccuracy,))


@st.composite
def wilson_args(draw):
    n = draw(st.integers(0, 500))
    return {"successes": draw(st.integers(0, n)), "n": n, "confidence": draw(floats(0.5, 0.999))}


def _wilson(r, k):
    low, high = r
    assert 0.0 <= low <= high <= 1.0
    if k["n"]:
        assert low <= k["successes"] / k["n"] <= high


case(pi_metrics.wilson_interval, call=pi_metrics.wilson_interval, valid=wilson_args(),
     bad={"successes": SCALAR + ([-1, 10**6],), "n": SCALAR + ([-1],), "confidence": SCALAR + ([0.0, 1.0],)},
     check=_wilson)


def _optimal(r, k):
    assert 0.5 <= r <= 1.0 + 1e-12
    assert r <= pi.optimal_test_accuracy(k["n"] + 1, k["alpha0"], k["alpha1"]) + 1e-12   # non-decreasing in n


case(pi.optimal_test_accuracy, call=pi.optimal_test_accuracy,
     valid=kw(n=st.integers(0, 300), alpha0=floats(0, 1), alpha1=floats(0, 1)),
     bad={"n": SCALAR + ([-1, 2.5],), "alpha0": SCALAR + ([-0.1, 1.5],), "alpha1": SCALAR + ([1.5],)},
     check=_optimal)


def _n_leaked(r, k):
    a, a0, a1 = k["accuracy"], k["alpha0"], k["alpha1"]
    if a0 == a1:
        assert math.isnan(r)
        return
    assert r >= 0.0
    if k["method"] == "exact" and 0.5 < a < 1.0 and math.isfinite(r):   # a*(floor n) <= a <= a*(ceil n)
        assert pi.optimal_test_accuracy(math.floor(r), a0, a1) <= a + 1e-12
        assert a <= pi.optimal_test_accuracy(math.ceil(r), a0, a1) + 1e-12
    if k["method"] == "suri_evans":   # the closed form inverts an upper bound: never above the exact value
        assert r <= pi.n_leaked(a, a0, a1) + 1e-9


case(pi.n_leaked, call=pi.n_leaked,
     valid=kw(accuracy=floats(0, 1), alpha0=floats(0, 1), alpha1=floats(0, 1),
              method=st.sampled_from(["exact", "suri_evans"])),
     bad={"accuracy": SCALAR + ([-0.1, 1.5],), "alpha0": SCALAR + ([1.5],), "alpha1": SCALAR + ([-1.0],),
          "method": (["x", 3.0],)},
     finite=False, check=_n_leaked)


@st.composite
def binary_probs(draw):
    n = draw(st.integers(1, 20))
    return {"y_true": np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))),
            "y_prob": draw(vectors(n, 0.0, 1.0)), "n_bins": draw(st.integers(1, 15))}


case(pi.expected_calibration_error, call=pi.expected_calibration_error, valid=binary_probs(),
     bad={"y_true": ARRAY + ([[0.5], [2.0]],), "y_prob": ARRAY + ([[1.5]],), "n_bins": SCALAR + ([0],)},
     check=lambda r, k: 0.0 <= r <= 1.0)


def _utility_report(r, k):
    assert 0.0 <= r["accuracy"] <= 1.0 and r["log_loss"] >= 0 and 0.0 <= r["brier"] <= 1.0 and 0 <= r["ece"] <= 1
    if np.unique(k["y_true"]).size == 2:   # NaN only with one class (documented)
        assert 0.0 <= r["auc"] <= 1.0
    else:
        assert math.isnan(r["auc"])
    for key in ("accuracy", "log_loss", "brier", "ece"):
        assert math.isfinite(r[key])


case(pi.utility_report, call=pi.utility_report, valid=binary_probs(), finite=False,
     bad={"y_true": ARRAY + ([[0.5], [2.0]],), "y_prob": ARRAY + ([[1.5]],), "n_bins": SCALAR + ([0],)},
     check=_utility_report)


# ----- figures of property inference ----------------------------------------------------------
def _race_cells_call(quick=True, strategies=("exact",), access="white"):
    return figures_pi.race_cells(quick, strategies, access)


case(figures_pi.race_cells, call=_race_cells_call,
     valid=kw(quick=st.booleans(), access=st.sampled_from(["white", "black"]),
              strategies=st.lists(st.sampled_from(["exact", "approximate"]), min_size=1, max_size=2,
                                  unique=True).map(tuple)),
     bad={"quick": (["x", 3.0, None],), "strategies": ([["x"], "exact", 3.0, []],), "access": (["x", 3.0],)},
     check=lambda r, k: (_figure_cells(r, k, pi.ArmsRace), [c.labels["strategy"] for c in r] == list(k["strategies"])))
for _f, _kind in ((figures_pi.defense_cells, pi.CPIExperiment), (figures_pi.defense_race_cells, pi.ArmsRace),
                  (figures_pi.adult_cells, pi.CPIExperiment), (figures_pi.strategy_cells, pi.ArmsRace)):
    case(_f, call=_f, valid=kw(quick=st.booleans()), bad={"quick": (["x", 3.0, None],)},
         check=lambda r, k, _kind=_kind: _figure_cells(r, k, _kind), examples=2)


@st.composite
def summary_records(draw):
    n = draw(st.integers(1, 12))
    value = st.one_of(floats(-3, 3), st.just(math.nan), st.none())
    return {"records": [{"g": draw(st.sampled_from(["a", "b"])), "v": draw(value)} for _ in range(n)],
            "by": ("g",), "fields": ("v",)}


def _summary(r, k):
    assert sum(row["count"] for row in r) == len(k["records"])
    for row in r:
        vals = [x["v"] for x in k["records"] if x["g"] == row["g"] and x["v"] is not None and math.isfinite(x["v"])]
        if vals:
            assert min(vals) - 1e-12 <= row["v"] <= max(vals) + 1e-12
            assert len(vals) == 1 and math.isnan(row["v_se"]) or row["v_se"] >= 0
        else:
            assert math.isnan(row["v"])


case(figures_pi.summarise, call=figures_pi.summarise, valid=summary_records(), finite=False,
     bad={"records": ([3.0, [3.0], [{"v": 1.0}]],), "by": (["g", 3.0, [3.0]],), "fields": (["v", 3.0, [3.0]],)},
     check=_summary)


def _pooled_rows(r, k):
    for row in r:
        assert 0 <= row["correct"] <= row["n_targets"]
        assert row["wilson_low"] <= row["correct"] / row["n_targets"] <= row["wilson_high"]


@st.composite
def defense_records(draw):
    m, k, reps = 3, draw(st.integers(1, 4)), draw(st.integers(1, 3))
    n_each = m * k
    acc = st.integers(0, n_each).map(lambda c: c / n_each)
    experiments = []
    for defense, scale in (("output noise", 0.1), ("parameter noise", 0.5)):
        for rep in range(reps):
            r = {"fingerprint": defense, "defense": defense, "scale": scale, "rep": rep, "n_classes": m}
            for access in ("white", "black"):
                for kind in ("", "_fixed", "_responsive"):
                    r[f"{access}_logistic{kind}_accuracy"] = draw(acc)
            for u in ("auc", "log_loss", "ece"):
                r[u], r[f"defended_{u}"] = draw(floats(0.1, 1)), draw(floats(0.1, 1))
            experiments.append(r)
    races, n_targets = [], draw(st.integers(2, 6))
    for rep in range(2):
        for t in range(draw(st.integers(1, 3))):
            races.append({"access": "black", "strategy": "approximate", "rep": rep, "round": t, "fingerprint": "race",
                          "n_targets": n_targets, "attack_accuracy": draw(st.integers(0, n_targets)) / n_targets,
                          "fixed_accuracy": draw(st.integers(0, n_targets)) / n_targets,
                          **{u: draw(floats(0.1, 1)) for u in ("auc", "log_loss", "ece")}})
    return {"experiments": experiments, "races": races, "n_targets_per_class": k}


case(figures_pi.defense_rows, call=figures_pi.defense_rows, valid=defense_records(), finite=False,
     bad={"experiments": ([3.0, [3.0]],), "races": ([3.0, [3.0], [{"access": "white"}]],),
          "n_targets_per_class": SCALAR + ([0],)},
     check=_pooled_rows)


@st.composite
def adult_records(draw):
    k, reps = draw(st.integers(1, 5)), draw(st.integers(1, 2))
    acc = st.integers(0, 2 * k).map(lambda c: c / (2 * k))
    recs = [{"label_share": share, "alpha": alpha, "white_logistic_accuracy": draw(acc),
             "black_logistic_accuracy": draw(acc), "label_share_0": draw(floats(0, 1)),
             "label_share_1": draw(floats(0, 1)), "auc": draw(floats(0.5, 1))}
            for share in ("follow", "fixed") for alpha in (0.0, 0.5, 1.0) for _ in range(reps)]
    return {"records": recs, "n_targets_per_world": k}


def _adult_rows(r, k):
    for row in r:
        assert row["low"] <= row["accuracy"] <= row["high"] and row["correct"] <= row["n_targets"]
        assert math.isnan(row["n_leaked"]) if row["alpha"] == 0.5 else row["n_leaked"] >= 0


case(figures_pi.adult_rows, call=figures_pi.adult_rows, valid=adult_records(), finite=False,
     bad={"records": ([3.0, [3.0], [{"alpha": 0.1}]],), "n_targets_per_world": SCALAR + ([0],)},
     check=_adult_rows)


@st.composite
def strategy_records(draw):
    recs = []
    for strategy in ("exact", "approximate"):
        for rep in range(draw(st.integers(1, 2))):
            for t in range(draw(st.integers(1, 3))):
                recs.append({"strategy": strategy, "rep": rep, "round": t, "train_seconds": draw(floats(0.01, 5)),
                             "train_evaluations": draw(st.integers(1, 100)), "attack_accuracy": draw(floats(0, 1)),
                             "fixed_accuracy": draw(floats(0, 1)), "auc": draw(floats(0.5, 1)),
                             "round_seconds": draw(floats(0.01, 5)), "auc_drop": draw(floats(-0.1, 0.1))})
    return {"records": recs}


def _strategy_rows(r, k):
    total = {row["strategy"]: row for row in r if row["kind"] == "total"}
    assert set(total) == {"exact", "approximate"}
    ap, ex = total["approximate"], total["exact"]
    assert ap["saving"] == pytest.approx(1.0 - ap["total_train_seconds"] / ex["total_train_seconds"])
    assert ap["final_gap"] >= 0


case(figures_pi.strategy_rows, call=figures_pi.strategy_rows, valid=strategy_records(), finite=False,
     bad={"records": ([3.0, [3.0], [{"strategy": "exact"}]],)}, check=_strategy_rows)
for _name in ("pi_arms_race", "pi_utility_vs_attack", "pi_adult_alpha", "pi_exact_vs_approx"):
    _f = getattr(figures_pi, _name)
    case(_f, call=_f, valid=None, bad={"reps": SCALAR + ([0],), "seed": SCALAR[:4] + ([-1],)})

# =========================================================================== skip-lists
#: public names that take no data (registries, constants, factories without arguments, types)
NO_DATA = {
    # registries and constants: dictionaries, tuples and numbers, nothing to call
    "modelprivacy.attacks.CRITERIA", "modelprivacy.attacks.ATTACKERS", "modelprivacy.attacks.CLASSIFICATION_ATTACKERS",
    "modelprivacy.attacks.regression.KERNEL_RIDGE_CONSTRAINTS", "modelprivacy.defenses.SIGMA_MAX",
    "modelprivacy.defenses.DEFENSES", "modelprivacy.defenses.POSTPROCESSORS", "modelprivacy.features.BASES",
    "modelprivacy.features.KERNELS", "modelprivacy.figures.FIGURES", "modelprivacy.figures.clf.PRECISION",
    "modelprivacy.figures.regression.SETTINGS", "modelprivacy.figures.regression.PRECISION",
    "modelprivacy.figures.regression.HOOKS", "modelprivacy.games.PAPER_SIGMA", "modelprivacy.games.GAMES",
    "modelprivacy.games.GAME_ATTACKERS", "modelprivacy.games.GAME_DEFENSES", "modelprivacy.games.UTILITY_LEVELS",
    "modelprivacy.games.RS_GRID", "modelprivacy.queries.QUERY_STRATEGIES", "modelprivacy.solvers.REGULARIZATIONS",
    "modelprivacy.targets.TARGETS", "modelprivacy.victims.TASKS", "modelprivacy.victims.MODELS",
    # ... and the settings of the newer figures, the attack names and the column lists of the vendored files
    "modelprivacy.figures.regression.NAMES", "modelprivacy.figures.responsive.PL_VS_U",
    "modelprivacy.figures.responsive.ARMS_RACE", "modelprivacy.figures.responsive.ONLINE_VS_BATCH",
    "modelprivacy.figures.property_inference.RACE", "modelprivacy.figures.property_inference.QUICK_RACE",
    "modelprivacy.figures.property_inference.ADULT_ALPHAS", "modelprivacy.property_inference.ATTACKS",
    "modelprivacy.property_inference.datasets.ADULT_COLUMNS", "modelprivacy.property_inference.datasets.GERMAN_COLUMNS",
    # factories and derivations without arguments
    "modelprivacy.verify.ceiling_bound", "modelprivacy.verify.frontier_bound", "modelprivacy.symbolic.reverse_sigmoid",
    # exception and warning types
    "modelprivacy.solvers.DesignSolverError", "modelprivacy.solvers.UnreachableBudgetWarning",
    "modelprivacy.simulate.RecordsConflictError", "modelprivacy.simulate.RecordsLockedError",
}
#: public names exercised elsewhere, with the reason they have no case here
ELSEWHERE = {
    "modelprivacy.cli.main": "command lines: test_bad_command_lines_are_one_error_line below and tests/test_cli.py",
    "modelprivacy.verify.plot_frontier": "draws a matplotlib figure of a Frontier (tests/test_verify.py)",
    "modelprivacy.threat.Draw": "the record a replication hands its hooks; built by the engine only",
}


# =========================================================================== the properties
def _covered():
    ids = set()
    for obj, c in CASES.items():
        ids.add(id(obj))
        ids.update(id(o) for o in c.covers)
    return ids


def test_every_public_name_has_a_strategy():
    covered = _covered()
    public = public_objects()
    missing = [name for key, (obj, name) in public.items()
               if key not in covered and name not in NO_DATA and name not in ELSEWHERE]
    assert not missing, f"public names without a property-test case (add one to CASES or a skip-list): {missing}"
    stale = [n for n in NO_DATA | set(ELSEWHERE) if n not in {name for _, name in public.values()}]
    assert not stale, f"skip-list entries that are no longer public: {stale}"
    for name in NO_DATA:   # what takes no data really takes none
        obj = public_objects_by_name()[name]
        assert not callable(obj) or isinstance(obj, type) and issubclass(obj, Warning | Exception) or \
            all(p.default is not p.empty for p in __import__("inspect").signature(obj).parameters.values()), name


def public_objects_by_name():
    return {name: obj for obj, name in public_objects().values()}


def _label(obj):
    return getattr(obj, "__qualname__", repr(obj))


VALID = [(o, c) for o, c in CASES.items() if c.valid is not None]
INVALID = [(o, c) for o, c in CASES.items() if c.bad]


def _settings(c):
    limit = settings().max_examples
    return settings(max_examples=min(limit, c.examples) if c.examples else limit)


def _call(c, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # convergence and unreachable-budget notes are not errors
        return c.call(**kwargs)


@pytest.mark.parametrize("obj, c", VALID, ids=[_label(o) for o, _ in VALID])
def test_valid_input_meets_the_contract(obj, c):
    @_settings(c)
    @given(c.valid)
    def run(kwargs):
        try:
            result = _call(c, kwargs)
        except c.documented[0] if c.documented else () as exc:  # noqa: B030
            assert re.search(c.documented[1], str(exc))
            return
        if c.finite:
            assert_finite(result)
        if c.check is not None:
            c.check(result, kwargs)

    run()


def _bad_values(c, arg, value):
    out = []
    for kind in c.bad[arg]:
        if isinstance(kind, list):
            out.extend((f"{v!r}"[:40], v) for v in kind)
        elif kind in ARRAY_BAD and (isinstance(value, (np.ndarray, list)) or kind not in SCALAR_BAD):
            out.append((kind, ARRAY_BAD[kind](value)))
        else:
            out.append((kind, SCALAR_BAD[kind](value)))
    return out


@st.composite
def _invalid(draw, c):
    kwargs = dict(draw(c.valid)) if c.valid is not None else {}
    arg = draw(st.sampled_from(sorted(c.bad)))
    label, bad = draw(st.sampled_from(_bad_values(c, arg, kwargs.get(arg, np.ones(3)))))
    return kwargs, arg, label, bad


def _figure_call(c, kwargs, arg, bad, tmp):
    """Figure drivers and decorators are called with their own required arguments."""
    base_ = {"out_dir": tmp, "quick": True} if c.valid is None and hasattr(c.call, "figure_name") else {}
    if c.call in (figures_clf.summarise_budget_curves, figures_clf.format_table, figures.register):
        base_ = {}
    return c.call(**{**base_, **kwargs, arg: bad})


@pytest.mark.parametrize("obj, c", INVALID, ids=[_label(o) for o, _ in INVALID])
def test_invalid_input_is_refused_naming_the_argument(obj, c, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")

    @_settings(c)
    @given(_invalid(c))
    def run(draw):
        kwargs, arg, label, bad = draw
        with pytest.raises(BAD) as info:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _figure_call(c, kwargs, arg, bad, tmp)
        msg = str(info.value)
        assert re.search(c.names.get(arg, re.escape(arg)), msg), f"{_label(obj)}({arg}={label}) raised {type(info.value).__name__}: {msg}"

    run()


# ----- the command line ---------------------------------------------------------------------
BAD_FLAGS = {
    "--sigma": ["nan", "inf", "-1", "1e200", "-inf"],
    "--n": ["0", "-3", "1"],
    "--reps": ["0", "-1"],
    "--jobs": ["-5", "0"],
    "--seed": ["-1"],
    "--precision": ["0", "-0.5", "nan", "inf"],
    "--defense": ["foo", ""],
    "--attack": ["bar"],
    "--game": ["nope"],
}


@settings(max_examples=15)
@given(flag=st.sampled_from(sorted(BAD_FLAGS)), data=st.data())
def test_bad_command_lines_are_one_error_line(flag, data, tmp_path_factory):
    value = data.draw(st.sampled_from(BAD_FLAGS[flag]))
    out = tmp_path_factory.mktemp("cli") / "r.csv"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli.main(["simulate", "--out", str(out), "--quiet", "--reps", "1", flag, value])
        except SystemExit as exc:   # argparse's own usage errors (a choice or a type it refuses)
            code = exc.code
    err = err.getvalue()
    assert code == 2, (flag, value, err)
    assert "error:" in err and "Traceback" not in err, (flag, value, err)


# =========================================================================== aliases
# the error names the argument differently, and rightly so
CASES[attacks.make_attacker].names = {"name": "unknown attacker|fit and predict"}
CASES[attacks.CrossValidatedAttacker].names = {"candidates": "candidate"}   # "candidate 'x' must implement ..."
CASES[defenses.make_defense].names = {"name": "unknown defense"}
CASES[games.make_game].names = {"name": "unknown game"}
CASES[verify.verify_two_point].names = {"budgets": "budget"}
for _cls in (attacks.OLSRegression, attacks.PolynomialRegression, attacks.KernelRidgeAttacker, attacks.GLSRegression,
             attacks.GLSKernelRidge, attacks.TruncatedPolynomialRegression, attacks.RepeatAveraging,
             attacks.CrossValidatedAttacker, attacks.KnownDefenseAttacker):
    CASES[_cls].names = {**CASES[_cls].names, "Z": "X|Z"}   # Z is handed to predict(X)
