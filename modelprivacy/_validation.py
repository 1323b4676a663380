"""Validation helpers shared by every module.

Every public entry point validates its arguments with these helpers, so that
bad input fails early with an error that names the argument.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_generator",
    "check_seed_sequence",
    "child_seed",
    "check_scalar",
    "check_int",
    "check_bool",
    "check_option",
    "check_records",
    "check_interval",
    "check_queries",
    "check_vector",
    "check_binary",
    "check_indices",
    "check_matrix",
    "check_symmetric",
    "check_covariance",
    "check_probabilities",
]


def check_generator(seed, name="random_state"):
    """Return a :class:`numpy.random.Generator` built from ``seed``.

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` gives fresh OS entropy; an int or a ``SeedSequence`` a
        reproducible stream; a ``Generator`` is returned as is.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"{name} must be None, an int, a numpy SeedSequence or a numpy Generator, got a bool.")
    if seed is None or isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {seed}.")
        return np.random.default_rng(seed)
    raise TypeError(
        f"{name} must be None, an int, a numpy SeedSequence or a numpy Generator, "
        f"got {type(seed).__name__}."
    )


def check_seed_sequence(seed, name="seed"):
    """Return a :class:`numpy.random.SeedSequence` from ``None``, a non-negative int or a ``SeedSequence``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)) and seed >= 0):
        return np.random.SeedSequence(seed)
    raise TypeError(f"{name} must be None, a non-negative int or a numpy SeedSequence, got {seed!r}.")


def child_seed(seed, *key):
    """The child ``key`` of a ``SeedSequence``: ``SeedSequence(entropy, spawn_key=seed.spawn_key + key)``.

    Unlike ``seed.spawn()`` it does not depend on how many children were
    spawned before, so a resumed computation draws the same numbers.
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + tuple(int(k) for k in key))


def check_scalar(value, name, *, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """Return ``value`` as a finite float inside the given bounds.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN, infinite or out of bounds.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    if low is not None:
        bad = value < low if low_inclusive else value <= low
        if bad:
            op = ">=" if low_inclusive else ">"
            raise ValueError(f"{name} must be {op} {low}, got {value}.")
    if high is not None:
        bad = value > high if high_inclusive else value >= high
        if bad:
            op = "<=" if high_inclusive else "<"
            raise ValueError(f"{name} must be {op} {high}, got {value}.")
    return value


def check_int(value, name, *, low=None, high=None):
    """Return ``value`` as a Python int inside ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {value!r}.")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}.")
    return value


def check_bool(value, name):
    """Return ``value`` when it is a bool (``TypeError`` naming ``name`` otherwise; 0/1 and strings are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {value!r}.")
    return bool(value)


def check_option(value, name, options):
    """Return ``value`` when it is one of the strings ``options`` (``TypeError``/``ValueError`` naming ``name``)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}.")
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; known: {sorted(options)}.")
    return value


def check_records(rows, name="rows", *, fields=()):
    """Return ``rows`` as a list of mappings that all hold ``fields``."""
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"{name} must be a list of records (dicts), got {type(rows).__name__}.")
    rows = list(rows)
    for i, r in enumerate(rows):
        if not hasattr(r, "keys"):
            raise TypeError(f"{name}[{i}] must be a record (dict), got {type(r).__name__}.")
        missing = [f for f in fields if f not in r]
        if missing:
            raise ValueError(f"{name}[{i}] lacks the fields {missing}.")
    return rows


def check_interval(lb, ub, name="interval"):
    """Return ``(lb, ub)`` as floats with ``lb < ub`` (infinite ends allowed)."""
    try:
        lb, ub = float(lb), float(ub)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a pair of real numbers, got ({lb!r}, {ub!r}).") from exc
    if np.isnan(lb) or np.isnan(ub):
        raise ValueError(f"{name} must not contain NaN, got ({lb}, {ub}).")
    if not lb < ub:
        raise ValueError(f"{name} must satisfy lb < ub, got lb={lb}, ub={ub}.")
    return lb, ub


def _as_float_array(a, name, *, allow_inf=False):
    try:
        raw = np.asarray(a) if not isinstance(a, np.ndarray) else a
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise TypeError(f"{name} must be a numeric array-like.") from exc
    if raw.dtype.kind == "c":
        raise TypeError(f"{name} must be real; got a complex array (the imaginary part would be dropped).")
    if raw.dtype.kind in "USVMm":
        # numeric strings would convert silently; dates and bytes are not numbers
        raise TypeError(f"{name} must be a numeric array-like, got dtype {raw.dtype}.")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric array-like.") from exc
    if np.any(np.isnan(arr)) or not allow_inf and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def check_queries(X, name="X", *, n_features=None, min_samples=1):
    """Return queries as a finite float array of shape ``(n, d)``.

    A 1-D array is read as ``n`` one-dimensional queries.
    """
    arr = _as_float_array(X, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (n, d), got shape {arr.shape}.")
    if arr.shape[0] < min_samples:
        raise ValueError(f"{name} must have at least {min_samples} rows, got {arr.shape[0]}.")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} feature(s), got {arr.shape[1]}.")
    return arr


def check_vector(y, name="y", *, n=None):
    """Return a finite 1-D float array, of length ``n`` when given."""
    arr = _as_float_array(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have length {n}, got {arr.shape[0]}.")
    return arr


def check_binary(y, name="y", *, n=None):
    """Return a 1-D float array of 0/1 labels (of length ``n`` when given)."""
    arr = check_vector(y, name, n=n)
    if not np.all((arr == 0.0) | (arr == 1.0)):
        bad = arr[(arr != 0.0) & (arr != 1.0)]
        raise ValueError(f"{name} must hold binary labels 0 and 1, got {bad[:3].tolist()}.")
    return arr


def check_indices(idx, name, *, n, unique=False):
    """Return row indices into ``n`` rows as a 1-D int array (each in ``[0, n)``; distinct when ``unique``).

    Negative indices are refused: counting from the end would silently pick other rows.
    """
    if isinstance(idx, (str, bytes)) or idx is None:
        raise TypeError(f"{name} must be an array of row indices, got {idx!r}.")
    try:
        arr = np.asarray(idx)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise TypeError(f"{name} must be a 1-D array of row indices.") from exc
    if arr.size == 0 and arr.dtype.kind in "f":
        arr = arr.astype(int)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer row indices, got dtype {arr.dtype}.")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}.")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must hold row indices in [0, {n}), got values in [{arr.min()}, {arr.max()}].")
    if unique and np.unique(arr).size != arr.size:
        raise ValueError(f"{name} must hold distinct row indices.")
    return arr.astype(int, copy=False)


def check_matrix(M, name="M", *, shape=None, square=False):
    """Return a finite 2-D float array, optionally of a given shape or square."""
    arr = _as_float_array(M, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}.")
    if square and arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}.")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}.")
    return arr


def check_symmetric(M, name="M", *, rtol=1e-8, atol=1e-10):
    """Return a finite square matrix, raising if it is not symmetric.

    The tolerance is relative to the largest entry; the returned matrix is the
    exact symmetrisation ``(M + M') / 2``.
    """
    arr = check_matrix(M, name, square=True)
    scale = max(np.max(np.abs(arr)), 1.0) if arr.size else 1.0
    if not np.allclose(arr, arr.T, rtol=rtol, atol=atol * scale):
        dev = float(np.max(np.abs(arr - arr.T)))
        raise ValueError(f"{name} must be symmetric; max |M - M'| = {dev:.3g}.")
    return 0.5 * (arr + arr.T)


def check_covariance(C, name="cov", *, n=None, rtol=1e-10):
    """Return a finite symmetric positive semi-definite matrix (of size ``n`` when given).

    The smallest eigenvalue may be negative by at most ``rtol`` times the
    largest absolute eigenvalue (round-off of a singular covariance).

    Raises
    ------
    ValueError
        If ``C`` is not square (of size ``n``), not symmetric or has a negative
        eigenvalue beyond round-off.
    """
    arr = check_symmetric(C, name)
    if n is not None and arr.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}), got {arr.shape}.")
    if arr.size:
        ev = np.linalg.eigvalsh(arr)
        if ev[0] < -rtol * max(float(np.max(np.abs(ev))), np.finfo(float).tiny):
            raise ValueError(f"{name} must be positive semi-definite; its smallest eigenvalue is {ev[0]:.3g}.")
    return arr


def check_probabilities(P, name="P", *, n_classes=None, atol=1e-6):
    """Return a 2-D array of probability vectors (rows in [0, 1] summing to 1).

    A 1-D array is read as the class-1 probabilities of a binary task and is
    returned unchanged in shape ``(n,)``; its entries must lie in [0, 1].
    """
    arr = _as_float_array(P, name)
    if arr.ndim == 1:
        if np.any(arr < -atol) or np.any(arr > 1 + atol):
            raise ValueError(f"{name} must contain probabilities in [0, 1].")
        return np.clip(arr, 0.0, 1.0)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D (binary) or 2-D (n, K), got shape {arr.shape}.")
    if n_classes is not None and arr.shape[1] != n_classes:
        raise ValueError(f"{name} must have {n_classes} columns (classes), got {arr.shape[1]}.")
    if np.any(arr < -atol) or np.any(arr > 1 + atol):
        raise ValueError(f"{name} must contain probabilities in [0, 1].")
    sums = arr.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=max(atol, 1e-9) * arr.shape[1]):
        worst = float(np.max(np.abs(sums - 1.0)))
        raise ValueError(f"rows of {name} must sum to 1; worst deviation {worst:.3g}.")
    return np.clip(arr, 0.0, 1.0)
