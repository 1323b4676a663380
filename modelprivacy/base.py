"""The parameter contract shared by every object of the package.

Defenses, postprocessors, query strategies, targets and attackers are
scikit-learn estimators in the sense of the parameter protocol:

* ``__init__`` only stores its arguments (keyword-only beyond the first
  obvious one), so ``get_params(deep=True)``, ``set_params(**p)`` (in place,
  returns ``self``) and :func:`sklearn.base.clone` work on every object;
* each class declares ``_parameter_constraints`` once and its public entry
  (``respond``, ``sample``, ``fit``, ``calibrate``, ...) checks them with
  :meth:`ParamsMixin._validate_params`; private helpers trust their input;
* fitted state ends with an underscore and survives ``set_params``;
* two objects are equal when they have the same class and equal parameters
  in canonical form (``IIDNoise(0.5) == IIDNoise(np.float64(0.5))``), never
  by ``repr``.
"""

from __future__ import annotations

from ._fingerprint import canonical_json
from ._param_validation import validate_parameter_constraints

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """Parameter validation and value equality on top of :class:`sklearn.base.BaseEstimator`.

    Put it first in the bases: ``class IIDNoise(ParamsMixin, BaseEstimator)``.

    Attributes
    ----------
    _parameter_constraints : dict
        ``parameter name -> list of constraints`` (see
        :mod:`modelprivacy._param_validation`).
    """

    _parameter_constraints: dict = {}

    def _validate_params(self):
        """Check every constructor parameter against ``_parameter_constraints``.

        Raises
        ------
        InvalidParameterError
            A ``ValueError`` and ``TypeError`` naming the offending parameter.
        """
        validate_parameter_constraints(self._parameter_constraints, self.get_params(deep=False),
                                       type(self).__name__)

    def _canonical_params(self):
        return canonical_json(self.get_params(deep=False))

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return self._canonical_params() == other._canonical_params()

    def __hash__(self):
        # consistent with __eq__; an object changed by set_params hashes differently
        return hash((type(self).__qualname__, self._canonical_params()))
