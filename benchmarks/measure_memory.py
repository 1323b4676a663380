"""Measure the peak memory of every O(n^2) path, to set the factors of the memory checks.

Each operation runs in a fresh subprocess. After its inputs are allocated and
touched, the process resets its peak resident set (``echo 5 >
/proc/self/clear_refs``), runs the operation once, and reports
``VmHWM - VmRSS`` (bytes above the inputs), which counts every allocation,
LAPACK workspaces and the conic solvers' native memory included (tracemalloc
would miss those). The peaks at several sizes are fitted by least squares to
``a n^2 + b m n`` doubles (``m`` evaluation points) or, for the SDP, to
``a n^4 + b n^2``; the factors in the package
(``MEMORY_DOUBLES`` and ``SDP_DOUBLES`` of ``modelprivacy/_memory.py``) are these
fits rounded up.

Run: ``python benchmarks/measure_memory.py [NAMES...]`` (Linux; a few minutes and 3 GiB).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, sys, numpy as np
from scipy.sparse.linalg import aslinearoperator
from modelprivacy.solvers import (constrained_design, kernel_ridge_smoother, stealing_quadratic,
                                  trust_region)
from modelprivacy.attacks import KernelRidgeAttacker

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

what, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
X = rng.uniform(size=(n, 1)); Z = rng.uniform(size=(m, 1)); y = np.cos(3 * X[:, 0])
u = rng.standard_normal(n)
if what == "exact":
    A = rng.standard_normal((n, n)); M = A + A.T; del A
elif what in ("lanczos_dense", "certificate"):
    B = rng.standard_normal((n, 30)); M = B @ B.T; del B  # a spectrum Lanczos resolves fast
elif what == "lanczos_operator":
    S = rng.standard_normal((m, n)) / m
    M = stealing_quadratic(S, y, np.zeros(m), as_operator=True).M
elif what == "quadratic":
    S = rng.standard_normal((m, n)) / m
elif what == "sdp":
    A = rng.standard_normal((n, n)); M = A @ A.T / n; del A
krr = KernelRidgeAttacker(gamma=1.0)
if what in ("krr_predict", "krr_predict_many"):
    krr.fit(X, y)
warm = trust_region(np.eye(3), np.ones(3), 1.0)  # import-time allocations out of the way
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
base = status("VmRSS:")
if what == "exact":
    trust_region(M, u, 1.0, max_memory=1e15)
elif what == "certificate":
    trust_region(M, u, 1.0, method="lanczos", n_components=4, max_memory=1e15).certificate.check()
elif what == "lanczos_dense":
    trust_region(M, u, 1.0, method="lanczos", n_components=20, max_memory=1e15)
elif what == "lanczos_operator":
    trust_region(M, u, 1.0, method="lanczos", n_components=20, max_memory=1e15)
elif what == "quadratic":
    stealing_quadratic(S, y[:n], np.zeros(m), max_memory=1e15)
elif what == "smoother":
    kernel_ridge_smoother(X, Z, gamma=1.0, max_memory=1e15)
elif what == "krr_fit":
    krr.fit(X, y)
elif what == "krr_predict":
    krr.predict(Z)
elif what == "krr_predict_many":
    krr.fit_predict_many(X, np.column_stack([y, y]), Z)
elif what == "krr_smoother":
    krr.smoother_matrix(X, Z)
elif what == "sdp":
    constrained_design(M, u, radius=1.0, solver=sys.argv[4], n_samples=10)
print(json.dumps(status("VmHWM:") - base))
"""

# operation -> sizes (n, m)
PLAN = {
    "exact": [(1500, 0), (2500, 0), (3500, 0)],
    "certificate": [(1500, 0), (2500, 0), (3500, 0)],
    "lanczos_dense": [(1500, 0), (2500, 0), (3500, 0)],
    "lanczos_operator": [(4000, 2000), (8000, 2000), (8000, 4000)],
    "quadratic": [(2000, 1000), (3000, 1000), (3000, 3000)],
    "smoother": [(1500, 500), (2500, 500), (2500, 2500)],
    "krr_fit": [(1500, 0), (2500, 0), (3500, 0)],
    "krr_predict": [(1000, 2000), (2000, 2000), (2000, 4000)],
    "krr_predict_many": [(1500, 500), (2500, 500), (2500, 2500)],
    "krr_smoother": [(1500, 500), (2500, 500), (2500, 2500)],
}
SDP_PLAN = {"CLARABEL": [10, 15, 20, 25, 30], "SCS": [20, 40, 60, 80]}


def peak(what, n, m, *extra):
    out = subprocess.run([sys.executable, "-c", CHILD, what, str(n), str(m), *extra],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit(rows, columns):
    """Least-squares factors of ``bytes / 8`` on the given columns."""
    A = np.array([[c(n, m) for c in columns] for n, m, _ in rows], dtype=float)
    b = np.array([p / 8.0 for _, _, p in rows])
    return np.linalg.lstsq(A, b, rcond=None)[0]


def main(only=()):
    report = {}
    for what, sizes in PLAN.items():
        if only and what not in only:
            continue
        rows = [(n, m, peak(what, n, m)) for n, m in sizes]
        if what in ("lanczos_operator",):
            coef = fit(rows, [lambda n, m: n * m, lambda n, m: n])
            labels = ("m n", "n")
        elif all(m == 0 for _, m, _ in rows):
            coef = fit(rows, [lambda n, m: n * n])
            labels = ("n^2",)
        else:
            coef = fit(rows, [lambda n, m: n * n, lambda n, m: m * n])
            labels = ("n^2", "m n")
        report[what] = {"fit (doubles)": dict(zip(labels, np.round(coef, 2).tolist())),
                        "peaks (MiB)": [(n, m, round(p / 2**20, 1)) for n, m, p in rows]}
        print(what, report[what], flush=True)
    for solver, sizes in SDP_PLAN.items():
        if only and "sdp" not in only:
            continue
        rows = [(n, 0, peak("sdp", n, 0, solver)) for n in sizes]
        coef = fit(rows, [lambda n, m: n**4, lambda n, m: n**2])
        report["sdp_" + solver] = {"fit (doubles)": {"n^4": round(coef[0], 3), "n^2": round(coef[1], 1)},
                                   "peaks (MiB)": [(n, round(p / 2**20, 1)) for n, _, p in rows]}
        print("sdp", solver, report["sdp_" + solver], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])  # optional names of the operations to measure
