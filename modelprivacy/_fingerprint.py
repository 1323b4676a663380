"""Canonical, hashable descriptions of parameter values.

:func:`canonical` turns any parameter value (numbers of any numpy or Python
type, strings, arrays, nested estimators, seeds, functions) into plain JSON
data, so that two objects built from ``0.5`` and ``np.float64(0.5)`` describe
themselves identically; :func:`fingerprint` is a stable hash of that
description. Equality of the package's objects and the simulation engine's
record fingerprints are both built on it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import numbers
import types

import numpy as np

__all__ = ["canonical", "fingerprint", "canonical_json"]


def _number(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isnan(f):
            return {"float": "nan"}
        if math.isinf(f):
            return {"float": "inf" if f > 0 else "-inf"}
        # 1 and 1.0 describe the same setting
        return int(f) if f.is_integer() and abs(f) < 2**53 else f
    c = complex(v)
    return {"complex": [_number(c.real), _number(c.imag)]}


def _callable(obj):
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__qualname__
    out = {"callable": f"{module}.{name}"}
    code = getattr(obj, "__code__", None)
    if code is not None and ("<lambda>" in name or "<locals>" in name):
        # anonymous or nested functions share names: describe them by their code
        digest = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16]
        out["code"] = digest
        cells = getattr(obj, "__closure__", None) or ()
        out["closure"] = [canonical(c.cell_contents) for c in cells]
    return out


def canonical(value):
    """Return a JSON-serialisable canonical description of ``value``.

    * numbers: Python ints and floats of any type (``np.float64(0.5)`` and
      ``0.5`` agree, as do ``1`` and ``1.0``); NaN and infinities are tagged;
    * strings, ``None``, booleans: themselves; tuples, lists: lists; sets:
      sorted lists; dicts: dicts with string keys;
    * numpy arrays: dtype, shape and a SHA-256 of the bytes;
    * objects with ``get_params`` (estimators, defenses, queries, targets):
      their class and the canonical form of ``get_params(deep=False)``;
    * dataclasses: their class and fields;
    * ``SeedSequence``: entropy and spawn key; ``Generator``: its state;
    * functions and classes: module and qualified name (plus a digest of the
      code for lambdas and nested functions); ``functools.partial``: its
      function and arguments.

    Raises
    ------
    TypeError
        For a value with none of these forms (it could not be told apart
        from another value of its type).
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (numbers.Number, np.bool_)):
        return _number(value)
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        if arr.dtype == object:
            return {"object_array": [canonical(v) for v in arr.ravel().tolist()], "shape": list(arr.shape)}
        return {"ndarray": arr.dtype.str, "shape": list(arr.shape),
                "sha256": hashlib.sha256(arr.tobytes()).hexdigest()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [canonical(v) for v in value]
        return {"set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(value, dict):
        return {"dict": {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}}
    if isinstance(value, np.random.SeedSequence):
        return {"SeedSequence": [canonical(value.entropy), list(value.spawn_key), value.pool_size]}
    if isinstance(value, np.random.Generator):
        return {"Generator": canonical(value.bit_generator.state)}
    if isinstance(value, type):
        return {"class": f"{value.__module__}.{value.__qualname__}"}
    if isinstance(value, functools.partial):
        return {"partial": _callable(value.func), "args": canonical(value.args),
                "keywords": canonical(value.keywords)}
    if hasattr(value, "get_params") and callable(value.get_params):
        params = value.get_params(deep=False)
        return {"object": f"{type(value).__module__}.{type(value).__qualname__}", "params": canonical(params)}
    if dataclasses.is_dataclass(value):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"object": f"{type(value).__module__}.{type(value).__qualname__}", "params": canonical(fields)}
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)) or (
            callable(value) and hasattr(value, "__qualname__")):
        return _callable(value)
    raise TypeError(
        f"cannot describe a value of type {type(value).__name__} canonically; give it "
        "get_params() (the scikit-learn protocol) or pass plain numbers, strings and arrays."
    )


def canonical_json(value):
    """The canonical description of ``value`` as a compact, key-sorted JSON string."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))


def fingerprint(value, length=20):
    """A stable hex digest (``length`` characters) of the canonical description of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:length]
