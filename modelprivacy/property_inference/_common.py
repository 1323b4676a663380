"""Shared set-up of property-inference experiments: pools, property classes, training sets.

Private: :mod:`.experiments` and :mod:`.arms_race` build their games with
these helpers so that both use one definition of the data split, the classes
and the per-target test sets.
"""

from __future__ import annotations

import contextlib
import numbers
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import ThreadpoolController

from .._param_validation import HasMethods, Interval, StrOptions
from .._validation import child_seed
from .datasets import PropertySampler, SyntheticCredit, TabularData, bin_values, load_dataset, make_bins, split_pool
from .metrics import utility_report
from .models import IndexedSets, ModelSet, _draw, family_of

#: parameter constraints of the setting both games share (data, property, targets, shadows)
SETTING_CONSTRAINTS = {
    "dataset": [StrOptions({"german", "adult"}), TabularData, SyntheticCredit],
    "prop": [None, str, callable, "array-like"],
    "label_share": [StrOptions({"follow", "fixed"}), Interval(Real, 0, 1, closed="neither")],
    "bins": [None, Interval(Integral, 2, None), "array-like"],
    "property_range": [None, "array-like"],
    "property_values": [None, "array-like"],
    "n_train": [Interval(Integral, 2, None)],
    "n_test": [Interval(Integral, 2, None)],
    "target": [None, HasMethods(["fit", "predict_proba"])],
    "n_queries": [Interval(Integral, 1, None)],
    "n_shadows": [Interval(Integral, 2, None)],
    "n_targets": [Interval(Integral, 1, None)],
}

_BLAS = ThreadpoolController()


@contextlib.contextmanager
def single_threaded():
    """One BLAS thread: small matrix products on a shared machine are far faster (and bit-reproducible)."""
    with _BLAS.limit(limits=1, user_api="blas"):
        yield


def check_classes(spec):
    """Check the property classes of a spec before any data is drawn.

    ``bins``: an int >= 2 or at least three edges (two classes at least);
    ``property_range``: ``(low, high)`` with ``0 <= low < high <= 1``;
    ``property_values``: at least two values in [0, 1].
    """
    bins = spec.bins
    if bins is not None:
        few = bins < 2 if isinstance(bins, numbers.Integral) else np.ndim(bins) != 1 or np.size(bins) < 3
        if few:
            raise ValueError(f"bins must be an int >= 2 or at least three edges (two property classes), "
                             f"got {bins!r}.")
    if spec.property_range is not None:
        r = np.asarray(spec.property_range, dtype=float)
        if r.shape != (2,) or not 0.0 <= r[0] < r[1] <= 1.0:
            raise ValueError(f"property_range must be (low, high) with 0 <= low < high <= 1, "
                             f"got {spec.property_range!r}.")
    if spec.property_values is not None:
        v = np.asarray(spec.property_values, dtype=float)
        if v.ndim != 1 or v.size < 2 or np.any((v < 0) | (v > 1)):
            raise ValueError(f"property_values must hold at least two property values in [0, 1], "
                             f"got {spec.property_values!r}.")


def default_target():
    return LogisticRegression(C=1.0, max_iter=5000)


@dataclass
class Environment:
    """The game's data: attacker and provider samplers, property classes, queries."""

    attacker: object  # PropertySampler or SyntheticCredit
    provider: object
    class_values: list  # exact property values per class
    edges: object  # bin edges or None (point worlds)
    queries: np.ndarray
    n_features: int
    family: object
    estimator: object
    name: str

    @property
    def n_classes(self):
        return len(self.class_values)


