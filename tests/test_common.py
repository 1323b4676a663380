"""The shared contract, run on every registered object (like scikit-learn's ``parametrize_with_checks``).

Every defense, postprocessor, attacker, query strategy and target of the
registries goes through the same checks: clone, the get/set params round trip
(``set_params`` in place, a clone stays independent), value equality across
numeric types, ``repr``, constructors that only store their (keyword-only)
arguments, bad parameters rejected at the public entry with a message naming
them, seeded reproducibility, analytic moments against Monte Carlo, and
calibration reaching its target.
"""

import inspect
import math
import numbers

import numpy as np
import pytest
from sklearn.base import clone

from modelprivacy._param_validation import (
    HasMethods,
    InvalidParameterError,
    Interval,
    Options,
    StrOptions,
    make_constraint,
)
from modelprivacy.attacks import ATTACKERS, CLASSIFICATION_ATTACKERS, OLSRegression
from modelprivacy.base import ParamsMixin
from modelprivacy.defenses import (
    DEFENSES,
    POSTPROCESSORS,
    IIDNoise,
    MisleadingVariableProjection,
    RobustLinearSmoother,
)
from modelprivacy.metrics import flip_rate
from modelprivacy.queries import QUERY_STRATEGIES, MultivariateGaussianQueries, PoolQueries
from modelprivacy.targets import LinearTarget, PolynomialTarget, QuadraticTarget, ShiftedTarget, TARGETS
from modelprivacy.threat import Server

# constructor arguments of the classes that need some
EXAMPLE_ARGS = {
    MultivariateGaussianQueries: {"cov": [[1.0, 0.3], [0.3, 1.0]]},
    PoolQueries: {"pool": np.linspace(0.0, 1.0, 30)[:, None]},
    LinearTarget: {"coef": [1.0, -2.0], "intercept": 0.5},
    PolynomialTarget: {"coef": [1.0, 0.5, -0.25]},
    ShiftedTarget: {"target": QuadraticTarget(), "amount": 0.5},
    MisleadingVariableProjection: {"sigma": 0.3, "coef": [1.0, 0.0, 0.0, 0.0]},
    RobustLinearSmoother: {"sigma": 0.3, "attackers": (OLSRegression(2), OLSRegression(3)), "n_emp": 50},
}

OBJECTS = (
    [("defense", n, c) for n, c in DEFENSES.items()]
    + [("postprocessor", n, c) for n, c in POSTPROCESSORS.items()]
    + [("query", n, c) for n, c in QUERY_STRATEGIES.items()]
    + [("target", n, c) for n, c in TARGETS.items()]
    + [("classifier", n, c) for n, c in CLASSIFICATION_ATTACKERS.items()]
    + [("regressor", n, f) for n, f in ATTACKERS.items()]
)

IDS = [f"{kind}-{name}" for kind, name, _ in OBJECTS]
# the package's own classes (the registry also holds scikit-learn's CV regressors)
OURS = [(k, n, c) for k, n, c in OBJECTS if isinstance(c, type) and issubclass(c, ParamsMixin)
        or k == "regressor" and isinstance(c(), ParamsMixin)]
OURS_IDS = [f"{kind}-{name}" for kind, name, _ in OURS]


def build(kind, factory):
    if kind == "regressor":
        return factory()
    return factory(**EXAMPLE_ARGS.get(factory, {}))


def exercise(kind, obj, seed):
    """Call the object's public entry point once; return what it computed."""
    data = np.random.default_rng(100)
    if kind == "defense":
        if isinstance(obj, MisleadingVariableProjection):
            d = np.size(obj.coef)
            target = LinearTarget(np.r_[1.0, np.zeros(d - 1)])
            X = data.normal(size=(15, d))
        else:
            target = QuadraticTarget()
            X = np.linspace(0.05, 0.95, 15)[:, None]
        return obj.respond(X, target(X), rng=seed, target=target)
    if kind == "postprocessor":
        return obj.respond(data.dirichlet(np.ones(3), size=20), rng=seed)
    if kind == "query":
        if obj.interactive:
            server = Server(QuadraticTarget(), IIDNoise(0.1), rng=seed)
            return obj.collect(12, server, rng=seed)[0]
        return obj.sample(12, rng=seed)
    if kind == "target":
        d = np.size(obj.coef) if isinstance(obj, LinearTarget) else 1
        return obj(data.uniform(size=(10, d)))
    if kind == "classifier":
        X = data.normal(size=(40, 3))
        obj.fit(X, data.dirichlet(np.ones(3), size=40))
        return obj.predict_proba(X)
    X = np.sort(data.uniform(size=30))[:, None]
    return obj.fit(X, QuadraticTarget()(X)).predict(X)


