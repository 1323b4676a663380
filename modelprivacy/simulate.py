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

Rounds
------
A :class:`~modelprivacy.threat.RoundGame` (an arms race) is played in rounds
that carry state; one replication is a whole race and gives one record per
round. With a records file the state after every completed round is saved
(``<out>.rounds/``) and a killed race resumes from its last completed round.
A precision target then refers to the metric of each race's final round.

Results are tidy records (one per replication -- or round -- and cell),
written to CSV as they are produced, so an interrupted sweep resumes where it
stopped.
"""

from __future__ import annotations

import csv
import math
import os
import pickle
from collections import OrderedDict, namedtuple
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
from .threat import Game, RoundGame, ThreatModel, _round_record, hook_fields, round_stream

__all__ = ["Cell", "Precision", "CellStatus", "Results", "simulate", "sweep", "grid", "replication_streams",
           "RecordsConflictError", "RecordsLockedError"]

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

    def fingerprint(self, seed=0, hooks=None):
        """The hash that identifies this cell's records: game, labels, seed, hooks and source code."""
        hooks = dict(hooks or {})
        return fingerprint({"game": canonical(self.game), "labels": canonical(self.labels), "seed": seed,
                            "hooks": canonical(hooks), "code": code_digest([self.game, hooks], __version__, [__name__])})

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
#: what a worker receives: replications ``reps`` of the cells ``ids`` (their games and fingerprints)
_Task = namedtuple("_Task", "ids games fps reps seed hooks rounds_dir")


def _run_task(task):
    """Run replications ``reps`` of ``games`` (sharing draws); return ``(ids, [(rep, records)])``.

    A round game's replication gives, per game, the list of its rounds' records.
    """
    ids, games, fps, reps, seed, hooks, rounds_dir = task
    if isinstance(games[0], RoundGame):
        return ids, [(rep, [_race(g, fp, rep, seed, rounds_dir) for g, fp in zip(games, fps)]) for rep in reps]
    cls = type(games[0])
    return ids, [(rep, cls.replicate(games, rep, _Streams(seed, rep), hooks)) for rep in reps]


def _checkpoint_path(rounds_dir, fp, rep):
    return None if rounds_dir is None else os.path.join(rounds_dir, f"{fp}-{rep}.pkl")


def _load_checkpoint(path, fp, rep):
    """``(state, records)`` saved after the last completed round, or ``(None, [])``."""
    if path is None or not os.path.exists(path):
        return None, []
    try:
        with open(path, "rb") as fh:
            saved = pickle.load(fh)
        if saved["fingerprint"] == fp and saved["rep"] == rep:
            return saved["state"], list(saved["records"])
    except Exception:  # a checkpoint cut short by a kill: the race starts again from round 0
        pass
    return None, []


def _save_checkpoint(path, fp, rep, state, records):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        pickle.dump({"fingerprint": fp, "rep": rep, "state": state, "records": records}, fh,
                    protocol=pickle.HIGHEST_PROTOCOL)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _race(game, fp, rep, seed, rounds_dir):
    """Play replication ``rep`` of a round game to its stop, saving the state after every round."""
    limit = game.max_rounds
    if isinstance(limit, bool) or not isinstance(limit, Integral) or limit < 1:
        raise ValueError(f"{type(game).__name__}.max_rounds must be an int >= 1, got {limit!r}.")
    path = _checkpoint_path(rounds_dir, fp, rep)
    state, records = _load_checkpoint(path, fp, rep)
    if state is None:
        state, records = game.init_state(round_stream(seed, rep, None)), []
    while not (records and records[-1]["stop_reason"]):
        t = len(records)
        state, record = game.step(state, round_stream(seed, rep, t))
        records.append(_round_record(game, t, record))
        if path is not None:
            _save_checkpoint(path, fp, rep, state, records)
    return records


