"""Memory checks made before an O(n^2) allocation, with peak factors measured per path.

Every path that allocates O(n^2) memory (the exact and Lanczos trust-region
solves on a dense matrix and their certificate, the dense curvature of a
stealing quadratic, kernel-ridge Gram matrices in the attacker and the
smoother, the SDP designs) calls :func:`check_memory` with its *measured* peak
before allocating, so that a problem too large for the machine raises a
:class:`MemoryError` that says the largest size that fits, instead of being
killed by the kernel halfway through.
"""

from __future__ import annotations

import os

from ._validation import check_scalar

__all__ = ["MEMORY_DOUBLES", "SDP_DOUBLES", "available_memory", "check_memory", "largest_fitting", "memory_bytes",
           "sdp_memory_bytes"]


def available_memory():
    """Bytes of physical memory currently available (``None`` if unknown).

    Reads ``MemAvailable`` from ``/proc/meminfo`` (Linux), else
    ``os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')``.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


#: Peak memory of each O(n^2) path, in doubles above its inputs, as (a, b): a n^2 + b m n
#: (m evaluation points). Measured by benchmarks/measure_memory.py: each operation runs once
#: in a fresh process whose peak resident set is reset (/proc/self/clear_refs) after its
#: inputs are allocated; VmHWM - VmRSS over n = 1500..3500 (m = 500..4000) is fitted by least
#: squares; the fits (in parentheses) are rounded up. This counts LAPACK workspaces too.
MEMORY_DOUBLES = {
    "exact": (5.25, 0.0),             # trust_region(method='exact') on a float64 M (5.14)
    "lanczos_dense": (3.1, 0.0),      # trust_region(method='lanczos') on a dense M: validation (3.01)
    "certificate": (3.1, 0.0),        # TrustRegionCertificate.check on a dense M (<= 3.01)
    "quadratic": (2.25, 1.0),         # stealing_quadratic, dense M (2.16 n^2 + 0.99 mn)
    "smoother": (6.25, 1.0),          # kernel_ridge_smoother (6.23 n^2; k(Z, X) 1.0 mn)
    "krr_fit": (3.25, 0.0),           # KernelRidgeAttacker.fit (3.14)
    "krr_predict": (0.0, 1.0),        # KernelRidgeAttacker.predict: k(Z, X) (1.0 mn)
    "krr_predict_many": (3.0, 1.0),   # KernelRidgeAttacker.fit_predict_many (2.99 n^2; 1.0 mn)
    "krr_smoother": (4.25, 1.0),      # KernelRidgeAttacker.smoother_matrix (4.18 n^2 + 0.95 mn)
}
#: The SDP (constrained_design, robust_design, sdp_relaxation) on n x n data, in doubles:
#: a n^4 + b n^2 + c, fitted on n = 10..30 (Clarabel: 1.13 n^4 + 967 n^2 + 393k) and
#: n = 20..80 (SCS: 0.005 n^4 + 124 n^2 + 875k) by the same script, rounded up.
SDP_DOUBLES = {"CLARABEL": (1.25, 1000.0, 400_000.0), "SCS": (0.01, 125.0, 900_000.0)}


def memory_bytes(kind, n, m=0):
    """Measured peak bytes of an O(n^2) path (see :data:`MEMORY_DOUBLES`) on ``n`` queries and ``m`` points."""
    a, b = MEMORY_DOUBLES[kind]
    return int(8 * (a * n * n + b * m * n))


def sdp_memory_bytes(solver, n):
    """Measured peak bytes of the lifted SDP on ``n x n`` data with the given conic solver."""
    a, b, c = SDP_DOUBLES[solver]
    return int(8 * (a * n**4 + b * n**2 + c))


def largest_fitting(need, budget):
    """Largest ``n >= 0`` with ``need(n) <= budget`` (``need`` increasing in ``n``)."""
    if need(1) > budget:
        return 0
    lo, hi = 1, 2
    while need(hi) <= budget:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if need(mid) <= budget else (lo, mid)
    return lo


def check_memory(n_bytes, what, *, max_memory=None, hint="", need=None):
    """Raise :class:`MemoryError` *before* allocating when ``n_bytes`` will not fit.

    Parameters
    ----------
    n_bytes : int
        Estimated peak memory of the operation.
    what : str
        Description used in the message.
    max_memory : int, optional
        Budget in bytes; default: the memory currently available.
    hint : str
        Appended to the message (e.g. which approximate method to use).
    need : callable, optional
        ``need(n) -> bytes`` of the same operation at size ``n``; the message
        then says the largest ``n`` that fits the budget.
    """
    n_bytes = check_scalar(n_bytes, "n_bytes", low=0.0)
    if not isinstance(what, str):
        raise TypeError(f"what must be a str describing the operation, got {type(what).__name__}.")
    if max_memory is None:
        max_memory = available_memory()
        if max_memory is None:
            return
    else:
        max_memory = check_scalar(max_memory, "max_memory", low=0.0)
    if n_bytes > max_memory:
        fits = ""
        if need is not None:
            fits = f" At most n = {largest_fitting(need, max_memory)} fits."
        raise MemoryError(
            f"{what} needs about {n_bytes / 2**30:.2f} GiB but only "
            f"{max_memory / 2**30:.2f} GiB are available (max_memory).{fits} {hint}".rstrip()
        )


