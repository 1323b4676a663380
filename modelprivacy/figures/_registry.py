"""Registry of the figures that ``modelprivacy figures`` regenerates.

A figure is a function registered under a name::

    @register("poly_n_AIC", group="poly")
    def poly_n_aic(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
        ...  # sweep (resuming from out_dir/<name>_records.csv), plot, write <name>.csv
        return figure_output(name, fig, out_dir, summary, [res.report])

Each function writes ``<name>.png``, ``<name>.pdf`` and ``<name>.csv`` (the
plotted data) into ``out_dir`` and returns a :class:`FigureOutput`
(:func:`~modelprivacy.figures._common.figure_output` saves the figure and
builds it). The registered wrapper validates the arguments, runs the figure's
sweeps on the chosen executor (local workers or Dask), times the run and
refuses to write a quick smoke run into a folder of paper-scale figures.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field

from .._executors import use_executor
from .._validation import check_bool, check_int, check_option

__all__ = ["FIGURES", "FigureOutput", "register", "get_figure", "PAPER_SCALE_MARKER"]

FIGURES: dict = {}
#: file marking a folder that holds paper-scale figures (quick runs refuse to write there)
PAPER_SCALE_MARKER = ".paper-scale"


@dataclass
class FigureOutput:
    """What one figure run wrote, how long it took (set by the registry), and what it did with its records."""

    name: str
    paths: list = field(default_factory=list)
    seconds: float = 0.0
    summary: str = ""
    reports: list = field(default_factory=list)


def register(name, *, group=None):
    """Decorator registering a figure function under ``name``."""

    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}.")

    def deco(func):
        if name in FIGURES:
            raise ValueError(f"figure {name!r} is registered twice.")

        @functools.wraps(func)
        def run(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None, fresh=False):
            quick = check_bool(quick, "quick")
            if reps is not None:
                reps = check_int(reps, "reps", low=1)
            seed = check_int(seed, "seed", low=0)
            n_jobs = check_int(n_jobs, "n_jobs", low=-1)
            if n_jobs == 0:
                raise ValueError("n_jobs must be a positive number of workers or -1 (all cores), got 0.")
            if not os.path.isdir(out_dir):
                raise ValueError(f"out_dir {out_dir!r} is not a directory.")
            marker = os.path.join(out_dir, PAPER_SCALE_MARKER)
            if quick and os.path.exists(marker):
                raise ValueError(f"out_dir {out_dir!r} holds paper-scale figures: a quick smoke run does not "
                                 "write there; choose another folder.")
            t0 = time.perf_counter()
            with use_executor(n_jobs, scheduler):
                out = func(out_dir=out_dir, quick=quick, reps=reps, seed=seed, fresh=fresh)
            out.seconds = time.perf_counter() - t0
            if not quick and reps is None:
                open(marker, "a").close()
            return out

        run.figure_name = name
        run.figure_group = group or name
        FIGURES[name] = run
        return run

    return deco


def get_figure(name):
    """Return the registered figure function ``name`` (clear error if unknown)."""
    return FIGURES[check_option(name, "figure name", FIGURES)]