def _races(index, round_fps):
    """Split the stored rows of round games into finished races ``(fp, rep) -> [records]`` and rounds stored."""
    by_race = {}
    for (fp, rep, rnd), rec in list(index.items()):
        if fp in round_fps:
            by_race.setdefault((fp, rep), {})[rnd] = rec
            del index[(fp, rep, rnd)]
    finished, stored = {}, {}
    for key, rounds in by_race.items():
        stored[key] = set(rounds)
        ordered = [rounds.get(t) for t in range(max(rounds) + 1)]
        if all(r is not None for r in ordered) and ordered[-1]["stop_reason"]:
            finished[key] = ordered
    return finished, stored


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
    rounds = [isinstance(c.game, RoundGame) for c in cells]
    if hooks and any(rounds):
        raise ValueError("hooks are not supported for round games (arms races); compute the quantity in the "
                         "game's step.")
    label_fields = []
    for c in cells:
        label_fields += [k for k in c.labels if k not in label_fields]
    metric_fields, text_fields = [], []
    for c in cells:
        metric_fields += [f for f in c.game.record_fields if f not in metric_fields]
        text_fields += [f for f in c.game.text_fields if f not in text_fields]
    clash = (set(metric_fields) | set(text_fields)) & (set(label_fields) | set(BOOKKEEPING) | {"round"})
    if clash:
        raise ValueError(f"record fields clash with labels or bookkeeping fields: {sorted(clash)}.")
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
    fps = [c.fingerprint(seed, hooks) for c in cells]
    if len(set(fps)) != len(fps):
        dup = [cells[i].labels for i, fp in enumerate(fps) if fps.count(fp) > 1]
        raise ValueError(f"cells with identical games and labels: {dup[:4]}.")

    round_fps = {fp for fp, r in zip(fps, rounds) if r}
    key = ("rep", "round") if round_fps else ("rep",)
    numeric = {"rep", "seed", "seconds", *metric_fields, *hook_columns} | ({"round"} if round_fps else set())
    finite = {"rep", "seed", *(f for c in cells for f in c.game.finite_fields)}
    timing = [] if "seconds" in metric_fields else ["seconds"]
    fields = ["fingerprint", *label_fields, *key, "seed", *metric_fields, *text_fields, *hook_columns, *timing,
              *VERSIONS]
    store = RecordsFile(out, fields, numeric, finite, fresh=fresh, key=key) if out is not None else None
    required = {fp: {"seed", *key, *c.game.record_fields, *c.game.text_fields, *hook_columns}
                for fp, c in zip(fps, cells)}
    done = store.open(required) if store is not None else {}
    report = store.report if store is not None else RecordsReport()
    labels_of = {fp: c.labels for fp, c in zip(fps, cells)}
    for rec in done.values():
        rec.update(labels_of[rec["fingerprint"]])  # typed labels of the cell (the file holds text)
    if round_fps:
        finished, stored = _races(done, round_fps)
        done = {k[:2]: v for k, v in done.items()}
        done.update(finished)
    else:
        stored = {}
    rounds_dir = None if out is None or not round_fps else os.fspath(out) + ".rounds"
    if rounds_dir is not None:
        os.makedirs(rounds_dir, exist_ok=True)

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
            payload = (_Task(ids, tuple(cells[i].game for i in ids), tuple(fps[i] for i in ids), reps_, seed, hooks,
                             rounds_dir)
                       for ids, reps_ in _tasks(groups, targets, done, chunk=min(c.game.chunk for c in cells)))
            for ids, results in executor.map(_run_task, payload):
                written, finished = [], 0
                for rep, recs in results:
                    for i, rec in zip(ids, recs):
                        head = {"fingerprint": fps[i], **cells[i].labels, "rep": rep, "seed": seed}
                        if fps[i] in round_fps:
                            race = [{**head, **r, **VERSIONS} for r in rec]
                            have = stored.pop((fps[i], rep), set())
                            written += [r for r in race if r["round"] not in have]
                            done[(fps[i], rep)] = race
                        else:
                            done[(fps[i], rep)] = {**head, **rec, **VERSIONS}
                            written.append(done[(fps[i], rep)])
                        finished += 1
                if store is not None:
                    store.append(written)
                else:
                    report.computed += len(written)
                for i in ids:  # the records are stored: the races' saved states are no longer needed
                    for rep, _ in results:
                        path = _checkpoint_path(rounds_dir, fps[i], rep)
                        if path is not None and os.path.exists(path):
                            os.unlink(path)
                bar.update(finished)
            if precision is None:
                for st in status:
                    st.reps = reps
                break
            before = list(targets)
            for i in sorted(open_cells):
                metric = precision.metric or cells[i].game.primary_metric
                values = np.array([_final(done[(fps[i], r)])[metric] for r in range(targets[i])], dtype=float)
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
        if rounds_dir is not None and os.path.isdir(rounds_dir) and not os.listdir(rounds_dir):
            os.rmdir(rounds_dir)
    records = []
    for fp, st in zip(fps, status):
        for r in range(st.reps):
            rec = done[(fp, r)]
            records += rec if isinstance(rec, list) else [rec]
    report.reused = len(records) - report.computed
    return Results(records, status=status, report=report)


def _final(record):
    """The record a precision target reads: a race's final round."""
    return record[-1] if isinstance(record, list) else record


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
