"""Response mechanisms (defenses).

Regression defenses perturb answers, ``Y = f(X) + e``, and are calibrated to a
utility budget ``U_n = sigma**2``; query-dependent designs (Order Disguise,
Kernel Confusion, Misleading Variable Projection) live in
:mod:`modelprivacy.defenses.designs`, classification postprocessors in
:mod:`modelprivacy.defenses.postprocess`.
"""

from .base import Defense, Moments
from .designs import (
    KernelConfusion,
    MisleadingVariableProjection,
    OptimalLinearSmoother,
    OrderDisguise,
    RobustLinearSmoother,
)
from .postprocess import (
    AdaptiveMisinformation,
    GaussianNoise,
    HighConfidence,
    MisleadingShift,
    NoPostprocessing,
    Postprocessor,
    RandomShuffle,
    ReverseSigmoid,
    Rounding,
    TopLabel,
    flip_rate,
    reverse_sigmoid,
)
from .regression import (
    ConstantShift,
    GaussianProcessNoise,
    IIDNoise,
    LongRangeNoise,
    NoDefense,
    long_range_autocovariance,
)

__all__ = [
    "Defense",
    "Moments",
    "NoDefense",
    "IIDNoise",
    "ConstantShift",
    "LongRangeNoise",
    "GaussianProcessNoise",
    "long_range_autocovariance",
    "OrderDisguise",
    "KernelConfusion",
    "MisleadingVariableProjection",
    "OptimalLinearSmoother",
    "RobustLinearSmoother",
    "DEFENSES",
    "make_defense",
    # classification postprocessors
    "Postprocessor",
    "NoPostprocessing",
    "MisleadingShift",
    "ReverseSigmoid",
    "AdaptiveMisinformation",
    "RandomShuffle",
    "GaussianNoise",
    "Rounding",
    "TopLabel",
    "HighConfidence",
    "reverse_sigmoid",
    "flip_rate",
]

#: registry name -> class (names as used by the CLI and the figures)
DEFENSES = {
    "none": NoDefense,
    "iid": IIDNoise,
    "constant": ConstantShift,
    "long_range": LongRangeNoise,
    "random_function": GaussianProcessNoise,
    "order_disguise": OrderDisguise,
    "kernel_confusion": KernelConfusion,
    "misleading_variable_projection": MisleadingVariableProjection,
    "optimal_linear_smoother": OptimalLinearSmoother,
}




def make_defense(name, **params):
    """Build a registered defense by name, e.g. ``make_defense("iid", sigma=0.5)``.

    Raises
    ------
    ValueError
        For an unknown name or a parameter the defense does not take.
    """
    if isinstance(name, Defense):
        return name.set_params(**params) if params else name
    if name not in DEFENSES:
        raise ValueError(f"unknown defense {name!r}; known defenses: {sorted(DEFENSES)}.")
    cls = DEFENSES[name]
    valid = cls._param_names()
    bad = [k for k in params if k not in valid]
    if bad:
        raise ValueError(f"defense {name!r} takes parameters {valid}, got unknown {bad}.")
    return cls(**params)