def _invalid_value(constraints):
    """A value that satisfies none of the declared constraints."""
    made = [make_constraint(c) for c in constraints]
    for candidate in (np.nan, "__not_an_option__", object(), -7, 1e300, [[np.nan]], True):
        if not any(c.is_satisfied_by(candidate) for c in made):
            return candidate
    raise AssertionError(f"no invalid value found for {constraints}")


def _alternative(constraints, current):
    """A valid value different from ``current`` (or None if none is obvious)."""
    for c in map(make_constraint, constraints):
        if isinstance(c, Interval):
            lo = 0.0 if c.left is None else c.left
            hi = lo + 10.0 if c.right is None else c.right
            for cand in (lo + 0.25 * (hi - lo), lo + 0.5 * (hi - lo), lo + 1, lo + 2):
                cand = int(round(cand)) if c.type is numbers.Integral else float(cand)
                if c.is_satisfied_by(cand) and cand != current:
                    return cand
        if isinstance(c, (StrOptions, Options)):
            for cand in c.options:
                if cand != current:
                    return cand
    if "boolean" in constraints:
        return not current
    if "array-like" in constraints and current is not None:
        return 2.0 * np.asarray(current, dtype=float)
    return None


@pytest.mark.parametrize("kind, name, factory", OBJECTS, ids=IDS)
def test_clone_and_params_round_trip(kind, name, factory):
    obj = build(kind, factory)
    c = clone(obj)
    assert type(c) is type(obj) and c is not obj
    params = obj.get_params(deep=True)
    assert set(obj.get_params(deep=False)) <= set(params)
    assert obj.set_params(**obj.get_params(deep=False)) is obj  # in place, returns self
    assert repr(obj).startswith(type(obj).__name__ + "(")


@pytest.mark.parametrize("kind, name, factory", OURS, ids=OURS_IDS)
def test_set_params_changes_in_place_and_clones_stay_independent(kind, name, factory):
    obj = build(kind, factory)
    before = obj.get_params(deep=False)
    for p, constraints in type(obj)._parameter_constraints.items():
        alt = _alternative(constraints, before[p])
        if alt is None:
            continue
        other = clone(obj)
        assert other.set_params(**{p: alt}) is other
        assert other.get_params(deep=False)[p] is alt
        assert obj.get_params(deep=False)[p] is before[p]   # the original is untouched
        assert other != obj
    if "sigma" in before:
        d = clone(obj).set_params(sigma=0.123)
        assert d.sigma == 0.123 and obj.sigma == before["sigma"]


@pytest.mark.parametrize("kind, name, factory", OURS, ids=OURS_IDS)
def test_equality_is_by_value_across_numeric_types(kind, name, factory):
    obj = build(kind, factory)

    def numpy_typed(v):
        if isinstance(v, bool):
            return v
        if isinstance(v, numbers.Integral):
            return np.int64(v)
        if isinstance(v, numbers.Real):
            return np.float64(v)
        return v

    twin = type(obj)(**{k: numpy_typed(v) for k, v in obj.get_params(deep=False).items()})
    assert twin == obj and hash(twin) == hash(obj)
    assert obj != object()


@pytest.mark.parametrize("kind, name, factory", OURS, ids=OURS_IDS)
def test_constructor_is_keyword_only_and_only_stores(kind, name, factory):
    cls = type(build(kind, factory))
    sig = inspect.signature(cls.__init__)
    positional = [p for p in sig.parameters.values()
                  if p.name != "self" and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert len(positional) <= 1, f"{cls.__name__}: keyword-only beyond the first argument"
    # invalid values are stored, not checked, at construction (checked at the public entry)
    for p, constraints in cls._parameter_constraints.items():
        bad = _invalid_value(constraints)
        args = {**build(kind, factory).get_params(deep=False), p: bad}
        obj = cls(**args)
        assert obj.get_params(deep=False)[p] is bad


@pytest.mark.parametrize("kind, name, factory", OURS, ids=OURS_IDS)
def test_bad_parameters_raise_at_the_entry_naming_them(kind, name, factory):
    obj = build(kind, factory)
    for p, constraints in type(obj)._parameter_constraints.items():
        bad = clone(obj).set_params(**{p: _invalid_value(constraints)})
        with pytest.raises(InvalidParameterError, match=f"'{p}' parameter of {type(obj).__name__}"):
            exercise(kind, bad, 0)


@pytest.mark.parametrize("kind, name, factory", OURS, ids=OURS_IDS)
def test_seeded_reproducibility(kind, name, factory):
    a = exercise(kind, build(kind, factory), 5)
    b = exercise(kind, build(kind, factory), 5)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(a))


