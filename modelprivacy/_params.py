"""Constructor-parameter handling shared by defenses and postprocessors (scikit-learn style)."""

from __future__ import annotations

import inspect


class ParamsMixin:
    """``get_params``/``set_params``/``repr`` read from the ``__init__`` signature.

    ``__init__`` only stores its arguments under their own names, so the
    parameters of an object are exactly its constructor arguments.
    """

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self):
        """Return the constructor parameters as a dict."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params):
        """Return a copy with some constructor parameters replaced."""
        valid = self._param_names()
        for k in params:
            if k not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {k!r}; valid: {valid}.")
        new = dict(self.get_params())
        new.update(params)
        return type(self)(**new)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
