"""Response mechanisms (defenses).

* :mod:`modelprivacy.defenses.regression`: perturbations of real-valued
  answers, ``Y = f(X) + e``, calibrated to a utility budget ``U_n = sigma**2``
  and exposing the moments of ``e`` (none, IID, constant shift, long-range,
  a random function, the two-point midpoint);
* :mod:`modelprivacy.defenses.optimal`: query-dependent optimal designs
  (Order Disguise, Kernel Confusion, Misleading Variable Projection, the
  exact and robust linear-smoother designs), built on :mod:`modelprivacy.solvers`;
* :mod:`modelprivacy.defenses.online`: online designs, answered one query at
  a time from the query alone (a designed perturbation function);
* :mod:`modelprivacy.defenses.postprocess`: postprocessors of classification
  probability answers (Misleading Shift, ReverseSigmoid, ...).
"""

from sklearn.base import clone

from .base import SIGMA_MAX, Defense, Moments, PerturbationModel
from .online import PerturbationFunctionDesign
from .optimal import (
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
    reverse_sigmoid,
    reverse_sigmoid_map,
    reverse_sigmoid_r,
)
from .regression import (
    ConstantShift,
    GaussianProcessNoise,
    IIDNoise,
    LongRangeNoise,
    NoDefense,
    TwoPointDefense,
    long_range_autocovariance,
)

__all__ = [
    "Defense",
    "Moments",
    "PerturbationModel",
    "SIGMA_MAX",
    "NoDefense",
    "IIDNoise",
    "ConstantShift",
    "LongRangeNoise",
    "GaussianProcessNoise",
    "TwoPointDefense",
    "long_range_autocovariance",
    "OrderDisguise",
    "KernelConfusion",
    "MisleadingVariableProjection",
    "OptimalLinearSmoother",
    "RobustLinearSmoother",
    "PerturbationFunctionDesign",
    "DEFENSES",
    "make_defense",
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
    "POSTPROCESSORS",
    "reverse_sigmoid",
    "reverse_sigmoid_r",
    "reverse_sigmoid_map",
]

#: registry name -> regression defense class (names as used by the CLI, the games and the figures)
DEFENSES = {
    "none": NoDefense,
    "iid": IIDNoise,
    "constant": ConstantShift,
    "long_range": LongRangeNoise,
    "random_function": GaussianProcessNoise,
    "two_point": TwoPointDefense,
    "order_disguise": OrderDisguise,
    "kernel_confusion": KernelConfusion,
    "misleading_variable_projection": MisleadingVariableProjection,
    "optimal_linear_smoother": OptimalLinearSmoother,
    "robust_linear_smoother": RobustLinearSmoother,
    "online_function": PerturbationFunctionDesign,
}

#: registry name -> classification postprocessor class
POSTPROCESSORS = {
    "none": NoPostprocessing,
    "misleading_shift": MisleadingShift,
    "reverse_sigmoid": ReverseSigmoid,
    "adaptive_misinformation": AdaptiveMisinformation,
    "random_shuffle": RandomShuffle,
    "gaussian_noise": GaussianNoise,
    "rounding": Rounding,
    "top_label": TopLabel,
    "high_confidence": HighConfidence,
}


def make_defense(name, **params):
    """Build a registered regression defense by name, e.g. ``make_defense("iid", sigma=0.5)``.

    A :class:`Defense` instance is cloned and given ``params``.

    Raises
    ------
    ValueError
        For an unknown name or a parameter the defense does not take.
    """
    if isinstance(name, Defense):
        return clone(name).set_params(**params)
    if name not in DEFENSES:
        raise ValueError(f"unknown defense {name!r}; known defenses: {sorted(DEFENSES)}.")
    cls = DEFENSES[name]
    valid = cls._get_param_names()
    bad = [k for k in params if k not in valid]
    if bad:
        raise ValueError(f"defense {name!r} takes parameters {valid}, got unknown {bad}.")
    return cls(**params)
