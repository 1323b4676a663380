"""Canonical, hashable descriptions of parameter values.

:func:`canonical` turns any parameter value (numbers of any numpy or Python
type, strings, arrays, nested estimators, seeds, functions) into plain JSON
data, so that two objects built from ``0.5`` and ``np.float64(0.5)`` describe
themselves identically; :func:`fingerprint` is a stable hash of that
description. Equality of the package's objects and the simulation engine's
record fingerprints are both built on it.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import math
import numbers
import types
from pathlib import Path

import numpy as np

__all__ = ["canonical", "fingerprint", "canonical_json", "source_modules", "code_digest"]


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


# --------------------------------------------------------------------------- code digest
_PACKAGE = __name__.split(".")[0]
_ROOT = Path(__file__).resolve().parent


def _module_path(name):
    rel = Path(*name.split(".")[1:])
    package = _ROOT / rel / "__init__.py"
    return package if package.exists() else (_ROOT / rel).with_suffix(".py")


@functools.lru_cache(maxsize=None)
def _module_imports(name):
    """Package modules imported at the top of module ``name`` (and its parents, which import runs)."""
    path = _module_path(name)
    if not path.exists():
        return frozenset()
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    out = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)  # "from . import clf" imports a module
    parts = name.split(".")
    out.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(m for m in out if m.split(".")[0] == _PACKAGE and _module_path(m).exists())


def _modules_of(value, seen, out):
    if id(value) in seen:
        return
    seen.add(id(value))
    module = getattr(value, "__module__", None) if isinstance(value, type) or callable(value) else None
    if module is None:
        module = type(value).__module__
    if isinstance(module, str) and module.split(".")[0] == _PACKAGE:
        out.add(module)
    if isinstance(value, dict):
        for v in value.values():
            _modules_of(v, seen, out)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _modules_of(v, seen, out)
    elif hasattr(value, "get_params") and not isinstance(value, type):
        _modules_of(value.get_params(deep=False), seen, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _modules_of({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, seen, out)
    elif isinstance(value, functools.partial):
        _modules_of([value.func, value.args, value.keywords], seen, out)
    if isinstance(value, types.FunctionType):
        _modules_of(value.__globals__.get("__name__"), seen, out)


def source_modules(values, modules=()):
    """The package modules whose code computes with ``values`` (and ``modules``), sorted.

    The modules defining the classes and functions found in ``values``
    (walking parameters, dataclass fields and containers) and, transitively,
    every package module they import at the top level, with the parent
    packages whose ``__init__`` an import runs.
    """
    todo = set(modules)
    _modules_of(values, set(), todo)
    done = set()
    while todo:
        m = todo.pop()
        if m in done:
            continue
        done.add(m)
        todo |= _module_imports(m) - done
    return sorted(done)


def code_digest(values, version="", modules=()):
    """SHA-256 (hex, 20 characters) of the source of :func:`source_modules` and the package version.

    An edit to any module that computes a result changes the digest of every
    result computed with it, and only of those: a figure's plotting code is
    not part of a defense's digest.
    """
    h = hashlib.sha256(str(version).encode())
    for m in source_modules(values, modules):
        h.update(m.encode() + b"\0" + _module_path(m).read_bytes() + b"\0")
    return h.hexdigest()[:20]
