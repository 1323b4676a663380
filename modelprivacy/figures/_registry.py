"""Registry of the figures that ``modelprivacy figures`` regenerates.

A figure is a function registered under a name::

    @register("poly_n_AIC", group="poly")
    def poly_n_aic(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None):
        ...  # compute (resuming from out_dir/<name>.csv), plot, save
        return FigureOutput(name, paths=[...], seconds=...)

Each function writes ``<name>.png``, ``<name>.pdf`` and ``<name>.csv`` (the
plotted data) into ``out_dir`` and returns a :class:`FigureOutput`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

from .._validation import check_int
from ._common import executor

__all__ = ["FIGURES", "FigureOutput", "register", "get_figure"]

FIGURES: dict = {}


@dataclass
class FigureOutput:
    """What one figure run wrote and how long it took."""

    name: str
    paths: list = field(default_factory=list)
    seconds: float = 0.0
    summary: str = ""


def register(name, *, group=None):
    """Decorator registering a figure function under ``name``.

    The registered function takes ``scheduler`` and sets up the executor
    (local or Dask, see :func:`~modelprivacy.figures._common.executor`) around
    the figure, so figure code only passes ``n_jobs`` on to its sweeps.
    """

    def deco(func):
        if name in FIGURES:
            raise ValueError(f"figure {name!r} is registered twice.")

        @functools.wraps(func)
        def run(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None):
            if reps is not None:
                reps = check_int(reps, "reps", low=1)
            seed = check_int(seed, "seed", low=0)
            n_jobs = check_int(n_jobs, "n_jobs", low=-1)
            if n_jobs == 0:
                raise ValueError("n_jobs must be a positive number of workers or -1 (all cores), got 0.")
            if not os.path.isdir(out_dir):
                raise ValueError(f"out_dir {out_dir!r} is not a directory.")
            with executor(scheduler, n_jobs) as jobs:
                return func(out_dir=out_dir, quick=quick, reps=reps, seed=seed, n_jobs=jobs, scheduler=None)

        run.figure_name = name
        run.figure_group = group or name
        FIGURES[name] = run
        return run

    return deco


def get_figure(name):
    """Return the registered figure function ``name`` (clear error if unknown)."""
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}; known figures: {sorted(FIGURES)}.")
    return FIGURES[name]