def build_environment(spec, ss):
    """Data split, samplers, class values and query set of a spec (fields as in the spec classes)."""
    rng = np.random.default_rng(child_seed(ss, 0))
    data = spec.dataset
    if isinstance(data, SyntheticCredit):
        attacker = provider = data
        n_features = data.n_features
        name = "synthetic"
    else:
        data = load_dataset(data)
        if not isinstance(data, TabularData):
            raise TypeError("dataset must be 'adult', 'german', a TabularData or a SyntheticCredit.")
        aux, prov = split_pool(data, (0.5, 0.5), prop=spec.prop, random_state=rng)
        attacker = PropertySampler(aux, spec.prop, label_share=spec.label_share)
        provider = PropertySampler(prov, spec.prop, label_share=spec.label_share)
        attacker._validate_params()
        provider._validate_params()
        n_features = data.n_features
        name = data.name
    estimator = default_target() if spec.target is None else spec.target
    family = family_of(estimator, n_features)
    n = spec.n_train
    if spec.property_values is not None:
        if spec.bins is not None:
            raise ValueError("give either bins (interval classes) or property_values (point worlds), not both.")
        values = [float(v) for v in spec.property_values]
        if len(values) < 2 or len(set(values)) != len(values) and len(values) > 2:
            raise ValueError(f"property_values must hold at least two worlds, got {spec.property_values!r}.")
        class_values = [np.array([v]) for v in values]
        edges = None
    else:
        if spec.bins is None:
            raise ValueError("give bins (an int or edges) or property_values.")
        prange = spec.property_range
        edges = make_bins(spec.bins, prange if prange is not None else (0.0, 1.0))
        reach = None
        if isinstance(attacker, PropertySampler):
            a = attacker.achievable_range(n)
            b = provider.achievable_range(n + spec.n_test)
            reach = (max(a[0], b[0]), min(a[1], b[1]))
        class_values = bin_values(edges, n, achievable=reach)
    # the query set: rows of the attacker's data
    rq = np.random.default_rng(child_seed(ss, 1))
    if isinstance(attacker, PropertySampler):
        idx = rq.choice(attacker.data.n_samples, size=min(spec.n_queries, attacker.data.n_samples), replace=False)
        queries = attacker.data.X[idx]
    else:
        mid = float(np.median(np.concatenate(class_values)))
        k = int(round(mid * spec.n_queries))
        queries, _ = attacker.sample(spec.n_queries, k / spec.n_queries, rq)
    return Environment(attacker, provider, class_values, edges, queries, n_features, family, estimator, name)


def draw_population(env, sampler, n_per_class, n_train, rng, *, n_test=0):
    """Training sets (and per-model test sets with the same property value) for every class.

    Returns
    -------
    datasets : list of (X, y)
    labels, values : ndarrays
    tests : list of (X, y) (empty when ``n_test == 0``)
    """
    datasets, labels, values, tests = [], [], [], []
    train_idx, test_idx = [], []
    for c, vals in enumerate(env.class_values):
        for _ in range(n_per_class):
            v = float(vals[rng.integers(vals.size)])
            X, y, idx = _draw(sampler, n_train, v, rng)
            datasets.append((X, y))
            train_idx.append(idx)
            labels.append(c)
            values.append(v)
            if n_test:
                k = int(round(v * n_test))
                Xt, yt, tidx = _draw(sampler, n_test, k / n_test, rng, exclude=idx)
                tests.append((Xt, yt))
                test_idx.append(tidx)
    if hasattr(sampler, "data"):  # a finite pool: keep indices, not copies
        pool = sampler.data
        datasets = IndexedSets(pool.X, pool.y, train_idx)
        tests = IndexedSets(pool.X, pool.y, test_idx) if n_test else []
    return datasets, np.array(labels), np.array(values), tests


def mean_utility(models, tests, rng=None):
    """Mean over models of :func:`~.metrics.utility_report` on each model's own test set."""
    rows = []
    for i, (X, y) in enumerate(tests):
        seed = None if models.output_seeds is None else (int(models.output_seeds[i]), 10**6)
        rows.append(utility_report(y, models.predict_proba(i, X, rng=seed)))
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def make_models(env, thetas, labels, values, datasets):
    return ModelSet(env.family, np.asarray(thetas), np.asarray(labels), np.asarray(values), datasets)
