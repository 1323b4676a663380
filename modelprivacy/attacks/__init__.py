"""Learning algorithms (attackers).

Regression attackers (:mod:`modelprivacy.attacks.regression`, and the
defense-aware ones of :mod:`modelprivacy.attacks.aware`) are
scikit-learn regressors, and any scikit-learn regressor can be passed
wherever an attacker is expected; linear smoothers expose
``smoother_matrix(X, Z)``. Classification attackers
(:mod:`modelprivacy.attacks.classification`) learn from probability answers.
"""

from sklearn.base import clone
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV

from .classification import (
    EquationSolvingAttack,
    LabelOnlyAttacker,
    ReverseSigmoidAwareAttacker,
    SoftLabelLogisticRegression,
    SoftmaxMLP,
    equation_solving_queries,
    invert_reverse_sigmoid,
    reverse_sigmoid_branch,
)
from .aware import (
    CrossValidatedAttacker,
    GLSKernelRidge,
    GLSRegression,
    KnownDefenseAttacker,
    RepeatAveraging,
    TruncatedPolynomialRegression,
    default_candidates,
    group_repeats,
    universal_kriging,
)
from .regression import CRITERIA, KernelRidgeAttacker, OLSRegression, PolynomialRegression, is_linear_smoother

__all__ = [
    "KernelRidgeAttacker",
    "OLSRegression",
    "PolynomialRegression",
    "is_linear_smoother",
    "CRITERIA",
    "RepeatAveraging",
    "CrossValidatedAttacker",
    "GLSRegression",
    "GLSKernelRidge",
    "TruncatedPolynomialRegression",
    "KnownDefenseAttacker",
    "default_candidates",
    "group_repeats",
    "universal_kriging",
    "ATTACKERS",
    "CLASSIFICATION_ATTACKERS",
    "make_attacker",
    "SoftLabelLogisticRegression",
    "SoftmaxMLP",
    "LabelOnlyAttacker",
    "EquationSolvingAttack",
    "ReverseSigmoidAwareAttacker",
    "equation_solving_queries",
    "invert_reverse_sigmoid",
    "reverse_sigmoid_branch",
]

#: registry name -> factory of a fresh regression attacker with the paper's settings
ATTACKERS = {
    "poly_aic": lambda **kw: PolynomialRegression(**{"criterion": "AIC", **kw}),
    "poly_bic": lambda **kw: PolynomialRegression(**{"criterion": "BIC", **kw}),
    "poly_bc": lambda **kw: PolynomialRegression(**{"criterion": "BC", **kw}),
    "ols": lambda **kw: OLSRegression(**kw),
    "krr": lambda **kw: KernelRidgeAttacker(**{"kernel": "rbf", "alpha": 1e-3, "gamma": 1.0, **kw}),
    # tol=1e-8: with scikit-learn's default 1e-4 and warm starts, consecutive alphas stop at the same
    # iterate on nearly noise-free answers, ~20 alphas tie exactly in cross-validation error and
    # where the solver stops (which differs across versions) decides the choice; converged paths
    # make the arg-min unique
    "lasso_cv": lambda **kw: LassoCV(**{"cv": 5, "tol": 1e-8, "max_iter": 10000, **kw}),
    "elasticnet_cv": lambda **kw: ElasticNetCV(**{"cv": 5, "tol": 1e-8, "max_iter": 10000, **kw}),
    "ridge_cv": lambda **kw: RidgeCV(**kw),
    # defense-aware attackers (modelprivacy.attacks.aware)
    "repeat_average": lambda **kw: RepeatAveraging(**kw),
    "cv_select": lambda **kw: CrossValidatedAttacker(**kw),
    "gls": lambda **kw: GLSRegression(**kw),
    "gls_krr": lambda **kw: GLSKernelRidge(**{"kernel": "rbf", "alpha": 1e-3, "gamma": 1.0, **kw}),
    "poly_refuse": lambda **kw: TruncatedPolynomialRegression(**kw),
    "known_defense": lambda **kw: KnownDefenseAttacker(**kw),
}

#: registry name -> classification attacker class
CLASSIFICATION_ATTACKERS = {
    "soft": SoftLabelLogisticRegression,
    "mlp": SoftmaxMLP,
    "labels": LabelOnlyAttacker,
    "equation_solving": EquationSolvingAttack,
    "reverse_sigmoid_aware": ReverseSigmoidAwareAttacker,
}


def make_attacker(name, **params):
    """Build a regression attacker by registry name, or clone a given regressor.

    Parameters
    ----------
    name : str or estimator
        A key of :data:`ATTACKERS`, or an object with ``fit`` and ``predict``
        (cloned, then given ``params``).
    **params
        Constructor parameters.

    Raises
    ------
    ValueError
        For an unknown name, unknown parameters, or an object without ``fit`` and ``predict``.
    """
    if not isinstance(name, str):
        if not (hasattr(name, "fit") and hasattr(name, "predict")):
            raise ValueError(f"attacker must have fit and predict methods, got {type(name).__name__}.")
        est = clone(name) if hasattr(name, "get_params") else name
        return est.set_params(**params) if params else est
    if name not in ATTACKERS:
        raise ValueError(f"unknown attacker {name!r}; known attackers: {sorted(ATTACKERS)}.")
    try:
        return ATTACKERS[name](**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for attacker {name!r}: {exc}") from exc
