"""Learning algorithms (attackers).

Regression attackers are scikit-learn regressors; any scikit-learn regressor
can be passed wherever an attacker is expected. Linear smoothers expose
``smoother_matrix(X, Z)``.
"""

from sklearn.base import clone, is_regressor
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV

from .classification import (
    EquationSolvingAttack,
    LabelOnlyAttacker,
    ReverseSigmoidAwareAttacker,
    SoftLabelLogisticRegression,
    SoftmaxMLP,
    equation_solving_queries,
    invert_reverse_sigmoid,
)
from .regression import (
    KernelRidgeAttacker,
    OLSRegression,
    PolynomialRegression,
    default_p_max,
    is_linear_smoother,
    kernel_matrix,
    polynomial_basis,
)

__all__ = [
    "KernelRidgeAttacker",
    "OLSRegression",
    "PolynomialRegression",
    "default_p_max",
    "is_linear_smoother",
    "kernel_matrix",
    "polynomial_basis",
    "ATTACKERS",
    "make_attacker",
    # classification attackers (classifiers: not built through make_attacker)
    "SoftLabelLogisticRegression",
    "SoftmaxMLP",
    "LabelOnlyAttacker",
    "EquationSolvingAttack",
    "ReverseSigmoidAwareAttacker",
    "equation_solving_queries",
    "invert_reverse_sigmoid",
]

#: registry name -> factory of a fresh attacker with the paper's settings
ATTACKERS = {
    "poly_aic": lambda **kw: PolynomialRegression(criterion="AIC", **kw),
    "poly_bic": lambda **kw: PolynomialRegression(criterion="BIC", **kw),
    "poly_bc": lambda **kw: PolynomialRegression(criterion="BC", **kw),
    "ols": lambda **kw: OLSRegression(**kw),
    "krr": lambda **kw: KernelRidgeAttacker(**{"kernel": "rbf", "alpha": 1e-3, "gamma": 1.0, **kw}),
    "lasso_cv": lambda **kw: LassoCV(**{"cv": 5, **kw}),
    "elasticnet_cv": lambda **kw: ElasticNetCV(**{"cv": 5, **kw}),
    "ridge_cv": lambda **kw: RidgeCV(**kw),
}


def make_attacker(name, **params):
    """Build an attacker by registry name, or validate and clone a given regressor.

    Raises
    ------
    ValueError
        For an unknown name, or an object that is not a scikit-learn regressor.
    """
    if not isinstance(name, str):
        if not (hasattr(name, "fit") and hasattr(name, "predict")):
            raise ValueError(f"attacker must have fit and predict methods, got {type(name).__name__}.")
        est = clone(name) if is_regressor(name) or hasattr(name, "get_params") else name
        return est.set_params(**params) if params else est
    if name not in ATTACKERS:
        raise ValueError(f"unknown attacker {name!r}; known attackers: {sorted(ATTACKERS)}.")
    try:
        return ATTACKERS[name](**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for attacker {name!r}: {exc}") from exc