DEFENSES_WITH_MOMENTS = [(n, c) for n, c in DEFENSES.items() if not c.query_dependent]


@pytest.mark.parametrize("name, cls", DEFENSES_WITH_MOMENTS, ids=[n for n, _ in DEFENSES_WITH_MOMENTS])
def test_moments_against_monte_carlo(name, cls):
    """The analytic mean and covariance of e given the queries equal the sample moments."""
    d = cls(**EXAMPLE_ARGS.get(cls, {}))
    if "sigma" in d.get_params():
        d.set_params(sigma=0.7)
    X = np.random.default_rng(3).uniform(size=(8, 1))
    y = QuadraticTarget()(X)
    mom = d.moments(X)
    draws = 20000
    rng = np.random.default_rng(4)
    E = np.array([d.perturbation(X, y, rng=rng) for _ in range(draws)])
    sd = np.sqrt(np.maximum(np.diag(mom.cov), 1e-30))
    np.testing.assert_allclose(E.mean(axis=0), mom.mean, atol=5 * sd.max() / math.sqrt(draws) + 1e-12)
    scale = max(float(np.max(np.abs(mom.cov))), 1e-30)
    np.testing.assert_allclose(np.cov(E.T, bias=True), mom.cov, atol=0.05 * scale + 1e-12)
    assert mom.expected_utility_loss() == pytest.approx(np.mean(np.sum(E**2, axis=1)) / 8, rel=0.05, abs=1e-12)


CALIBRATABLE = [(n, c) for n, c in POSTPROCESSORS.items() if c._strength is not None]


@pytest.mark.parametrize("name, cls", CALIBRATABLE, ids=[n for n, _ in CALIBRATABLE])
def test_calibration_reaches_its_target_and_survives_set_params(name, cls):
    P = np.random.default_rng(6).dirichlet(np.full(4, 0.5), size=600)
    d = cls().calibrate(P, 0.05, rng=1, tol=0.01)
    assert abs(d.calibrated_flip_rate_ - 0.05) <= 0.01
    # the calibrated strength reproduces the flip rate with the same common random numbers
    assert flip_rate(P, d.respond(P, rng=1)) == pytest.approx(d.calibrated_flip_rate_)
    # fitted state survives set_params, as in scikit-learn
    d.set_params(**{cls._strength: getattr(d, cls._strength)})
    assert d.n_classes_ == 4


@pytest.mark.parametrize("kind, name, factory", [o for o in OURS if o[0] in ("regressor", "classifier")],
                         ids=[i for i, o in zip(OURS_IDS, OURS) if o[0] in ("regressor", "classifier")])
def test_fitted_attacker_state_survives_set_params(kind, name, factory):
    obj = build(kind, factory)
    exercise(kind, obj, 0)
    fitted = {k for k in vars(obj) if k.endswith("_") and not k.startswith("_")}
    assert fitted
    obj.set_params(**obj.get_params(deep=False))
    assert fitted <= set(vars(obj))


def test_robust_linear_smoother_exposes_its_quadratics():
    """The robust design's objectives are one quadratic per candidate attacker (was an AttributeError)."""
    d = RobustLinearSmoother(0.3, attackers=(OLSRegression(2), OLSRegression(3)), n_emp=40, random_state=0)
    X = np.linspace(0, 1, 12)[:, None]
    f = QuadraticTarget()
    quads = d.quadratic(X, f(X), target=f)
    assert len(quads) == 2
    Z = d.evaluation_points(X)
    for q, att in zip(quads, d.attackers):
        e = np.random.default_rng(0).normal(size=12)
        direct = np.mean((att.fit(X, f(X) + e).predict(Z) - f(Z)) ** 2)
        assert q.value(e) == pytest.approx(direct, rel=1e-9)


def test_has_methods_constraint_names_missing_method():
    assert not HasMethods(["fit", "predict"]).is_satisfied_by(object())
    assert "'fit' and 'predict'" in str(HasMethods(["fit", "predict"]))
