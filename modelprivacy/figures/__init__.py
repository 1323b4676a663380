"""Figures of the Model Privacy paper and its neighbours, one function each.

Importing this package registers every figure; ``modelprivacy figures``
regenerates them.
"""

from ._registry import FIGURES, FigureOutput, get_figure, register
from . import regression  # noqa: E402,F401  (registers the regression figures)
from . import clf  # noqa: E402,F401  (registers the classification figures)
from . import responsive  # noqa: E402,F401  (registers the responsive-stealing figures)
from . import property_inference  # noqa: E402,F401  (registers the property-inference figures)

__all__ = ["FIGURES", "FigureOutput", "get_figure", "register"]
