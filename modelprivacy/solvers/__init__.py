"""Optimal perturbation design: exact trust-region solver, closed-form designs, convex programs."""

from ._closed_form import order_disguise_direction
from ._convex import (
    DesignResult,
    DesignSolverError,
    UnreachableBudgetWarning,
    constrained_design,
    robust_design,
    sdp_relaxation,
)
from ._quadratic import (
    REGULARIZATIONS,
    StealingQuadratic,
    available_memory,
    check_memory,
    kernel_ridge_smoother,
    stealing_quadratic,
)
from ._trust_region import (
    TrustRegionCertificate,
    TrustRegionResult,
    exact_memory_bytes,
    trust_region,
    trust_region_eigen,
    unit_sphere_slsqp,
)

__all__ = [
    "DesignResult",
    "DesignSolverError",
    "UnreachableBudgetWarning",
    "constrained_design",
    "robust_design",
    "sdp_relaxation",
    "REGULARIZATIONS",
    "StealingQuadratic",
    "TrustRegionCertificate",
    "TrustRegionResult",
    "available_memory",
    "check_memory",
    "exact_memory_bytes",
    "kernel_ridge_smoother",
    "order_disguise_direction",
    "stealing_quadratic",
    "trust_region",
    "trust_region_eigen",
    "unit_sphere_slsqp",
]
