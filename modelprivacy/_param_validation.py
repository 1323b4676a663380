"""Declarative parameter constraints, checked once at a public entry point.

Modelled on scikit-learn's ``sklearn/utils/_param_validation.py``: a class
declares ``_parameter_constraints = {"sigma": [Interval(Real, 0, None)], ...}``
and its public entry (``respond``, ``fit``, ``calibrate``, ``sample``) calls
``self._validate_params()`` once; private helpers trust what they are given.
A public function declares the same dictionary with :func:`validate_params`.

scikit-learn's module is private and its ``"random_state"`` means a legacy
``RandomState``; ours accepts a :class:`numpy.random.Generator` and
``SeedSequence``, rejects NaN, infinities and complex numbers everywhere, and
raises :class:`InvalidParameterError` (a ``ValueError`` and a ``TypeError``)
whose message names the parameter, as scikit-learn's does.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from numbers import Integral, Real

import numpy as np

__all__ = [
    "InvalidParameterError",
    "Interval",
    "StrOptions",
    "Options",
    "HasMethods",
    "validate_parameter_constraints",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter has the wrong type or value (subclass of ``ValueError`` and ``TypeError``)."""


class _Constraint:
    def is_satisfied_by(self, val):
        raise NotImplementedError

    def __str__(self):
        raise NotImplementedError


