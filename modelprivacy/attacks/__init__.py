"""Learning algorithms (attackers): regression learners and, for classifiers, soft-label learners."""

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
]
