"""Shared plumbing of the figures: executors, output files, plot style."""

from __future__ import annotations

import contextlib
import csv
import os

import numpy as np
from joblib import parallel_config

__all__ = ["executor", "write_rows", "DISPLAY", "MARKERS", "style_axes_log", "save"]

#: registry name -> display name used in the paper's figures
DISPLAY = {
    "none": "No Defense",
    "iid": "IID Noising",
    "constant": "Constant Noising",
    "long_range": "Long-Range Correlated Noising",
    "order_disguise": "Order Disguise (Ours)",
    "kernel_confusion": "Kernel Confusion (Ours)",
    "misleading_variable_projection": "Misleading Variable Projection (Ours)",
}
MARKERS = ["o", "P", "s", "D", "^", "v", "X"]
ZERO = 1e-4  # where the paper draws a privacy level of 0 on a log axis


@contextlib.contextmanager
def executor(scheduler, n_jobs):
    """Run the enclosed sweeps locally or on Dask; yield the ``n_jobs`` to use.

    ``scheduler=None`` runs locally (serial, or joblib/loky with ``n_jobs``
    workers); ``"local"`` starts a Dask LocalCluster with ``n_jobs``
    single-threaded workers; any other value is the address of a running Dask
    scheduler (``tcp://host:port``). On Dask, every joblib ``Parallel`` inside
    the block (the simulator's and the classification runners') runs on the
    cluster.
    """
    if scheduler is None:
        yield n_jobs
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the extra is not installed
        raise ImportError("--scheduler needs Dask: pip install 'modelprivacy[dask]'") from exc
    cluster = None
    if scheduler == "local":
        workers = max(n_jobs, 1) if n_jobs != -1 else (os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from exc
    try:
        with parallel_config(backend="dask"):
            yield -1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def write_rows(path, rows):
    """Write a list of dicts as CSV (the plotted data of a figure)."""
    if not rows:
        raise ValueError(f"no rows to write to {path}.")
    fields = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def style_axes_log(ax, ylim=(5e-5, 10)):
    """The paper's log axis: 'No Defense = 0' drawn at 1e-4 and labelled 0."""
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    ax.set_yticks([1e-4, 1e-2, 1e-1, 1, 2])
    ax.set_yticklabels(["0", r"$10^{-2}$", r"$10^{-1}$", "1", "2"])
    ax.minorticks_off()


def save(fig, out_dir, name):
    """Save ``fig`` as PNG and PDF; return the paths."""
    import matplotlib.pyplot as plt

    paths = []
    for ext in ("png", "pdf"):
        p = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(p, bbox_inches="tight", dpi=200)
        paths.append(p)
    plt.close(fig)
    return paths


def clamp_zero(values):
    """Privacy levels below the drawing floor are drawn at the floor ('0')."""
    return np.maximum(np.asarray(values, dtype=float), ZERO)
