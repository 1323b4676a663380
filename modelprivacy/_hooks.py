"""Per-replication hooks that add fields to a game's records.

They live outside :mod:`modelprivacy.figures` on purpose: a record's
fingerprint digests the source of every module that computes it, hooks
included, and a hook defined beside the plotting code would make every edit
of a plot invalidate the records it scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .defenses import PerturbationFunctionDesign
from .metrics import support_f1, support_symmetric_difference
from .threat import needs_attacker

__all__ = ["SUPPORT_HOOKS", "equation_solving_scores", "FunctionClassCost"]


@needs_attacker
def _support_f1(draw):
    return support_f1(draw.game.target.coef, draw.attacker.coef_)


@needs_attacker
def _support_sym_diff(draw):
    return support_symmetric_difference(draw.game.target.coef, draw.attacker.coef_)


#: support recovery of a sparse linear target by an attacker with ``coef_`` (the ``lasso`` figure)
SUPPORT_HOOKS = {"f1": _support_f1, "sym_diff": _support_sym_diff}


@needs_attacker
def equation_solving_scores(draw):
    """Recovery of an equation-solving copy: largest probability error on the test split,
    largest error of the recovered :math:`w_k - w_0` (NaN for non-linear victims), the
    system's residual and whether the model was recovered (``max_prob_err <= 1e-6``)."""
    victim = draw.game.victim._fitted()
    W = getattr(victim.model_, "coef_", None)
    if W is not None:
        W_rel = W - W[0] if W.shape[0] > 1 else np.vstack([np.zeros_like(W), W])
        coef_err = float(np.max(np.abs(draw.attacker.coef_ - W_rel)))
    else:
        coef_err = math.nan
    err = float(np.max(np.abs(draw.prediction - draw.f_Z)))
    return {"max_prob_err": err, "coef_err": coef_err, "residual": draw.attacker.residual_,
            "recovered": float(err <= 1e-6)}


equation_solving_scores.fields = ("max_prob_err", "coef_err", "residual", "recovered")


@dataclass(frozen=True)
class FunctionClassCost:
    r"""Hook: the population utility of the function of the online design's class that fits the perturbation.

    For each replication, :meth:`PerturbationFunctionDesign.population_utility
    <modelprivacy.defenses.PerturbationFunctionDesign.population_utility>`
    of :math:`e = Y - y` on the queries: ``<name>_utility`` is
    :math:`E_{P_Q}\hat g(X)^2` of the least-squares fit :math:`\hat g` of
    :math:`e` on the design's basis, ``<name>_share`` the share of
    :math:`\|e\|^2` it explains. For the online design itself these are
    :math:`\sigma^2` and 1; for the batch optimum they say what a fixed
    function would pay on the population to answer as it did.

    Parameters
    ----------
    design : PerturbationFunctionDesign
        A fitted design whose basis and Gram matrix define the function class.
    """

    design: PerturbationFunctionDesign
    fields = ("utility", "share")

    def __post_init__(self):
        if not isinstance(self.design, PerturbationFunctionDesign):
            raise TypeError(f"design must be a PerturbationFunctionDesign, got {type(self.design).__name__}.")
        if not hasattr(self.design, "coef_"):
            raise ValueError("design must be fitted (PerturbationFunctionDesign.fit(target)): its basis and Gram "
                             "matrix define the function class.")

    def __call__(self, draw):
        utility, share = self.design.population_utility(draw.X, draw.Y - draw.y)
        return {"utility": utility, "share": share}
