r"""Data and properties for confidential property inference (CPI).

A *property* of a training set is the share of its rows that carry a binary
attribute: the default rate of a loan book (the share of rows with
``y = 1``), the share of women among a bank's customers. Every property the
toolkit works with has this form, so a property is given by a per-row
indicator :math:`z_i \in \{0, 1\}` and the property of a training set
:math:`D` is

.. math::

    \pi(D) = \frac{1}{|D|} \sum_{i \in D} z_i .

A training set of :math:`n` rows can only have the property values
:math:`k/n`, :math:`k = 0, \dots, n`; :class:`PropertySampler` draws training
sets with the property set *exactly* (it refuses values that are not a
multiple of :math:`1/n`, and pools that do not hold enough rows of either
kind).

Contents
--------
* :class:`TabularData`: an encoded data set (features, binary label, property
  indicators); :meth:`TabularData.from_arrays` wraps any user array with a
  property function.
* :func:`load_adult`, :func:`load_german_credit`: the two vendored UCI data
  sets, read offline from the gzipped original files (md5 checked on every
  load), categoricals one-hot encoded with
  :class:`sklearn.preprocessing.OneHotEncoder`, numeric columns standardised
  with :class:`sklearn.preprocessing.StandardScaler`.
* :func:`split_pool`: disjoint stratified parts of a data set (adversary and
  provider halves of the Suri & Evans protocol).
* :class:`PropertySampler`: exact-property training sets from a finite pool,
  with the label share either following the property or held fixed.
* :class:`SyntheticCredit`: a Gaussian class-conditional credit population
  with an exactly controlled default rate, for fast tests.
* :func:`make_bins`, :func:`assign_bins`, :func:`bin_values`: the m property
  intervals of the loan-book setting.

References
----------
* [1] A. Suri and D. Evans, "Formalizing and Estimating Distribution
  Inference Risks", PETS 2022, arXiv:2109.06024 (the Adult protocol: share of
  women 0.5 against alpha in {0.0, 0.1, ..., 1.0}, adversary and victim data
  from disjoint stratified halves).
* [2] Y. Yang, J. Xu, H. Zhang and X. Fang, "Secure Confidential Business
  Information When Sharing Machine Learning Models", arXiv:2509.16352 (the
  loan-book setting: the default rate in intervals; full text not available
  to us, see ``neighbours.md`` Part B).
* [3] D. Dua and C. Graff, UCI Machine Learning Repository (Adult; Statlog
  German Credit), CC BY 4.0; attribution in ``property_inference/data/README.md``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import numbers
from dataclasses import dataclass, field
from importlib import resources
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .._param_validation import Interval, StrOptions, validate_params
from .._validation import _as_float_array, check_binary, check_generator, check_matrix, check_queries, check_scalar
from ..base import ParamsMixin

__all__ = [
    "TabularData",
    "load_adult",
    "load_german_credit",
    "load_dataset",
    "split_pool",
    "PropertySampler",
    "SyntheticCredit",
    "make_bins",
    "assign_bins",
    "bin_values",
    "ADULT_COLUMNS",
    "GERMAN_COLUMNS",
]

#: md5 of the *unzipped* vendored files (from the UCI originals)
_MD5 = {
    "adult.data.gz": "5d7c39d7b8804f071cdd1f2a7c460872",
    "german.data.gz": "8e2c6d456b3cda1f273bfbbbd73ece6c",
}

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
)
_ADULT_NUMERIC = ("age", "education-num", "capital-gain", "capital-loss", "hours-per-week")
_ADULT_LOG = ("capital-gain", "capital-loss")
_ADULT_CATEGORICAL = ("workclass", "marital-status", "occupation", "relationship", "race", "sex",
                      "native-country")

GERMAN_COLUMNS = (
    "checking_status", "duration", "credit_history", "purpose", "credit_amount", "savings",
    "employment", "installment_rate", "personal_status_sex", "other_debtors", "residence_since",
    "property", "age", "other_installment_plans", "housing", "existing_credits", "job",
    "num_dependents", "telephone", "foreign_worker", "credit_risk",
)
#: attribute codes documented in german.names (A47 and A95 are documented but never occur)
_GERMAN_CODES = {
    "checking_status": ("A11", "A12", "A13", "A14"),
    "credit_history": ("A30", "A31", "A32", "A33", "A34"),
    "purpose": ("A40", "A41", "A42", "A43", "A44", "A45", "A46", "A47", "A48", "A49", "A410"),
    "savings": ("A61", "A62", "A63", "A64", "A65"),
    "employment": ("A71", "A72", "A73", "A74", "A75"),
    "personal_status_sex": ("A91", "A92", "A93", "A94", "A95"),
    "other_debtors": ("A101", "A102", "A103"),
    "property": ("A121", "A122", "A123", "A124"),
    "other_installment_plans": ("A141", "A142", "A143"),
    "housing": ("A151", "A152", "A153"),
    "job": ("A171", "A172", "A173", "A174"),
    "telephone": ("A191", "A192"),
    "foreign_worker": ("A201", "A202"),
}
_GERMAN_NUMERIC = ("duration", "credit_amount", "installment_rate", "residence_since", "age",
                   "existing_credits", "num_dependents")
_GERMAN_LOG = ("duration", "credit_amount")


# --------------------------------------------------------------------------------------
# the data container
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TabularData:
    """An encoded tabular data set with a binary label and named property indicators.

    Attributes
    ----------
    X : ndarray of shape (n, d)
        Encoded features (finite floats).
    y : ndarray of shape (n,)
        Binary label in {0, 1}.
    attributes : dict of str -> ndarray of bool, shape (n,)
        Per-row indicators usable as properties (``"female"``, ``"default"``).
    default_property : str
        The attribute a sampler uses when no property is named.
    feature_names : tuple of str
    name : str
    """

    X: np.ndarray
    y: np.ndarray
    attributes: dict = field(default_factory=dict)
    default_property: str = ""
    feature_names: tuple = ()
    name: str = "data"

    def __post_init__(self):
        # validation only: the arrays are kept as given (the checks work on copies)
        n, d = check_matrix(self.X, "X").shape
        check_binary(self.y, "y", n=n)
        if not isinstance(self.attributes, dict):
            raise TypeError(f"attributes must be a dict of per-row indicators, got {type(self.attributes).__name__}.")
        for k, v in self.attributes.items():
            v = np.asarray(v)
            if v.dtype.kind != "b" or v.shape != (n,):
                raise ValueError(f"attributes[{k!r}] must be a bool array of shape ({n},), got dtype {v.dtype} "
                                 f"and shape {v.shape}.")
        if self.default_property and self.default_property not in self.attributes:
            raise ValueError(f"default_property {self.default_property!r} is not one of the attributes "
                             f"{sorted(self.attributes)}.")
        if self.feature_names and len(self.feature_names) != d:
            raise ValueError(f"feature_names must name the {d} features, got {len(self.feature_names)} names.")

    @property
    def n_samples(self):
        return int(self.X.shape[0])

    @property
    def n_features(self):
        return int(self.X.shape[1])

    def indicator(self, prop=None):
        """The 0/1 indicator ``z`` of a property, as a bool array of shape (n,).

        Parameters
        ----------
        prop : None, str, callable or array-like
            ``None``: :attr:`default_property`; a str: one of :attr:`attributes`;
            a callable ``prop(X, y) -> array of n booleans``; or the indicator
            itself.
        """
        if prop is None:
            prop = self.default_property
        if isinstance(prop, str):
            if prop not in self.attributes:
                raise ValueError(f"property {prop!r} is not an attribute of {self.name!r}; "
                                 f"available: {sorted(self.attributes)}.")
            return self.attributes[prop]
        z = prop(self.X, self.y) if callable(prop) else prop
        z = np.asarray(z)
        if z.shape != (self.n_samples,):
            raise ValueError(f"the property indicator must have shape ({self.n_samples},), got {z.shape}.")
        if z.dtype.kind == "b":
            return z
        if z.dtype.kind not in "biuf" or not np.all(np.isin(z, (0, 1))):
            raise ValueError("the property indicator must contain only 0/1 or booleans "
                             "(a property is the share of rows carrying an attribute).")
        return z.astype(bool)

    def subset(self, idx):
        """The rows ``idx`` as a new :class:`TabularData`."""
        idx = np.asarray(idx)
        return TabularData(self.X[idx], self.y[idx], {k: v[idx] for k, v in self.attributes.items()},
                           self.default_property, self.feature_names, self.name)

    @classmethod
    def from_arrays(cls, X, y, *, prop=None, attributes=None, name="user"):
        """Wrap user arrays.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Numeric, already encoded features.
        y : array-like of shape (n,)
            Binary label (two distinct values; the larger one is class 1).
        prop : callable or array-like, optional
            The property: a callable ``prop(X, y) -> n booleans`` or the
            indicator array; stored as attribute ``"property"``. Without it
            the property is the label share (``"label"``).
        attributes : dict of str -> array-like, optional
            Further named indicators.
        """
        X = check_matrix(X, "X")
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}.")
        if y.dtype.kind in "biufc":   # numeric labels: real and finite (NaN would be a class of its own)
            _as_float_array(y, "y")
        values = np.unique(y)
        if values.size != 2:
            raise ValueError(f"y must have exactly two classes, got {values.size}.")
        y = (y == values[1]).astype(int)
        data = cls(X, y, {"label": y.astype(bool)}, "label", tuple(f"x{j}" for j in range(X.shape[1])), name)
        attrs = dict(data.attributes)
        for k, v in (attributes or {}).items():
            attrs[k] = data.indicator(v)
        if prop is not None:
            attrs["property"] = data.indicator(prop)
        return cls(X, y, attrs, "property" if prop is not None else "label", data.feature_names, name)


# --------------------------------------------------------------------------------------
# reading the files
# --------------------------------------------------------------------------------------
def _vendored(name):
    return resources.files(__package__).joinpath("data").joinpath(name)


def _read_text(path, vendored_name):
    """Return the decoded text of a gzipped (or plain) file; check the md5 of vendored files."""
    if path is None:
        raw = gzip.decompress(_vendored(vendored_name).read_bytes())
        digest = hashlib.md5(raw).hexdigest()
        if digest != _MD5[vendored_name]:
            raise ValueError(f"the vendored file {vendored_name} is corrupted: md5 {digest}, "
                             f"expected {_MD5[vendored_name]}; reinstall the package.")
    else:
        data = Path(path).read_bytes()
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return raw.decode("latin-1")


def _rows(text):
    rows = []
    for line in io.StringIO(text):
        line = line.strip()
        if not line:
            continue
        fields = line.split(",") if "," in line else line.split()
        rows.append([f.strip() for f in fields])
    return rows


def _table(text, columns, source):
    """Parse rows into ``{column: array of str}``; a header row is matched by name.

    Raises a ``ValueError`` naming the missing or unknown columns, or the first
    row with the wrong number of fields.
    """
    rows = _rows(text)
    if not rows:
        raise ValueError(f"{source} is empty.")
    first = rows[0]
    names = list(columns)
    # every data row of both files holds numbers (age, duration, ...); a header holds none
    looks_like_header = not any(_is_float(f) for f in first)
    if looks_like_header:
        missing = [c for c in columns if c not in first]
        unknown = [f for f in first if f not in columns]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing columns {missing}")
            if unknown:
                parts.append(f"unknown columns {unknown}")
            raise ValueError(f"{source}: {' and '.join(parts)}; expected exactly {list(columns)}.")
        names = first
        rows = rows[1:]
    for i, r in enumerate(rows):
        if len(r) != len(names):
            raise ValueError(
                f"{source}: row {i + 1} has {len(r)} fields, expected {len(names)} "
                f"(columns {list(columns)}); a column is missing or an unknown one was added.")
    arr = np.array(rows, dtype=object)
    return {name: arr[:, j] for j, name in enumerate(names)}


def _numeric(col, name, source):
    try:
        return col.astype(float)
    except ValueError as exc:
        bad = next(v for v in col if not _is_float(v))
        raise ValueError(f"{source}: column {name!r} must be numeric, found {bad!r}.") from exc


def _is_float(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


def _encode(table, numeric, log_cols, categorical, source, drop):
    """Standardised numeric columns (log1p first for the skewed ones) and one-hot categoricals."""
    num = []
    for c in numeric:
        v = _numeric(table[c], c, source)
        if c in log_cols:
            if np.any(v < 0):
                raise ValueError(f"{source}: column {c!r} must be non-negative.")
            v = np.log1p(v)
        num.append(v)
    Xn = StandardScaler().fit_transform(np.column_stack(num))
    cats = np.column_stack([table[c].astype(str) for c in categorical])
    enc = OneHotEncoder(sparse_output=False, handle_unknown="error", dtype=float, drop=drop)
    Xc = enc.fit_transform(cats)
    names = tuple(numeric) + tuple(enc.get_feature_names_out(list(categorical)))
    return np.hstack([Xn, Xc]), names


@functools.lru_cache(maxsize=4)
def _load_adult_cached(drop):
    return _load_adult(None, drop)


def _load_adult(path, drop):
    source = "adult.data.gz" if path is None else str(path)
    table = _table(_read_text(path, "adult.data.gz"), ADULT_COLUMNS, source)
    income = np.array([s.rstrip(".") for s in table["income"]])
    bad = sorted(set(income) - {">50K", "<=50K"})
    if bad:
        raise ValueError(f"{source}: column 'income' must be '<=50K' or '>50K', found {bad[:3]}.")
    sex = table["sex"].astype(str)
    bad = sorted(set(sex) - {"Female", "Male"})
    if bad:
        raise ValueError(f"{source}: column 'sex' must be 'Female' or 'Male', found {bad[:3]}.")
    X, names = _encode(table, _ADULT_NUMERIC, _ADULT_LOG, _ADULT_CATEGORICAL, source, drop)
    y = (income == ">50K").astype(int)
    attrs = {"female": sex == "Female", "non_white": table["race"].astype(str) != "White",
             "income": y.astype(bool)}
    return TabularData(X, y, attrs, "female", names, "adult")


@validate_params({"path": [None, str, Path], "drop": [None, StrOptions({"first"})]})
def load_adult(path=None, *, drop="first"):
    """UCI Adult (Census Income, 32,561 rows), encoded; the property is the share of women.

    Features: age, education-num, log1p(capital-gain), log1p(capital-loss),
    hours-per-week (standardised) and one-hot workclass, marital-status,
    occupation, relationship, race, sex and native-country (``?`` is kept
    as its own category; first category dropped, see ``drop``). ``fnlwgt`` (a census sampling weight, not an
    attribute of the person) and ``education`` (the same information as
    ``education-num``) are dropped. *Sex is an input feature*: a model can
    read the share of women from its own coefficients, which is why the
    sampler's label-share choice matters so much on Adult (see
    :class:`PropertySampler`).

    Label ``y = 1`` for income ``>50K``. Attributes: ``"female"`` (default
    property), ``"non_white"``, ``"income"``.

    Parameters
    ----------
    path : str or Path, optional
        Read this file (gzipped or plain, with or without a header row)
        instead of the vendored copy; the vendored copy's md5 is checked.
    drop : {"first", None}, default="first"
        One-hot reference category (see :func:`load_german_credit`).

    Raises
    ------
    ValueError
        Corrupted vendored file, missing or unknown columns, rows with the
        wrong number of fields, unknown label or sex values.
    """
    return _load_adult_cached(drop) if path is None else _load_adult(path, drop)


@functools.lru_cache(maxsize=4)
def _load_german_cached(drop):
    return _load_german(None, drop)


def _load_german(path, drop):
    source = "german.data.gz" if path is None else str(path)
    table = _table(_read_text(path, "german.data.gz"), GERMAN_COLUMNS, source)
    for c, codes in _GERMAN_CODES.items():
        bad = sorted(set(table[c].astype(str)) - set(codes))
        if bad:
            raise ValueError(f"{source}: column {c!r} has unknown codes {bad[:3]}; "
                             f"german.names documents {list(codes)}.")
    risk = table["credit_risk"].astype(str)
    bad = sorted(set(risk) - {"1", "2"})
    if bad:
        raise ValueError(f"{source}: column 'credit_risk' must be 1 (good) or 2 (bad), found {bad[:3]}.")
    categorical = tuple(_GERMAN_CODES)
    X, names = _encode(table, _GERMAN_NUMERIC, _GERMAN_LOG, categorical, source, drop)
    y = (risk == "2").astype(int)
    female = np.isin(table["personal_status_sex"].astype(str), ("A92", "A95"))
    return TabularData(X, y, {"default": y.astype(bool), "female": female}, "default", names, "german")


@validate_params({"path": [None, str, Path], "drop": [None, StrOptions({"first"})]})
def load_german_credit(path=None, *, drop="first"):
    """UCI Statlog German Credit (1,000 loans), encoded; the property is the default rate.

    Label ``y = 1`` for a bad credit (class 2 in the file; 30% of the
    loans): the default rate of a loan book is its label share. Features:
    the seven numeric attributes standardised (log1p of duration and credit
    amount first) and the thirteen coded attributes one-hot encoded (see
    ``drop``); codes are checked against ``german.names``. Attributes: ``"default"`` (default
    property) and ``"female"`` (personal status A92/A95).

    Parameters
    ----------
    path : str or Path, optional
        Read this file (gzipped or plain, comma or whitespace separated, with
        or without a header row) instead of the vendored copy.
    drop : {"first", None}, default="first"
        One-hot reference category.

    Categoricals are one-hot encoded with the first category of each
    attribute dropped (``drop="first"``) by default. With every category
    kept, the columns of one attribute sum to one, so adding :math:`c` to
    their coefficients and :math:`-c` to the intercept changes no prediction:
    a linear model then has one such invisible direction per categorical
    attribute, its white-box parameters carry the base rate in as many
    interchangeable places, and a defense acting on parameters can move the
    base rate between them without removing it (this is what the arms race
    did on German Credit with ``drop=None``: the pinned attackers fell to
    chance while a retrained one rose from 0.58 to 0.77 at no cost in
    log-loss). With a reference category dropped the parameters identify
    the model's function.

    Raises
    ------
    ValueError
        Corrupted vendored file, missing or unknown columns, unknown codes.
    """
    return _load_german_cached(drop) if path is None else _load_german(path, drop)


@validate_params({"name": [StrOptions({"adult", "german"}), TabularData]})
def load_dataset(name):
    """``"adult"`` or ``"german"`` by name; a :class:`TabularData` is returned unchanged."""
    if isinstance(name, TabularData):
        return name
    loaders = {"adult": load_adult, "german": load_german_credit}
    if name not in loaders:
        raise ValueError(f"unknown data set {name!r}; expected one of {sorted(loaders)} or a TabularData.")
    return loaders[name]()


@validate_params({
    "data": [TabularData],
    "fractions": ["array-like"],
    "prop": [None, str, callable, "array-like"],
    "random_state": ["random_state"],
})
def split_pool(data, fractions=(0.5, 0.5), *, prop=None, random_state=None):
    """Disjoint parts of a data set, stratified by (property indicator, label).

    Within each of the four strata (z, y) the rows are shuffled and cut in the
    given proportions, so every part has (up to one row per stratum) the
    data set's share of the property, its label share and their joint
    distribution: the "disjoint stratified halves" of Suri & Evans [1].

    Parameters
    ----------
    data : TabularData
    fractions : sequence of positive floats summing to 1
    prop : property of :meth:`TabularData.indicator` (default: the data set's)
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    tuple of TabularData
    """
    fr = np.asarray(fractions, dtype=float)
    if fr.ndim != 1 or fr.size < 2 or np.any(fr <= 0) or not np.isclose(fr.sum(), 1.0):
        raise ValueError(f"fractions must be >= 2 positive numbers summing to 1, got {fractions!r}.")
    rng = check_generator(random_state)
    z = data.indicator(prop)
    parts = [[] for _ in fr]
    cuts = np.cumsum(fr)[:-1]
    for zv in (False, True):
        for yv in (0, 1):
            idx = np.flatnonzero((z == zv) & (data.y == yv))
            idx = rng.permutation(idx)
            bounds = np.round(cuts * idx.size).astype(int)
            for j, chunk in enumerate(np.split(idx, bounds)):
                parts[j].append(chunk)
    return tuple(data.subset(np.sort(np.concatenate(p))) for p in parts)


# --------------------------------------------------------------------------------------
# exact-property sampling
# --------------------------------------------------------------------------------------
def _exact_count(n_samples, value):
    """``k = n * value`` when it is an integer (to 1e-9), else a ValueError naming the nearest values."""
    k = n_samples * float(value)
    kr = int(round(k))
    if abs(k - kr) > 1e-9 * max(1.0, n_samples):
        lo, hi = int(np.floor(k)), int(np.ceil(k))
        raise ValueError(
            f"a training set of n_samples={n_samples} rows has property values k/{n_samples} only; "
            f"value={value!r} gives k={k:.6g}, not an integer. Nearest exact values: "
            f"{lo / n_samples!r} and {hi / n_samples!r}.")
    return kr


def _largest_remainder(targets, total, caps):
    """Integers ``<= caps`` summing to ``total`` and closest to the real ``targets``."""
    base = np.minimum(np.floor(targets).astype(int), caps)
    short = total - base.sum()
    order = np.argsort(-(targets - base), kind="stable")
    for j in order:
        if short <= 0:
            break
        if base[j] < caps[j]:
            base[j] += 1
            short -= 1
    return base


class PropertySampler(ParamsMixin, BaseEstimator):
    r"""Draw training sets from a finite pool with the property set exactly.

    A training set of ``n_samples`` rows with property value ``value`` holds
    exactly :math:`k = n\,\cdot\,\text{value}` rows with :math:`z = 1`
    (``value`` must be a multiple of :math:`1/n`), drawn without replacement.

    The *label share* is the second half of the design, and on Adult it
    decides much of the leakage (sex is an input feature and women earn
    ``>50K`` less often: 10.9% against 30.6% in the full data):

    * ``"follow"``: rows are drawn uniformly within the two property strata,
      so the label share follows the property,
      :math:`E[\bar y] = \text{value}\,p_1 + (1 - \text{value})\,p_0` with
      :math:`p_z` the pool's label rate in stratum :math:`z`. A model's
      intercept then carries the property.
    * ``"fixed"`` or a share in (0, 1): the training set holds exactly
      :math:`L = \operatorname{round}(n \cdot \text{share})` positives
      (``"fixed"``: the pool's own label share). They are split between the
      strata as :math:`n_{z,1} \approx c\,n_z\,p_z` with one common factor
      :math:`c` (largest-remainder rounding, capped at :math:`n_z`), i.e. the
      ratio of the strata's label rates is kept while their mix is rescaled
      to the fixed share; the rows are then drawn uniformly within the four
      (z, y) cells. The label share is no longer a direct read-out of the
      property. When the property *is* the label (a default rate) the label
      share cannot be held fixed, and ``"fixed"`` raises.

    Parameters
    ----------
    data : TabularData
        The pool.
    prop : None, str, callable or array-like, default=None
        The property (see :meth:`TabularData.indicator`); ``None``: the data
        set's default property.
    label_share : {"follow", "fixed"} or float in (0, 1), default="follow"
    """

    _parameter_constraints = {
        "data": [TabularData],
        "prop": [None, str, callable, "array-like"],
        "label_share": [StrOptions({"follow", "fixed"}), Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, data, prop=None, *, label_share="follow"):
        self.data = data
        self.prop = prop
        self.label_share = label_share

    # ----- public -------------------------------------------------------------------
    def sample_indices(self, n_samples, value, random_state=None, *, exclude=None):
        """Row indices of one training set (see :meth:`sample`)."""
        self._validate_params()
        return self._sample_indices(n_samples, value, check_generator(random_state), exclude)

    def sample(self, n_samples, value, random_state=None, *, exclude=None):
        """Draw ``(X, y)`` of ``n_samples`` rows whose property is exactly ``value``.

        Parameters
        ----------
        n_samples : int >= 1
        value : float in [0, 1], a multiple of ``1 / n_samples``
        random_state : None, int, SeedSequence or Generator
        exclude : array of row indices or bool mask, optional
            Rows not to draw (e.g. a target's training rows when drawing its
            test set).

        Returns
        -------
        X : ndarray of shape (n_samples, d)
        y : ndarray of shape (n_samples,)

        Raises
        ------
        ValueError
            When ``value`` is not a multiple of ``1 / n_samples``, or the pool
            cannot supply the rows (the message says how many are needed and
            available, and the achievable range).
        """
        self._validate_params()
        idx = self._sample_indices(n_samples, value, check_generator(random_state), exclude)
        return self.data.X[idx], self.data.y[idx]

    def achievable_range(self, n_samples, *, exclude=None):
        """The smallest and largest property value a training set of ``n_samples`` rows can have.

        With ``label_share="follow"`` this is exact; with a fixed label share
        it is the stratum-count bound (the cell split may still fail near
        the ends, with a clear error from :meth:`sample`).
        """
        self._validate_params()
        z, _, avail = self._pool(exclude)
        n1, n0 = int(np.sum(z & avail)), int(np.sum(~z & avail))
        if n1 + n0 < n_samples:
            raise ValueError(f"the pool has {n1 + n0} rows, fewer than n_samples={n_samples}.")
        return max(0, n_samples - n0) / n_samples, min(n_samples, n1) / n_samples

    def property_of(self, idx):
        """The property of the training set made of rows ``idx`` (the mean indicator)."""
        self._validate_params()
        return float(np.mean(self.data.indicator(self.prop)[np.asarray(idx)]))

    # ----- private ------------------------------------------------------------------
    def _pool(self, exclude):
        z = self.data.indicator(self.prop)
        avail = np.ones(z.shape[0], dtype=bool)
        if exclude is not None:
            ex = np.asarray(exclude)
            if ex.dtype.kind == "b":
                if ex.shape != avail.shape:
                    raise ValueError(f"exclude mask must have shape {avail.shape}, got {ex.shape}.")
                avail &= ~ex
            else:
                avail[ex.astype(int)] = False
        return z, self.data.y.astype(bool), avail

    def _sample_indices(self, n_samples, value, rng, exclude):
        if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        n_samples = int(n_samples)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"value must be a property value in [0, 1], got {value!r}.")
        k = _exact_count(n_samples, value)
        z, y, avail = self._pool(exclude)
        pname = self.prop if isinstance(self.prop, str) else (self.data.default_property if self.prop is None
                                                              else "property")
        if self.label_share == "follow":
            cells = {(True, None): k, (False, None): n_samples - k}
        else:
            if np.array_equal(z, y):
                raise ValueError(
                    f"label_share={self.label_share!r} holds the label share fixed, but the property "
                    f"{pname!r} is the label share itself; use label_share='follow'.")
            share = float(np.mean(y[avail])) if self.label_share == "fixed" else float(self.label_share)
            L = int(round(n_samples * share))
            nz = np.array([n_samples - k, k])
            pz = np.array([np.mean(y[avail & ~z]) if np.any(avail & ~z) else 0.0,
                           np.mean(y[avail & z]) if np.any(avail & z) else 0.0])
            denom = float(nz @ pz)
            if denom <= 0:
                raise ValueError(f"the pool has no positive labels in the strata needed for value={value!r}.")
            targets = np.minimum(nz * pz * (L / denom), nz)
            pos = _largest_remainder(targets, L, nz)
            if pos.sum() != L:
                raise ValueError(
                    f"cannot hold the label share at {L}/{n_samples} with property value {value!r}: "
                    f"the strata hold only {nz.tolist()} rows.")
            cells = {(False, 1): int(pos[0]), (False, 0): int(nz[0] - pos[0]),
                     (True, 1): int(pos[1]), (True, 0): int(nz[1] - pos[1])}
        chunks = []
        for (zv, yv), count in cells.items():
            mask = avail & (z == zv)
            if yv is not None:
                mask &= y == bool(yv)
            idx = np.flatnonzero(mask)
            if idx.size < count:
                what = f"with {pname}={int(zv)}" + ("" if yv is None else f" and label {yv}")
                lo_hi = ""
                if self.label_share == "follow":
                    n1, n0 = int(np.sum(z & avail)), int(np.sum(~z & avail))
                    if n1 + n0 >= n_samples:
                        lo_hi = (f"; values in [{max(0, n_samples - n0) / n_samples:.4g}, "
                                 f"{min(n_samples, n1) / n_samples:.4g}] are reachable with n_samples={n_samples}")
                raise ValueError(
                    f"the pool cannot supply property value {value!r} with n_samples={n_samples}: "
                    f"it needs {count} rows {what} but the pool has {idx.size}{lo_hi}.")
            if count:
                chunks.append(rng.choice(idx, size=count, replace=False))
        out = np.concatenate(chunks) if chunks else np.empty(0, dtype=int)
        return rng.permutation(out)


# --------------------------------------------------------------------------------------
# synthetic credit population
# --------------------------------------------------------------------------------------
class SyntheticCredit(ParamsMixin, BaseEstimator):
    r"""A synthetic credit population with an exactly controlled default rate.

    Class-conditional Gaussians (the linear discriminant model):

    .. math::

        x \mid y \sim N(y\,\mu, I_d), \qquad
        \mu = \frac{\delta}{\sqrt{k}}\,(1, \dots, 1, 0, \dots, 0)
        \quad (k \text{ informative coordinates}),

    :math:`k` = ``n_informative``, so :math:`\|\mu\| = \delta` (``separation``). A loan book of ``n`` rows
    with default rate :math:`\pi` holds exactly :math:`n\pi` defaulters
    (``y = 1``). Its Bayes posterior is logistic,

    .. math::

        \operatorname{logit} P(y = 1 \mid x) = \mu^\top x - \tfrac12 \|\mu\|^2
        + \operatorname{logit} \pi ,

    so the default rate sits *only* in the intercept: the analytic
    counterpart of the spec's "the base rate sits in the intercept" (B.5).

    Parameters
    ----------
    n_features : int >= 1, default=8
    separation : float > 0, default=1.5
        :math:`\delta`, the distance between the class means (Bayes AUC
        :math:`\Phi(\delta/\sqrt2)`).
    n_informative : int >= 1 or None, default=None
        Features that carry the signal (None: all).
    """

    _parameter_constraints = {
        "n_features": [Interval(Integral, 1, None)],
        "separation": [Interval(Real, 0, None, closed="neither")],
        "n_informative": [None, Interval(Integral, 1, None)],
    }

    def __init__(self, n_features=8, *, separation=1.5, n_informative=None):
        self.n_features = n_features
        self.separation = separation
        self.n_informative = n_informative

    def mean_shift(self):
        """The class-1 mean :math:`\\mu` (class 0 has mean 0)."""
        self._validate_params()
        return self._mu()

    def _mu(self):
        k = self.n_features if self.n_informative is None else min(self.n_informative, self.n_features)
        mu = np.zeros(self.n_features)
        mu[:k] = self.separation / np.sqrt(k)
        return mu

    def sample(self, n_samples, value, random_state=None):
        """A loan book of ``n_samples`` rows with default rate exactly ``value``.

        ``value`` must be a multiple of ``1 / n_samples``. Returns ``(X, y)``.
        """
        self._validate_params()
        if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"value must be a default rate in [0, 1], got {value!r}.")
        k = _exact_count(int(n_samples), value)
        return self._draw(int(n_samples), k, check_generator(random_state))

    def _draw(self, n, k, rng):
        y = np.zeros(n, dtype=int)
        y[:k] = 1
        y = rng.permutation(y)
        X = rng.standard_normal((n, self.n_features)) + y[:, None] * self._mu()[None, :]
        return X, y

    def make_data(self, n_samples, default_rate=0.3, random_state=None):
        """A finite pool (:class:`TabularData`, property ``"default"``) drawn from the population."""
        X, y = self.sample(n_samples, default_rate, random_state)
        return TabularData(X, y, {"default": y.astype(bool)}, "default",
                           tuple(f"x{j}" for j in range(self.n_features)), "synthetic")

    def bayes_logit(self, X, default_rate):
        """The Bayes log-odds :math:`\\mu^\\top x - \\|\\mu\\|^2/2 + \\operatorname{logit}\\pi`."""
        self._validate_params()
        mu = self._mu()
        X = check_queries(X, "X", n_features=self.n_features)
        default_rate = check_scalar(default_rate, "default_rate", low=0.0, high=1.0, low_inclusive=False,
                                    high_inclusive=False)
        return X @ mu - 0.5 * mu @ mu + np.log(default_rate / (1.0 - default_rate))


# --------------------------------------------------------------------------------------
# property bins
# --------------------------------------------------------------------------------------
@validate_params({
    "bins": [Interval(Integral, 1, None), "array-like"],
    "property_range": ["array-like"],
})
def make_bins(bins, property_range):
    """Bin edges for the m-class property game, checked to cover the property's range.

    Parameters
    ----------
    bins : int or sequence of floats
        ``m`` (equal-width bins over ``property_range``) or the ``m + 1``
        increasing edges.
    property_range : (low, high)
        The range of property values the game draws from (the attacker's
        prior support), ``0 <= low < high <= 1``.

    Returns
    -------
    ndarray of shape (m + 1,)

    Raises
    ------
    ValueError
        When the edges are not increasing, or do not cover ``property_range``
        (a property value would fall in no bin).
    """
    rng_ = np.asarray(property_range, dtype=float)
    if rng_.shape != (2,) or not 0.0 <= rng_[0] < rng_[1] <= 1.0:
        raise ValueError(f"property_range must be (low, high) with 0 <= low < high <= 1, got {property_range!r}.")
    low, high = rng_
    if isinstance(bins, numbers.Integral):
        if bins < 1:
            raise ValueError(f"bins must be a number of bins >= 1 or the edges, got {bins!r}.")
        return np.linspace(low, high, int(bins) + 1)
    edges = _check_edges(bins, "bins")
    if edges[0] > low or edges[-1] < high:
        raise ValueError(
            f"the bins [{edges[0]:g}, {edges[-1]:g}] do not cover the property range "
            f"[{low:g}, {high:g}]: property values in "
            + " and ".join(s for s in (f"[{low:g}, {edges[0]:g})" if edges[0] > low else "",
                                       f"({edges[-1]:g}, {high:g}]" if edges[-1] < high else "") if s)
            + " would fall in no bin.")
    return edges


def _check_edges(edges, name):
    """At least two strictly increasing finite edges, as a 1-D float array."""
    arr = np.asarray(edges, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"{name} must be an int or at least two edges, got {edges!r}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite edges, got {arr.tolist()}.")
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name}: bin edges must be strictly increasing, got {arr.tolist()}.")
    return arr


@validate_params({"values": ["array-like"], "edges": ["array-like"]})
def assign_bins(values, edges):
    """Bin index of each property value: ``[e_b, e_{b+1})``, the last bin closed.

    Raises a ``ValueError`` for values outside ``[e_0, e_m]``, and for
    ``values`` that are not a scalar or a 1-D array.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim > 1:
        raise ValueError(f"values must be a 1-D array of property values, got shape {values.shape}.")
    edges = _check_edges(edges, "edges")
    out = values[(values < edges[0] - 1e-12) | (values > edges[-1] + 1e-12)]
    if out.size:
        raise ValueError(f"property values {out[:3].tolist()} lie outside the bins [{edges[0]:g}, {edges[-1]:g}].")
    b = np.searchsorted(edges, values + 1e-12, side="right") - 1
    return np.clip(b, 0, edges.size - 2)


@validate_params({"edges": ["array-like"], "n_samples": [Interval(Integral, 1, None)],
                  "achievable": [None, "array-like"]})
def bin_values(edges, n_samples, *, achievable=None):
    """The exact property values ``k / n_samples`` of each bin.

    Parameters
    ----------
    edges : ndarray of shape (m + 1,)
    n_samples : int
    achievable : (low, high), optional
        Values outside this range (what the pools can supply) are dropped.

    Returns
    -------
    list of m ndarrays

    Raises
    ------
    ValueError
        When a bin contains no achievable value.
    """
    edges = _check_edges(edges, "edges")
    if achievable is not None and np.shape(achievable) != (2,):
        raise ValueError(f"achievable must be a pair (low, high), got {achievable!r}.")
    k = np.arange(n_samples + 1)
    v = k / n_samples
    if achievable is not None:
        v = v[(v >= achievable[0] - 1e-12) & (v <= achievable[1] + 1e-12)]
    v = v[(v >= edges[0] - 1e-12) & (v <= edges[-1] + 1e-12)]
    b = assign_bins(v, edges) if v.size else np.empty(0, dtype=int)
    out = [v[b == j] for j in range(edges.size - 1)]
    for j, vals in enumerate(out):
        if vals.size == 0:
            raise ValueError(
                f"bin {j} [{edges[j]:g}, {edges[j + 1]:g}] holds no property value k/{n_samples}"
                + ("" if achievable is None else
                   f" within the reachable range (achievable) [{achievable[0]:g}, {achievable[1]:g}]")
                + "; widen the bin, raise n_train or use a pool that can reach it.")
    return out
