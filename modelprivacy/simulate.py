r"""Monte Carlo simulation of query-response stealing.

One *replication* of a game draws queries, has the server answer them through
the defense, trains the attacker on the answers and scores the copy on fresh
evaluation points:

.. math::

    \ell_r = \frac1m \sum_{j=1}^m (\hat f_n(z_j) - f(z_j))^2,\qquad
    U_{n,r} = \frac1n \sum_{i=1}^n (Y_i - f(X_i))^2 .

:math:`PL_n` is the mean of :math:`\ell_r` over replications.

Seeding
-------
Replication ``r`` of a run with seed ``s`` uses
``SeedSequence(s, spawn_key=(r,))``, split into four independent streams
(queries, defense, attacker, evaluation). The numbers therefore depend only
on ``(s, r)`` and the game -- not on the executor, the number of workers,
the order of cells or which cells are resumed -- and all defenses of one
replication see the *same* queries and evaluation points (common random
numbers), which makes comparisons between defenses sharper.

Results are tidy records (one per replication and cell), written to CSV as
they are produced, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed, parallel_config
from sklearn.base import clone
from threadpoolctl import ThreadpoolController

from ._fingerprint import fingerprint
from ._progress import Progress
from ._validation import check_int
from .defenses import DEFENSES
from .metrics import privacy_gain, privacy_level, stealing_error, utility_loss
from .threat import Server, ThreatModel

__all__ = ["Cell", "Results", "simulate", "sweep", "grid", "replication_streams"]

RECORD_FIELDS = ("rep", "seed", "utility_loss", "stealing_error", "seconds")


@dataclass(frozen=True)
class Cell:
    """One setting of a sweep: labelling parameters and the game they describe."""

    params: dict
    threat_model: ThreatModel

    @property
    def key(self):
        return "|".join(f"{k}={self.params[k]}" for k in self.params)


def replication_streams(seed, rep):
    """The four random streams of replication ``rep``: queries, defense, attacker, evaluation."""
    ss = np.random.SeedSequence(seed, spawn_key=(rep,))
    return ss.spawn(4)


def _game_key(tm):
    # everything but the defense: cells sharing it share queries within a replication
    return fingerprint([tm.target, tm.queries, tm.n, tm.attacker, tm.evaluation_distribution, tm.n_eval])


_BLAS = None


def _run_task(cells, rep, seed, scorers=None):
    """Run one replication with single-threaded BLAS.

    Multi-threaded BLAS reductions depend on the thread count, so the same
    replication could differ in the last bits between the main process and a
    worker; one thread everywhere makes serial, joblib and Dask runs identical.
    """
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    with _BLAS.limit(limits=1, user_api="blas"):
        return _replicate(cells, rep, seed, scorers)


def _replicate(cells, rep, seed, scorers=None):
    """Run replication ``rep`` of several cells that share one game.

    Batch games draw the queries and evaluation points once for all cells.
    When no scorer needs the fitted copies and the attacker can fit many
    response vectors at once (``fit_predict_many``: polynomial, OLS, kernel
    ridge), all cells' copies are fitted together, sharing the factorisation
    of the design; the numbers do not depend on which cells share a task.
    """
    s_q, s_d, s_a, s_e = replication_streams(seed, rep)
    tm0 = cells[0].threat_model
    t0 = time.perf_counter()
    Z = tm0.evaluation_distribution.sample(tm0.n_eval, np.random.default_rng(s_e))
    fZ = np.asarray(tm0.target(Z), dtype=float)
    attacker_seed = int(np.random.default_rng(s_a).integers(2**31 - 1))
    interactive = tm0.queries.interactive
    answers = []  # (X, clean y, answers Y) per cell
    if interactive:
        for cell in cells:
            tm = cell.threat_model
            server = Server(tm.target, tm.defense, rng=np.random.default_rng(s_d))
            Xq, Y = tm.queries.collect(tm.n, server, np.random.default_rng(s_q))
            answers.append((Xq, server.clean_answers, Y))
    else:
        X = tm0.queries.sample(tm0.n, np.random.default_rng(s_q))
        y = np.asarray(tm0.target(X), dtype=float)
        for cell in cells:
            tm = cell.threat_model
            answers.append((X, y, tm.defense.respond(X, y, rng=np.random.default_rng(s_d), target=tm.target)))
    extras = [{} for _ in cells]
    if not interactive and not scorers and hasattr(tm0.attacker, "fit_predict_many"):
        P = tm0.attacker.fit_predict_many(X, np.column_stack([a[2] for a in answers]), Z)
        preds = list(P.T)
    else:
        preds = []
        for i, (cell, (Xq, _, Y)) in enumerate(zip(cells, answers)):
            attacker = copy.deepcopy(cell.threat_model.attacker)  # unfitted (ThreatModel holds a fresh clone)
            if hasattr(attacker, "random_state"):
                attacker.set_params(random_state=attacker_seed)
            attacker.fit(Xq, Y)
            preds.append(attacker.predict(Z))
            for name, scorer in (scorers or {}).items():
                extras[i][name] = float(scorer(attacker, cell.threat_model))
    seconds = (time.perf_counter() - t0) / len(cells)
    records = []
    for cell, (_, yq, Y), pred, extra in zip(cells, answers, preds, extras):
        rec = {"cell": cell.key, **cell.params, "rep": rep, "seed": seed}
        rec["utility_loss"] = utility_loss(yq, Y)
        rec["stealing_error"] = stealing_error(fZ, pred)
        rec.update(extra)
        rec["seconds"] = seconds
        records.append(rec)
    return records


def _parse(value):
    for conv in (int, float):
        try:
            return conv(value)
        except (TypeError, ValueError):
            pass
    if value in ("True", "False"):
        return value == "True"
    return value


class Results:
    """Tidy simulation records with summaries.

    Parameters
    ----------
    records : list of dict
        One dict per replication and cell (``cell``, the cell's parameters,
        ``rep``, ``seed``, ``utility_loss``, ``stealing_error``, ``seconds``).
    """

    def __init__(self, records):
        self.records = list(records)

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def column(self, name):
        """The values of one field as an array."""
        return np.array([r[name] for r in self.records])

    def filter(self, **conditions):
        """Records whose fields equal the given values."""
        return Results(r for r in self.records if all(r.get(k) == v for k, v in conditions.items()))

    def summary(self, by=("defense", "attacker", "n", "sigma"), confidence=0.95):
        """Per-group privacy level (mean and CI), mean utility loss and PL/U.

        Returns
        -------
        list of dict
            Keys: the ``by`` fields, ``reps``, ``privacy_level``, ``pl_low``,
            ``pl_high``, ``utility_loss``, ``privacy_gain`` (``PL_n/U_n``, NaN
            when undefined).
        """
        by = [b for b in by if any(b in r for r in self.records)]
        groups = OrderedDict()
        for r in self.records:
            groups.setdefault(tuple(r.get(b) for b in by), []).append(r)
        rows = []
        for key, recs in groups.items():
            pl = privacy_level([r["stealing_error"] for r in recs], confidence)
            u = float(np.mean([r["utility_loss"] for r in recs]))
            gain = privacy_gain(pl.mean, utility_loss=u)
            row = dict(zip(by, key))
            row.update(
                reps=pl.reps,
                privacy_level=pl.mean,
                pl_low=pl.low,
                pl_high=pl.high,
                utility_loss=u,
                privacy_gain=float(gain),
            )
            rows.append(row)
        return rows

    def table(self, by=("defense", "attacker", "n", "sigma")):
        """A readable text table of :meth:`summary`."""
        rows = self.summary(by)
        if not rows:
            return "(no records)"
        cols = list(rows[0])
        fmt = {
            c: (lambda v: f"{v:.4g}" if isinstance(v, float) and math.isfinite(v) else str(v)) for c in cols
        }
        cells = [[fmt[c](r[c]) for c in cols] for r in rows]
        head = [c if c != "privacy_gain" else "PL/U" for c in cols]
        widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(head)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
        return "\n".join(lines)

    def to_csv(self, path):
        """Write all records to ``path``."""
        if not self.records:
            raise ValueError("no records to write.")
        fields = list(self.records[0])
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(self.records)

    @classmethod
    def from_csv(cls, path):
        """Read records written by :meth:`to_csv` or a sweep."""
        return cls(_read_records(path))

    def to_pandas(self):
        """The records as a pandas DataFrame (pandas is optional)."""
        import pandas as pd

        return pd.DataFrame(self.records)


def _read_records(path):
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = []
        for row in reader:
            if None in row.values() or None in row:
                continue  # a line cut short by an interruption
            rows.append({k: _parse(v) if k != "cell" else v for k, v in row.items()})
    return rows


def _truncate_partial_line(path):
    """Drop a trailing line cut short when a previous run was killed mid-write."""
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def _execute(tasks, n_jobs, backend):
    """Yield task results in task order, serially or with joblib."""
    if n_jobs == 1 and backend in (None, "serial"):
        for cells, rep, seed, scorers in tasks:
            yield _run_task(cells, rep, seed, scorers)
        return
    config = {"n_jobs": n_jobs}
    if backend not in (None, "serial"):
        config["backend"] = backend
    with parallel_config(**config):
        par = Parallel(return_as="generator", batch_size="auto")
        yield from par(delayed(_run_task)(*task) for task in tasks)


def sweep(cells, reps=100, seed=0, *, out=None, n_jobs=1, backend=None, progress=True, desc="sweep", scorers=None):
    """Run every cell for ``reps`` replications, resuming from ``out``.

    Parameters
    ----------
    cells : list of Cell
        Settings to run; cells with equal parameters must not repeat.
    reps : int
        Replications per cell.
    seed : int
        Base seed; see the module docstring for how streams are derived.
    out : str or path, optional
        CSV file written record by record. If it exists, records of finished
        ``(cell, rep)`` pairs are read back and not recomputed.
    n_jobs : int
        Local workers (joblib, loky backend by default); 1 runs serially.
    backend : str, optional
        A joblib backend name (``"loky"``, ``"threading"``, ``"dask"`` inside
        a ``dask.distributed.Client`` context).
    progress : bool
        Show a progress bar on stderr.
    scorers : dict, optional
        Extra per-replication metrics: name -> ``scorer(fitted_attacker,
        threat_model) -> float`` (e.g. support recovery of a sparse copy).

    Returns
    -------
    Results
        Records of all requested cells, finished earlier or now, in cell order.
    """
    reps = check_int(reps, "reps", low=1)
    seed = check_int(seed, "seed", low=0)
    n_jobs = check_int(n_jobs, "n_jobs", low=-1)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of workers or -1 (all cores), got 0.")
    cells = list(cells)
    if not cells:
        raise ValueError("cells must not be empty.")
    keys = [c.key for c in cells]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"cells with identical parameters: {dup}.")
    fields = ["cell"]
    for c in cells:
        fields += [k for k in c.params if k not in fields]
    scorers = dict(scorers or {})
    clash = set(scorers) & (set(fields) | set(RECORD_FIELDS))
    if clash:
        raise ValueError(f"scorer names clash with record fields: {sorted(clash)}.")
    fields += [f for f in RECORD_FIELDS if f != "seconds"] + list(scorers) + ["seconds"]

    done = {}
    if out is not None and os.path.exists(out) and os.path.getsize(out) > 0:
        _truncate_partial_line(out)
        with open(out, newline="") as fh:
            header = next(csv.reader(fh), [])
        if header != fields:
            raise ValueError(
                f"{out} holds records with fields {header}, not those of this sweep {fields}; "
                "choose another output file."
            )
        wanted = set(keys)
        for r in _read_records(out):
            if r["cell"] in wanted and r["rep"] < reps:
                if r["seed"] != seed:
                    raise ValueError(
                        f"{out} holds records of cell {r['cell']!r} made with seed {r['seed']}, not {seed}."
                    )
                done[(r["cell"], r["rep"])] = r

    # group cells sharing a game, so a replication draws their queries once
    groups = OrderedDict()
    for c in cells:
        groups.setdefault(_game_key(c.threat_model), []).append(c)
    tasks = []
    for group in groups.values():
        for rep in range(reps):
            todo = [c for c in group if (c.key, rep) not in done]
            if todo:
                tasks.append((todo, rep, seed, scorers))

    fh = writer = None
    if out is not None and tasks:
        new = not os.path.exists(out) or os.path.getsize(out) == 0
        fh = open(out, "a", newline="")
        writer = csv.DictWriter(fh, fieldnames=fields)
        if new:
            writer.writeheader()
            fh.flush()
    bar = Progress(len(tasks), desc=desc, disable=not progress)
    try:
        for recs in _execute(tasks, n_jobs, backend):
            for r in recs:
                done[(r["cell"], r["rep"])] = r
                if writer is not None:
                    writer.writerow(r)
            if fh is not None:
                fh.flush()
            bar.update()
    finally:
        bar.close()
        if fh is not None:
            fh.close()
    return Results(done[(k, rep)] for k in keys for rep in range(reps))


def simulate(threat_model, reps=100, seed=0, *, n_jobs=1, backend=None, out=None, progress=False):
    """Run ``reps`` replications of one game.

    Parameters
    ----------
    threat_model : ThreatModel
    reps, seed, n_jobs, backend, out, progress
        As in :func:`sweep`.

    Returns
    -------
    Results
        Use ``privacy_level(results.column("stealing_error"))`` for
        :math:`PL_n` with its confidence interval.
    """
    if not isinstance(threat_model, ThreatModel):
        raise TypeError(f"threat_model must be a ThreatModel, got {type(threat_model).__name__}.")
    cell = Cell(_default_params(threat_model), threat_model)
    return sweep([cell], reps, seed, out=out, n_jobs=n_jobs, backend=backend, progress=progress, desc="simulate")


def _label(obj):
    for name, cls in DEFENSES.items():
        if type(obj) is cls:
            return name
    return type(obj).__name__


def _default_params(tm, defense_name=None, attacker_name=None):
    sigma = tm.defense.get_params(deep=False).get("sigma", 0.0)
    return {
        "defense": defense_name or _label(tm.defense),
        "attacker": attacker_name or type(tm.attacker).__name__,
        "n": tm.n,
        "sigma": float(sigma),
    }


def grid(base, *, defenses, n=None, sigma=None, attackers=None):
    """Cells of a sweep over defenses x budgets x noise levels (x attackers).

    Parameters
    ----------
    base : ThreatModel
        The game; its ``n``, ``defense`` and ``attacker`` are replaced per cell.
    defenses : dict
        Display name -> Defense. A defense without a ``sigma`` parameter (no
        defense) gets one cell per ``n`` with ``sigma = 0``.
    n : list of int, optional
        Budgets (default ``[base.n]``).
    sigma : list of float, optional
        Noise levels (default: each defense's own ``sigma``).
    attackers : dict, optional
        Name -> attacker (default ``{"attacker": base.attacker}``).
    """
    ns = [base.n] if n is None else list(n)
    attackers = {type(base.attacker).__name__: base.attacker} if attackers is None else attackers
    cells = []
    for a_name, attacker in attackers.items():
        for n_ in ns:
            for d_name, defense in defenses.items():
                has_sigma = "sigma" in defense.get_params(deep=False)
                sigmas = [defense.sigma if has_sigma else 0.0] if (sigma is None or not has_sigma) else sigma
                for s in sigmas:
                    d = clone(defense).set_params(sigma=float(s)) if has_sigma else defense
                    tm = base.replace(n=n_, defense=d, attacker=attacker)
                    params = {"defense": d_name, "attacker": a_name, "n": n_, "sigma": float(s)}
                    cells.append(Cell(params, tm))
    return cells