class Interval(_Constraint):
    """Real or integral numbers in an interval; NaN, infinities and booleans never satisfy it.

    Parameters
    ----------
    type : {numbers.Real, numbers.Integral}
        ``Integral`` accepts Python and numpy integers only (not ``3.0``).
    left, right : float or None
        Ends (``None``: unbounded). An unbounded interval still rejects
        ``inf``: a parameter of this package is a finite number.
    closed : {"left", "right", "both", "neither"}
    """

    def __init__(self, type, left, right, *, closed="both"):
        if type not in (Real, Integral):
            raise ValueError(f"Interval type must be Real or Integral, got {type}.")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be 'left', 'right', 'both' or 'neither', got {closed!r}.")
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)) or not isinstance(val, self.type):
            return False
        if self.type is Real:
            try:
                val = float(val)
            except OverflowError:  # an int beyond the float range
                return False
            if not np.isfinite(val):
                return False
        else:
            val = int(val)
        if self.left is not None:
            if val < self.left or (val == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if val > self.right or (val == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self):
        kind = "an int" if self.type is Integral else "a finite float"
        lb = "-inf" if self.left is None else f"{self.left}"
        rb = "inf" if self.right is None else f"{self.right}"
        lo = "[" if self.closed in ("left", "both") and self.left is not None else "("
        hi = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {lo}{lb}, {rb}{hi}"


class Options(_Constraint):
    """One of a finite set of values."""

    def __init__(self, options):
        # a stable order for the messages, whatever container was given
        self.options = tuple(sorted(options, key=repr))

    def is_satisfied_by(self, val):
        if isinstance(val, np.ndarray):
            return False
        for o in self.options:
            same_kind = isinstance(val, type(o)) or (
                isinstance(val, numbers.Number) and isinstance(o, numbers.Number)
                and not isinstance(val, (bool, np.bool_)) and not isinstance(o, bool))
            if same_kind and val == o:
                return True
        return False

    def __str__(self):
        return f"one of {self.options!r}"


class StrOptions(Options):
    """One of a set of strings."""

    def is_satisfied_by(self, val):
        return isinstance(val, str) and val in self.options

    def __str__(self):
        return "a str among {" + ", ".join(repr(o) for o in self.options) + "}"


class HasMethods(_Constraint):
    """An object with the given callable methods (e.g. an estimator with ``fit`` and ``predict``)."""

    def __init__(self, methods):
        self.methods = (methods,) if isinstance(methods, str) else tuple(methods)

    def is_satisfied_by(self, val):
        return not isinstance(val, type) and all(callable(getattr(val, m, None)) for m in self.methods)

    def __str__(self):
        return "an object implementing " + " and ".join(repr(m) for m in self.methods)


class _InstancesOf(_Constraint):
    def __init__(self, type_):
        self.type = type_

    def is_satisfied_by(self, val):
        return isinstance(val, self.type)

    def __str__(self):
        return f"an instance of {self.type.__qualname__!r}"


class _NoneConstraint(_Constraint):
    def is_satisfied_by(self, val):
        return val is None

    def __str__(self):
        return "None"


class _Booleans(_Constraint):
    def is_satisfied_by(self, val):
        return isinstance(val, (bool, np.bool_))

    def __str__(self):
        return "a bool"


class _Callables(_Constraint):
    def is_satisfied_by(self, val):
        return callable(val)

    def __str__(self):
        return "a callable"


class _RandomStates(_Constraint):
    def is_satisfied_by(self, val):
        if val is None or isinstance(val, (np.random.Generator, np.random.SeedSequence)):
            return True
        return Interval(Integral, 0, None).is_satisfied_by(val)

    def __str__(self):
        return "None, a non-negative int, a numpy SeedSequence or a numpy Generator"


class _ArrayLikes(_Constraint):
    """Real array-likes with only finite entries (no NaN, no inf, no complex)."""

    def is_satisfied_by(self, val):
        if isinstance(val, (str, bytes)) or val is None:
            return False
        try:
            arr = np.asarray(val)
        except (TypeError, ValueError):
            return False
        if arr.dtype.kind not in "biuf" or arr.dtype.kind == "b" and arr.ndim == 0:
            return False
        return bool(np.all(np.isfinite(arr))) if arr.dtype.kind == "f" else True

    def __str__(self):
        return "a finite real array-like"


def make_constraint(constraint):
    """Convert a constraint declaration into a constraint object."""
    if isinstance(constraint, _Constraint):
        return constraint
    if constraint is None:
        return _NoneConstraint()
    if constraint is callable:
        return _Callables()
    if isinstance(constraint, str):
        named = {"boolean": _Booleans, "random_state": _RandomStates, "array-like": _ArrayLikes}
        if constraint in named:
            return named[constraint]()
    if isinstance(constraint, type):
        return _InstancesOf(constraint)
    raise ValueError(f"unknown constraint {constraint!r}.")


def validate_parameter_constraints(parameter_constraints, params, caller_name):
    """Raise :class:`InvalidParameterError` unless every parameter meets one of its constraints.

    Parameters
    ----------
    parameter_constraints : dict
        ``name -> list of constraints`` (or ``"no_validation"``). A parameter
        is valid if it satisfies any constraint of its list. Constraints are
        :class:`Interval`, :class:`StrOptions`, :class:`Options`,
        :class:`HasMethods`, a type, ``None``, ``callable``, or one of the
        strings ``"boolean"``, ``"random_state"``, ``"array-like"``.
    params : dict
        ``name -> value``; names without a constraint are not checked.
    caller_name : str
        Class or function named in the message.
    """
    for name, value in params.items():
        constraints = parameter_constraints.get(name)
        if constraints is None or constraints == "no_validation":
            continue
        made = [make_constraint(c) for c in constraints]
        if any(c.is_satisfied_by(value) for c in made):
            continue
        text = str(made[0]) if len(made) == 1 else ", ".join(map(str, made[:-1])) + f" or {made[-1]}"
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller_name} must be {text}. Got {value!r} instead."
        )


def validate_params(parameter_constraints):
    """Decorator validating a public function's arguments against declared constraints.

    Examples
    --------
    >>> @validate_params({"n": [Interval(Integral, 1, None)]})
    ... def grid(n):
    ...     return n
    """

    def decorator(func):
        sig = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            validate_parameter_constraints(parameter_constraints, dict(bound.arguments), func.__qualname__)
            return func(*args, **kwargs)

        wrapper._parameter_constraints = parameter_constraints
        return wrapper

    return decorator
