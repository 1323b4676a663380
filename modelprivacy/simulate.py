r"""The simulation engine: one engine for every game.

A *cell* is one fully specified setting of one game (a :class:`~modelprivacy.threat.Game`:
the regression :class:`~modelprivacy.threat.ThreatModel`, the classification
:class:`~modelprivacy.threat.ClassificationThreatModel`, the property-inference
game) with the labels its records carry. A *replication* of a cell is a
function of the cell and its seed streams that returns a record.
:func:`sweep` runs any list of cells.

Seeding
-------
Replication ``r`` of a run with seed ``s`` uses ``SeedSequence(s, spawn_key=(r,))``,
split into four independent streams (queries, defense, attacker,
evaluation). The numbers therefore depend only on ``(s, r)`` and the cell --
not on the executor, the number of workers, the order of cells or which
cells are resumed -- and all cells of one game that differ only in the
defense see the *same* queries and evaluation points within a replication
(common random numbers), which sharpens comparisons between defenses.

Records that cannot go stale
----------------------------
Every record carries its cell's fingerprint: a hash of the cell's complete
specification (``get_params(deep=True)`` of every part, in canonical form),
the seed, the hooks, the package version and a digest of the source of every
package module that computes the record. A resume reuses exactly the
records whose fingerprint matches; records of other settings or older code
are counted and left in the file (see :mod:`modelprivacy._records`).

Precision
---------
With a :class:`Precision`, replications are added in seeded batches until
the studentised bootstrap interval of the cell's primary metric is narrow
enough (or a maximum is reached); every decision depends only on the
records, so the result does not depend on the executor.

Results are tidy records (one per replication and cell), written to CSV as
they are produced, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import csv
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import scipy
import sklearn
from sklearn.base import clone
from tqdm.auto import tqdm

from . import __version__
from ._executors import current_executor, make_executor
from ._fingerprint import canonical, code_digest, fingerprint
from ._param_validation import Interval, validate_params
from ._records import RecordsConflictError, RecordsFile, RecordsLockedError, RecordsReport
from ._validation import check_int
from .defenses import DEFENSES
from .metrics import bootstrap_t_interval, privacy_gain, privacy_level
from .threat import Game, ThreatModel, hook_fields

__all__ = ["Cell", "Precision", "CellStatus", "Results", "simulate", "sweep", "grid", "replication_streams"]

#: records fields that are not labels or metrics
BOOKKEEPING = ("fingerprint", "rep", "seed")
VERSIONS = {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}


class _Streams:
    """The children ``SeedSequence(seed, spawn_key=(rep,)).spawn(4)``, each built when first used.

    Child ``k`` of that spawn is ``SeedSequence(seed, spawn_key=(rep, k))``; building
    only the streams a game uses saves the seeding cost of the others.
    """

    __slots__ = ("seed", "rep", "_made")

    def __init__(self, seed, rep):
        self.seed, self.rep, self._made = seed, rep, {}

    def __getitem__(self, k):
        if k not in self._made:
            self._made[k] = np.random.SeedSequence(self.seed, spawn_key=(self.rep, k))
        return self._made[k]

    def __len__(self):
        return 4

    def __iter__(self):
        return (self[k] for k in range(4))


def replication_streams(seed, rep):
    """The four random streams of replication ``rep``: queries, defense, attacker, evaluation.

    They are the children of ``SeedSequence(seed, spawn_key=(rep,))``
    (``.spawn(4)``), built lazily: ``streams[k]`` is ``SeedSequence(seed,
    spawn_key=(rep, k))``.
    """
    return _Streams(check_int(seed, "seed", low=0), check_int(rep, "rep", low=0))


@dataclass(frozen=True)
class Cell:
    """One setting of a sweep: a game and the labels its records carry.

    Parameters
    ----------
    game : Game
        The complete description (fingerprinted).
    labels : dict
        Names and plain values (str, int, float, bool) written into every
        record; default: the game's own labels.
    """

    game: object
    labels: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.game, Game):
            raise TypeError(f"game must be a Game (e.g. a ThreatModel), got {type(self.game).__name__}.")
        labels = dict(self.labels) if self.labels else self.game.labels()
        for k, v in labels.items():
            if not isinstance(k, str) or k in BOOKKEEPING or k == "seconds":
                raise ValueError(f"label names must be strings other than {BOOKKEEPING + ('seconds',)}, got {k!r}.")
            if not (v is None or isinstance(v, (str, bool, Integral, Real))):
                raise TypeError(f"label {k!r} must be a plain str, int, float or bool, got {type(v).__name__}.")
        object.__setattr__(self, "labels", labels)

    @property
    def threat_model(self):
        """The game (the name of regression sweeps)."""
        return self.game

    @property
    def params(self):
        """The labels (the name of regression sweeps)."""
        return self.labels


@dataclass(frozen=True)
class Precision:
    r"""A target precision for the primary metric of every cell.

    Replications are run in batches: first ``min_reps``; then, while the
    interval's half-width exceeds :math:`\max(\text{rel} \cdot |\bar v|,\ \text{abs})`,
    the replication count grows by ``growth`` (up to ``max_reps``).

    Parameters
    ----------
    rel_half_width : float
        Relative half-width target (0.05: the 95% interval within 5% of the mean).
    abs_half_width : float
        Absolute floor of the target (for metrics near 0, e.g. no defense).
    min_reps, max_reps : int
    growth : float
        Factor by which a batch extends the replication count (> 1).
    confidence : float
    metric : str, optional
        The metric (default: each game's primary metric).
    """

    rel_half_width: float = 0.05
    abs_half_width: float = 0.0
    min_reps: int = 100
    max_reps: int = 2000
    growth: float = 2.0
    confidence: float = 0.95
    metric: str | None = None

    def __post_init__(self):
        for name, value, low in (("rel_half_width", self.rel_half_width, 0.0), ("abs_half_width", self.abs_half_width, 0.0)):
            if not Interval(Real, low, None).is_satisfied_by(value):
                raise ValueError(f"{name} must be a finite number >= {low}, got {value!r}.")
        if self.rel_half_width == 0 and self.abs_half_width == 0:
            raise ValueError("rel_half_width and abs_half_width cannot both be 0 (no interval is that narrow).")
        if not Interval(Integral, 3, None).is_satisfied_by(self.min_reps):
            raise ValueError(f"min_reps must be an int >= 3, got {self.min_reps!r}.")
        if not Interval(Integral, self.min_reps, None).is_satisfied_by(self.max_reps):
            raise ValueError(f"max_reps must be an int >= min_reps={self.min_reps}, got {self.max_reps!r}.")
        if not Interval(Real, 1.0, None, closed="neither").is_satisfied_by(self.growth):
            raise ValueError(f"growth must be > 1, got {self.growth!r}.")
        if not Interval(Real, 0, 1, closed="neither").is_satisfied_by(self.confidence):
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence!r}.")

    def half_width(self, values):
        """``(mean, half-width, target)`` of the studentised bootstrap interval of ``values``."""
        iv = bootstrap_t_interval(values, self.confidence)
        half = 0.5 * (iv.high - iv.low)
        return iv.mean, half, max(self.rel_half_width * abs(iv.mean), self.abs_half_width)

    def next_reps(self, reps):
        return min(self.max_reps, max(reps + 1, int(math.ceil(reps * self.growth))))


@dataclass
class CellStatus:
    """How many replications a cell ran and whether it reached the precision target."""

    labels: dict
    fingerprint: str
    reps: int
    met: bool = True
    half_width: float = math.nan


# --------------------------------------------------------------------------- tasks
def _run_task(task):
    """Run replications ``reps`` of ``games`` (sharing draws); return ``(ids, [(rep, records)])``."""
    ids, games, reps, seed, hooks = task
    cls = type(games[0])
    return ids, [(rep, cls.replicate(games, rep, _Streams(seed, rep), hooks)) for rep in reps]


def _tasks(groups, targets, done, chunk):
    """Lazily yield ``(cell ids, reps)``: consecutive replications of the same missing cells share a task."""
    for members in groups:
        top = max(targets[i] for i, _ in members)
        pending, subset = [], None
        for rep in range(top):
            todo = tuple(i for i, fp in members if rep < targets[i] and (fp, rep) not in done)
            if todo != subset or len(pending) >= chunk:
                if pending:
                    yield subset, pending
                pending, subset = [], todo
            if todo:
                pending.append(rep)
        if pending:
            yield subset, pending


def _missing(fps, targets, done):
    have = {}
    for fp, rep in done:
        have[fp] = have.get(fp, 0) + 1
    return sum(max(t - have.get(fp, 0), 0) for fp, t in zip(fps, targets))


# --------------------------------------------------------------------------- sweep
@validate_params({
    "reps": [Interval(Integral, 1, None)],
    "seed": [Interval(Integral, 0, None)],
    "n_jobs": [Interval(Integral, -1, None)],
    "progress": ["boolean"],
    "fresh": ["boolean"],
    "precision": [Precision, None],
    "hooks": [dict, None],
})
def sweep(cells, reps=100, seed=0, *, precision=None, out=None, fresh=False, n_jobs=1, scheduler=None,
          progress=True, desc="sweep", hooks=None):
    """Run every cell, resuming from ``out``; return the records of every cell.

    Parameters
    ----------
    cells : list of Cell
        Settings to run; two cells with the same game and labels are an error.
    reps : int
        Replications per cell (ignored when ``precision`` is given).
    seed : int
        Base seed; see the module docstring for how streams are derived.
    precision : Precision, optional
        Add replications until each cell's interval is narrow enough.
    out : str or path, optional
        CSV records file, written record by record and resumed from (only
        records whose fingerprint matches are reused; see
        :mod:`modelprivacy._records`).
    fresh : bool
        Recompute everything into a new file; the old one is kept until the
        new one is complete (then it is moved to ``<out>.old``).
    n_jobs : int
        Local worker processes (1: serial; -1: all cores), unless an executor
        is set by :func:`modelprivacy._executors.use_executor` (figures) or
        ``scheduler`` is given.
    scheduler : dask.distributed.Client or str, optional
        Run on Dask (a client or a scheduler address).
    progress : bool
        Show a progress bar (tqdm; a widget in notebooks).
    desc : str
        Progress-bar label.
    hooks : dict, optional
        ``name -> hook(draw)``: extra per-replication fields computed from
        what the replication drew (:class:`~modelprivacy.threat.Draw`: the
        queries, clean and perturbed answers, evaluation points, the copy's
        predictions and, for hooks marked with
        :func:`~modelprivacy.threat.needs_attacker`, the fitted copy). A hook
        returns a number, or a dict of the names listed in its ``fields``
        attribute (stored as ``<name>_<field>``).

    Returns
    -------
    Results
        Records of every cell (replications ``0 .. R-1`` in cell order), the
        per-cell :class:`CellStatus` and the :class:`RecordsReport`.
    """
    cells = list(cells)
    if not cells:
        raise ValueError("cells must not be empty.")
    for i, c in enumerate(cells):
        if not isinstance(c, Cell):
            raise TypeError(f"cells[{i}] must be a Cell, got {type(c).__name__}.")
    hooks = dict(hooks or {})
    for name, hook in hooks.items():
        if not callable(hook):
            raise TypeError(f"hooks[{name!r}] must be callable (draw -> number or dict).")
    label_fields = []
    for c in cells:
        label_fields += [k for k in c.labels if k not in label_fields]
    metric_fields = []
    for c in cells:
        metric_fields += [f for f in c.game.record_fields if f not in metric_fields]
    hook_columns = [f for name, hook in hooks.items() for f in hook_fields(name, hook)]
    clash = set(hook_columns) & (set(label_fields) | set(metric_fields) | set(BOOKKEEPING))
    if clash:
        raise ValueError(f"hook names clash with record fields: {sorted(clash)}.")
    if precision is not None:
        metrics = {precision.metric or c.game.primary_metric for c in cells}
        missing = [m for m in metrics if m not in metric_fields and m not in hook_columns]
        if missing:
            raise ValueError(f"precision metric {missing} is not a field of these cells' records.")

    # fingerprints: the full specification, the seed, the hooks and the code
    fps = []
    for c in cells:
        fps.append(fingerprint({"game": canonical(c.game), "labels": canonical(c.labels), "seed": seed,
                                "hooks": canonical(hooks), "code": code_digest([c.game, hooks], __version__, [__name__])}))
    if len(set(fps)) != len(fps):
        dup = [cells[i].labels for i, fp in enumerate(fps) if fps.count(fp) > 1]
        raise ValueError(f"cells with identical games and labels: {dup[:4]}.")

    numeric = {"rep", "seed", "seconds", *metric_fields, *hook_columns}
    finite = {"rep", "seed", *(f for c in cells for f in c.game.finite_fields)}
    fields = ["fingerprint", *label_fields, "rep", "seed", *metric_fields, *hook_columns, "seconds", *VERSIONS]
    store = RecordsFile(out, fields, numeric, finite, fresh=fresh) if out is not None else None
    required = {fp: {"rep", "seed", *c.game.record_fields, *hook_columns} for fp, c in zip(fps, cells)}
    done = store.open(required) if store is not None else {}
    report = store.report if store is not None else RecordsReport()
    labels_of = {fp: c.labels for fp, c in zip(fps, cells)}
    for key, rec in done.items():
        rec.update(labels_of[key[0]])  # typed labels of the cell (the file holds text)

    # cells sharing their draws run together (common random numbers)
    groups = OrderedDict()
    for i, (c, fp) in enumerate(zip(cells, fps)):
        groups.setdefault(c.game.shared_key(), []).append((i, fp))
    groups = list(groups.values())
    targets = [reps if precision is None else precision.min_reps for _ in cells]
    status = [CellStatus(c.labels, fp, 0) for c, fp in zip(cells, fps)]
    open_cells = set(range(len(cells)))
    executor = (make_executor(n_jobs, scheduler) if (n_jobs != 1 or scheduler is not None)
                else current_executor() or make_executor(1))
    bar = tqdm(total=_missing(fps, targets, done), desc=desc, disable=not progress, unit="rep", leave=False)
    complete = False
    try:
        while True:
            payload = ((ids, tuple(cells[i].game for i in ids), reps_, seed, hooks)
                       for ids, reps_ in _tasks(groups, targets, done, chunk=16))
            for ids, results in executor.map(_run_task, payload):
                written = []
                for rep, recs in results:
                    for i, rec in zip(ids, recs):
                        full = {"fingerprint": fps[i], **cells[i].labels, "rep": rep, "seed": seed, **rec, **VERSIONS}
                        done[(fps[i], rep)] = full
                        written.append(full)
                if store is not None:
                    store.append(written)
                else:
                    report.computed += len(written)
                bar.update(len(written))
            if precision is None:
                for st in status:
                    st.reps = reps
                break
            before = list(targets)
            for i in sorted(open_cells):
                metric = precision.metric or cells[i].game.primary_metric
                values = np.array([done[(fps[i], r)][metric] for r in range(targets[i])], dtype=float)
                _, half, goal = precision.half_width(values)
                status[i].reps, status[i].half_width, status[i].met = targets[i], half, half <= goal
                if half <= goal or targets[i] >= precision.max_reps:
                    open_cells.discard(i)
                else:
                    targets[i] = precision.next_reps(targets[i])
            if not open_cells:
                break
            bar.total += _missing(fps, targets, done) - _missing(fps, before, done)
            bar.refresh()
        complete = True
    finally:
        bar.close()
        if store is not None:
            store.close(complete)
    report.reused = sum(st.reps for st in status) - report.computed
    records = [done[(fp, r)] for fp, st in zip(fps, status) for r in range(st.reps)]
    return Results(records, status=status, report=report)


def simulate(threat_model, reps=100, seed=0, *, precision=None, n_jobs=1, scheduler=None, out=None,
             progress=False, hooks=None):
    """Run the replications of one game.

    Parameters
    ----------
    threat_model : Game
        Usually a :class:`~modelprivacy.threat.ThreatModel`.
    reps, seed, precision, n_jobs, scheduler, out, progress, hooks
        As in :func:`sweep`.

    Returns
    -------
    Results
        Use ``privacy_level(results.column("stealing_error"))`` for
        :math:`PL_n` with its confidence interval.
    """
    if not isinstance(threat_model, Game):
        raise TypeError(f"threat_model must be a ThreatModel (a Game), got {type(threat_model).__name__}.")
    return sweep([Cell(threat_model, _default_labels(threat_model))], reps, seed, precision=precision, out=out,
                 n_jobs=n_jobs, scheduler=scheduler, progress=progress, desc="simulate", hooks=hooks)


def _label(obj):
    for name, cls in DEFENSES.items():
        if type(obj) is cls:
            return name
    return type(obj).__name__


def _default_labels(tm):
    if not isinstance(tm, ThreatModel):
        return tm.labels()
    return {**tm.labels(), "defense": _label(tm.defense)}


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
        Name -> attacker (default ``{"<class name>": base.attacker}``).
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
                    cells.append(Cell(tm, {"defense": d_name, "attacker": a_name, "n": n_, "sigma": float(s)}))
    return cells


# --------------------------------------------------------------------------- results
class Results:
    """Tidy simulation records with summaries.

    Parameters
    ----------
    records : list of dict
        One dict per replication and cell: its fingerprint, the cell's
        labels, ``rep``, ``seed``, the game's metrics (``utility_loss``,
        ``stealing_error`` for regression), hook fields, ``seconds`` and the
        versions of numpy, scipy and scikit-learn.
    status : list of CellStatus, optional
    report : RecordsReport, optional
    """

    def __init__(self, records, *, status=None, report=None):
        self.records = list(records)
        self.status = list(status or [])
        self.report = report

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

    def summary(self, by=("defense", "attacker", "n", "sigma"), confidence=0.95, *, metric="stealing_error",
                interval="bootstrap-t"):
        """Per-group mean and interval of ``metric`` (and, for regression, utility loss and PL/U).

        Returns
        -------
        list of dict
            Keys: the ``by`` fields, ``reps``, and for ``metric="stealing_error"``
            ``privacy_level``, ``pl_low``, ``pl_high``, ``utility_loss``,
            ``privacy_gain`` (``PL_n/U_n``, NaN when undefined); for another
            metric ``<metric>``, ``<metric>_low``, ``<metric>_high``.
        """
        by = [b for b in by if any(b in r for r in self.records)]
        groups = OrderedDict()
        for r in self.records:
            groups.setdefault(tuple(r.get(b) for b in by), []).append(r)
        rows = []
        for key, recs in groups.items():
            values = np.array([r[metric] for r in recs], dtype=float)
            row = dict(zip(by, key))
            if metric == "stealing_error":
                pl = privacy_level(values, confidence, interval=interval)
                u = float(np.mean([r["utility_loss"] for r in recs]))
                row.update(reps=pl.reps, privacy_level=pl.mean, pl_low=pl.low, pl_high=pl.high, utility_loss=u,
                           privacy_gain=float(privacy_gain(pl.mean, utility_loss=u)))
            else:
                iv = bootstrap_t_interval(values, confidence)
                row.update({"reps": iv.reps, metric: iv.mean, f"{metric}_low": iv.low, f"{metric}_high": iv.high})
            rows.append(row)
        return rows

    def table(self, by=("defense", "attacker", "n", "sigma")):
        """A readable text table of :meth:`summary`."""
        rows = self.summary(by)
        if not rows:
            return "(no records)"
        cols = list(rows[0])
        cells = [[f"{r[c]:.4g}" if isinstance(r[c], float) and math.isfinite(r[c]) else str(r[c]) for c in cols]
                 for r in rows]
        head = [c if c != "privacy_gain" else "PL/U" for c in cols]
        widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(head)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths)), "  ".join("-" * w for w in widths)]
        lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
        return "\n".join(lines)

    def to_csv(self, path):
        """Write all records to ``path``."""
        if not self.records:
            raise ValueError("no records to write.")
        fields = []
        for r in self.records:
            fields += [k for k in r if k not in fields]
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(self.records)

    def to_pandas(self):
        """The records as a pandas DataFrame (pandas is optional)."""
        import pandas as pd

        return pd.DataFrame(self.records)
