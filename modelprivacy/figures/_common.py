"""Shared plumbing of the figures: executors, output files, plot style."""

from __future__ import annotations

import csv
import os

import numpy as np

from ..defenses import DEFENSES
from ._registry import FigureOutput

__all__ = ["write_rows", "group_rows", "DISPLAY", "MARKERS", "style_axes_log", "save", "figure_output",
           "clamp_zero"]

#: registry name -> display name used in the paper's figures (each defense's own display_name)
DISPLAY = {name: cls.display_name for name, cls in DEFENSES.items()}
MARKERS = ["o", "P", "s", "D", "^", "v", "X"]
ZERO = 1e-4  # where the paper draws a privacy level of 0 on a log axis


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


def group_rows(rows, keys):
    """Rows (dicts) grouped by the values of ``keys``: ``{(v1, v2, ...): [rows]}`` in first-seen order."""
    out = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def style_axes_log(ax, ylim=(5e-5, 10)):
    """The paper's log axis: 'No Defense = 0' drawn at 1e-4 and labelled 0."""
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    ax.set_yticks([1e-4, 1e-2, 1e-1, 1, 2])
    ax.set_yticklabels(["0", r"$10^{-2}$", r"$10^{-1}$", "1", "2"])
    ax.minorticks_off()


def save(fig, out_dir, name, *, dpi=200):
    """Save ``fig`` as PNG and PDF, close it; return the paths."""
    import matplotlib.pyplot as plt

    paths = []
    for ext in ("png", "pdf"):
        p = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(p, bbox_inches="tight", dpi=dpi)
        paths.append(p)
    plt.close(fig)
    return paths


def figure_output(name, fig, out_dir, summary="", reports=(), *, extra=(), dpi=200):
    """Save ``fig`` beside the figure's ``<name>.csv`` and describe what the run wrote.

    The registry adds the run time (:attr:`FigureOutput.seconds`).
    """
    paths = save(fig, out_dir, name, dpi=dpi) + [os.path.join(out_dir, f"{name}.csv"), *extra]
    return FigureOutput(name, paths=paths, summary=summary, reports=list(reports))


def clamp_zero(values):
    """Privacy levels below the drawing floor are drawn at the floor ('0')."""
    return np.maximum(np.asarray(values, dtype=float), ZERO)
