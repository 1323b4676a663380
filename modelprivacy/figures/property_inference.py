r"""Figures of confidential property inference (CPI): the arms race, defenses, Adult, the approximate strategy.

Importing this module registers four figures (group ``"property_inference"``),
every number a record of the one simulation engine: the arms race
(:class:`~modelprivacy.property_inference.ArmsRace`, a round game: one
replication is one race, one record per round) and the property-inference
experiment (:class:`~modelprivacy.property_inference.CPIExperiment`, one record
per replication), played by :func:`~modelprivacy.simulate.sweep` with the
records in ``<out_dir>/<name>_records.csv`` (a killed run resumes, a race from
its last completed round).

``pi_arms_race``
    Attack accuracy per round of the arms race on German Credit (white-box,
    L2 logistic-regression targets): the responsive attacker (best response to
    the current defense) and the fixed round-0 attacker against chance and
    the undefended level; the targets' AUC, log-loss and ECE per round.
``pi_utility_vs_attack``
    Utility (AUC, log-loss, ECE) against attack accuracy for each defense
    (none, output noise and parameter noise at two scales each, property
    unlearning, the arms race's final round), fixed and responsive attacker,
    white- and black-box.
``pi_adult_alpha``
    The two-world game of Suri and Evans on Adult: attack accuracy for the
    share of women 0.5 against alpha, with the label share following the
    property or held fixed, white- and black-box meta-classifiers, Wilson
    intervals over every target of every replication.
``pi_exact_vs_approx``
    Training time and attack accuracy per round, and total training time per
    race, of the exact and the approximate strategy.

The property-inference game and its arms race are a reconstruction *inspired
by* Yang, Xu, Zhang and Fang (arXiv:2509.16352), whose full text was not
available (see :mod:`modelprivacy.property_inference`).

Sizes (paper scale; ``quick=True`` shrinks every model count, see each figure)
are chosen so the four figures regenerate in about five minutes with two
workers; they are listed in each figure's docstring and in
``paper_figures/README.md``.
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._validation import check_bool, check_int, check_option, check_records
from ..property_inference import ArmsRace, CPIExperiment, OutputNoise, ParameterNoise, PropertyUnlearning
from ..property_inference.metrics import n_leaked, wilson_interval
from ..simulate import Cell, sweep
from ._common import figure_output, write_rows
from ._registry import register

__all__ = [
    "RACE",
    "QUICK_RACE",
    "race_cells",
    "defense_cells",
    "defense_race_cells",
    "adult_cells",
    "strategy_cells",
    "ADULT_ALPHAS",
    "summarise",
    "defense_rows",
    "adult_rows",
    "strategy_rows",
    "pi_arms_race",
    "pi_utility_vs_attack",
    "pi_adult_alpha",
    "pi_exact_vs_approx",
]

#: the arms race of the figures: German Credit default rate in 3 bins over [0.1, 0.5], 150 loans per
#: training set, L2 logistic regression (C = 1), 100 shadows and 40 targets per bin, at most 10 rounds
RACE = dict(access="white", n_shadows=100, n_targets=40, max_rounds=10)
#: quick smoke runs: the same race with 15 shadows and 8 targets per bin, 32 queries, at most 3 rounds
QUICK_RACE = dict(access="white", n_shadows=15, n_targets=8, n_queries=32, max_rounds=3)
#: German Credit experiments of the defense figure (50 targets per bin; phase-1 sizes)
GERMAN = dict(bins=3, property_range=(0.1, 0.5), n_train=150, n_test=100, n_shadows=100, n_targets=50)
QUICK_GERMAN = dict(bins=3, property_range=(0.1, 0.5), n_train=150, n_test=100, n_shadows=10, n_targets=8,
                    n_validation=6, n_queries=32)
#: alpha of the Adult figure (the second world's share of women)
ADULT_ALPHAS = tuple(round(0.1 * k, 1) for k in range(11))
QUICK_ADULT_ALPHAS = (0.0, 0.5, 1.0)
ADULT = dict(n_train=1000, n_test=500, n_shadows=100, n_targets=100)
QUICK_ADULT = dict(n_train=200, n_test=100, n_shadows=8, n_targets=6, n_queries=32)
ACCESS = ("white", "black")
ATTACK_LABEL = {"white": "white-box LR meta-classifier", "black": "black-box LR meta-classifier"}
_UTILITY = ("auc", "log_loss", "ece")
_UTILITY_LABEL = {"auc": "AUC", "log_loss": "log-loss", "ece": "ECE"}


# --------------------------------------------------------------------------------------
# statistics of records
# --------------------------------------------------------------------------------------
def _mean_se(values):
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan


def _groups(records, keys):
    """Records grouped by the values of ``keys``, in first-seen order."""
    out = {}
    for r in records:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def _names(names, what):
    """A tuple of field names (a single string is refused: it would be read as its characters)."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise TypeError(f"{what} must be a sequence of field names, got {names!r}.")
    names = tuple(names)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"{what} must hold field names (str), got {bad[:3]}.")
    return names


def summarise(records, by, fields):
    """Per-group mean and standard error of ``fields``.

    Parameters
    ----------
    records : iterable of dict
    by : sequence of str
        Grouping fields (groups keep their first-seen order).
    fields : sequence of str
        Numeric fields; a NaN value is left out of its field's mean.

    Returns
    -------
    list of dict
        The ``by`` values, ``count`` (records in the group) and, per field,
        ``<field>`` (mean) and ``<field>_se`` (sample standard deviation over
        :math:`\\sqrt{\\text{count}}`; NaN for a single record).
    """
    by, fields = _names(by, "by"), _names(fields, "fields")
    records = check_records(records, "records", fields=by + fields)
    rows = []
    for key, recs in _groups(records, by).items():
        row = dict(zip(by, key))
        row["count"] = len(recs)
        for f in fields:
            row[f], row[f"{f}_se"] = _mean_se(r[f] for r in recs)
        rows.append(row)
    return rows


def _pooled(accuracies, n_each):
    """Correct guesses over every target of every replication, their share and Wilson interval."""
    correct = int(sum(round(a * n_each) for a in accuracies))
    total = int(n_each * len(accuracies))
    low, high = wilson_interval(correct, total)
    return correct, total, correct / total, low, high


def _final_rounds(records):
    """The last record of every race (``rep``) of every cell (``fingerprint``)."""
    last = {}
    for r in records:
        key = (r["fingerprint"], r["rep"])
        if key not in last or r["round"] > last[key]["round"]:
            last[key] = r
    return list(last.values())


def _sweep(name, cells, reps, seed, out_dir, fresh, suffix=""):
    return sweep(cells, reps, seed, fresh=fresh, desc=name + suffix,
                 out=os.path.join(out_dir, f"{name}{suffix}_records.csv"))


def _white_races(quick, reps, seed, out_dir, fresh):
    """The white-box exact races of :data:`RACE`, shared by the three race figures.

    ``pi_arms_race``, ``pi_utility_vs_attack`` and ``pi_exact_vs_approx`` play
    the same cell with the same seed, so its records (and resume state) live
    in one file, ``pi_arms_race_records.csv``: whichever figure runs first
    plays the races, the others reuse them (replication ``r`` is the same
    race whoever asks for it).
    """
    return _sweep("pi_arms_race", race_cells(quick), reps, seed, out_dir, fresh)


# --------------------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------------------
def race_cells(quick=False, strategies=("exact",), access="white"):
    """Arms races on German Credit, one cell per strategy (labels ``strategy``, ``access``)."""
    quick = check_bool(quick, "quick")
    access = check_option(access, "access", ("white", "black"))
    if isinstance(strategies, (str, bytes)) or not hasattr(strategies, "__iter__"):
        raise TypeError(f"strategies must be a sequence of 'exact'/'approximate', got {strategies!r}.")
    strategies = tuple(check_option(s, "strategies", ("exact", "approximate")) for s in strategies)
    if not strategies:
        raise ValueError("strategies must name at least one strategy ('exact', 'approximate').")
    size = dict(QUICK_RACE if quick else RACE, access=access)
    return [Cell(ArmsRace("german", strategy=s, **size), {"strategy": s, "access": access}) for s in strategies]


def defense_cells(quick=False):
    """Non-adaptive defenses on German Credit (L2 logistic-regression targets), fixed vs responsive attacker.

    Output noise (scales 0.1, 0.2) and parameter noise (0.1, 0.5) are
    attacked by the white- and black-box logistic-regression meta-classifiers
    in one experiment; property unlearning is defined against one given
    attacker, so it has one cell per attacker (its defended utility is then
    that of the targets unlearned against that attacker). The responsive
    attacker (``responsive="same"``) reruns the defense on its shadows,
    retrains the same meta-classifier and keeps it or the fixed attacker,
    whichever does better on defended validation shadows. Every cell's
    replication ``r`` trains the same shadows and targets (common random
    numbers): their undefended fields are the "none" defense.
    """
    size = QUICK_GERMAN if check_bool(quick, "quick") else GERMAN
    both = tuple(f"{a}_logistic" for a in ACCESS)
    noise = [("output noise", s, OutputNoise(s)) for s in ((0.2,) if quick else (0.1, 0.2))]
    noise += [("parameter noise", s, ParameterNoise(s)) for s in ((0.5,) if quick else (0.1, 0.5))]
    cells = [Cell(CPIExperiment("german", attacks=both, defense=d, responsive="same", **size),
                  {"defense": name, "scale": s}) for name, s, d in noise]
    cells += [Cell(CPIExperiment("german", attacks=(f"{a}_logistic",), defense=PropertyUnlearning(),
                                 responsive="same", **size),
                   {"defense": f"property unlearning ({a})", "scale": 0.0}) for a in ACCESS]
    return cells


def defense_race_cells(quick=False):
    """The black-box arms race of the defense figure, with the approximate strategy.

    The black-box race retrains every model through the sigmoid of every
    query: exactly, that costs tens of times the white-box race (phase 1:
    about 400 s of training per race), so the figure plays it with the
    approximate strategy. (The white-box race is :func:`race_cells`.)
    """
    return race_cells(quick, ("approximate",), "black")


def adult_cells(quick=False):
    """The Suri and Evans game on Adult: one cell per label share and alpha (worlds 0.5 and alpha)."""
    size = QUICK_ADULT if check_bool(quick, "quick") else ADULT
    alphas = QUICK_ADULT_ALPHAS if quick else ADULT_ALPHAS
    attacks = tuple(f"{a}_logistic" for a in ACCESS)
    return [Cell(CPIExperiment("adult", label_share=share, bins=None, property_range=None,
                               property_values=(0.5, alpha), attacks=attacks, **size),
                 {"label_share": share, "alpha": alpha})
            for share in ("follow", "fixed") for alpha in alphas]


def strategy_cells(quick=False):
    """The white-box German Credit race with exact retraining and with the approximate strategy."""
    return race_cells(quick, ("exact", "approximate"))


#: races per race cell at paper scale (quick: 2)
RACES = 5


# --------------------------------------------------------------------------------------
# pi_arms_race
# --------------------------------------------------------------------------------------
_ROUND_FIELDS = ("attack_accuracy", "fixed_accuracy", "previous_accuracy", "chance", "auc", "log_loss", "ece",
                 "auc_drop", "train_seconds", "train_evaluations", "constraint_violation")


def _stops(records):
    reasons = {}
    for r in records:
        if r["stop_reason"]:
            reasons[r["stop_reason"]] = reasons.get(r["stop_reason"], 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))


@register("pi_arms_race", group="property_inference")
def pi_arms_race(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Attack accuracy per arms-race round on German Credit: responsive vs fixed attacker, with AUC and calibration.

    Setting (paper scale): the default rate of German Credit loan books in 3
    bins over [0.1, 0.5] (chance 1/3), 150 loans per training set, L2
    logistic-regression targets (C = 1), white-box access, 100 shadow models
    and 40 provider targets per bin, a logistic-regression meta-classifier,
    the constrained defense step, exact retraining; a race stops when the
    responsive attacker is within 0.1 of chance for 2 rounds, when the mean
    AUC falls more than 0.02 below round 0's, or after 10 rounds. 5 races
    (engine replications; their records, ``pi_arms_race_records.csv``, are
    shared with the two other race figures). Quick: 15 shadows and 8 targets per bin, 32
    queries, at most 3 rounds, 2 races.

    Panels: attack accuracy per round (responsive attacker, the fixed round-0
    attacker, every race thin; chance with the stopping band, the undefended
    level); the targets' AUC with the utility floor; log-loss and ECE. Round
    ``t``'s mean is over the races that played it (``count`` in the CSV); the
    row ``round = final`` holds each race's last round.
    """
    name = "pi_arms_race"
    reps = reps or (2 if quick else RACES)
    cells = race_cells(quick)
    res = _white_races(quick, reps, seed, out_dir, fresh)
    records = list(res)
    per_round = summarise(sorted(records, key=lambda r: r["round"]), ("round",), _ROUND_FIELDS)
    for row in per_round:
        row["stops"] = _stops(r for r in records if r["round"] == row["round"])
    finals = _final_rounds(records)
    final = summarise([dict(r, round="final") for r in finals], ("round",), _ROUND_FIELDS)[0]
    final["stops"] = _stops(finals)
    rows = per_round + [final]
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)

    spec = cells[0].game
    chance, undefended = per_round[0]["chance"], per_round[0]["attack_accuracy"]
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    ax_att, ax_auc, ax_cal = fig.subplots(1, 3)
    t = np.array([r["round"] for r in per_round])
    for rep in sorted({r["rep"] for r in records}):
        race = sorted((r for r in records if r["rep"] == rep), key=lambda r: r["round"])
        ax_att.plot([r["round"] for r in race], [r["attack_accuracy"] for r in race], color="C0", lw=0.7, alpha=0.35)
    for field, label, marker, color in (("attack_accuracy", "responsive attacker (best response)", "o", "C0"),
                                        ("fixed_accuracy", "fixed attacker (round 0, not responsive)", "s", "C1")):
        ax_att.errorbar(t, [r[field] for r in per_round], yerr=np.nan_to_num([r[f"{field}_se"] for r in per_round]),
                        marker=marker, color=color, capsize=2, label=label)
    ax_att.axhspan(chance - spec.epsilon, chance + spec.epsilon, color="0.85", label=f"chance ± {spec.epsilon:g}")
    ax_att.axhline(chance, color="k", ls=":", lw=1)
    ax_att.axhline(undefended, color="k", ls="--", lw=1, label=f"undefended (round 0) {undefended:.2f}")
    for r in per_round:
        if r["count"] < reps:
            ax_att.annotate(f"{r['count']}", (r["round"], 0.02), ha="center", fontsize=7, color="0.4")
    ax_att.set_ylim(0, 1)
    ax_att.set_ylabel("attack accuracy on defended targets")
    ax_att.set_title(f"{reps} races (numbers: races still running)", fontsize=9)
    ax_att.legend(fontsize=7, loc="upper right")
    auc = np.array([r["auc"] for r in per_round])
    ax_auc.errorbar(t, auc, yerr=np.nan_to_num([r["auc_se"] for r in per_round]), marker="o", color="C2", capsize=2,
                    label="targets' AUC")
    ax_auc.axhline(auc[0] - spec.max_auc_drop, color="C3", ls="--", lw=1,
                   label=f"utility floor (round-0 AUC - {spec.max_auc_drop:g})")
    ax_auc.set_ylabel("AUC on the targets' own test sets")
    ax_auc.legend(fontsize=7)
    for field, marker, color in (("log_loss", "o", "C4"), ("ece", "s", "C5")):
        ax_cal.errorbar(t, [r[field] for r in per_round], yerr=np.nan_to_num([r[f"{field}_se"] for r in per_round]),
                        marker=marker, color=color, capsize=2, label=_UTILITY_LABEL[field])
    ax_cal.set_ylabel("log-loss, expected calibration error")
    ax_cal.legend(fontsize=7)
    for ax in (ax_att, ax_auc, ax_cal):
        ax.set_xlabel("arms-race round")
        ax.set_xticks(t)
        ax.grid(alpha=0.3)
    fig.suptitle("Arms race on German Credit (default rate, 3 bins; white-box L2 logistic regression; "
                 "mean ± SE over races)", fontsize=10)
    lines = [f"round {r['round']}: races {r['count']}, responsive {r['attack_accuracy']:.3f} ± "
             f"{r['attack_accuracy_se']:.3f}, fixed {r['fixed_accuracy']:.3f}, AUC {r['auc']:.3f}, "
             f"log-loss {r['log_loss']:.3f}, ECE {r['ece']:.3f} {r['stops']}" for r in rows]
    return figure_output(name, fig, out_dir, summary="\n".join(lines), reports=[res.report])


# --------------------------------------------------------------------------------------
# pi_utility_vs_attack
# --------------------------------------------------------------------------------------
def _point(defense, scale, access, attacker, accuracies, n_each, utility):
    """One plotted point: attack accuracy (mean, SE, pooled Wilson interval) and utility (mean, SE)."""
    mean, se = _mean_se(accuracies)
    correct, total, _, low, high = _pooled(accuracies, n_each)
    row = {"defense": defense, "scale": scale, "access": access, "attacker": attacker, "reps": len(accuracies),
           "attack_accuracy": mean, "attack_accuracy_se": se, "n_targets": total, "correct": correct,
           "wilson_low": low, "wilson_high": high}
    for k, values in utility.items():
        row[k], row[f"{k}_se"] = _mean_se(values)
    return row


def defense_rows(experiments, races, n_targets_per_class):
    """The plotted points of ``pi_utility_vs_attack`` from the records of its two sweeps.

    Parameters
    ----------
    experiments : iterable of dict
        Records of :func:`defense_cells`.
    races : iterable of dict
        Records of :func:`defense_race_cells` (one per round).
    n_targets_per_class : int
        Targets per property class of the experiments.

    Returns
    -------
    list of dict
        One row per (defense, access, attacker): ``attacker`` is ``"none"``
        (undefended), ``"fixed"`` (fitted on undefended shadows) or
        ``"responsive"``; ``attack_accuracy`` with its standard error over
        replications, ``n_targets`` and ``correct`` (all replications' targets)
        with the Wilson interval of the pooled guesses, and the targets'
        ``auc``, ``log_loss``, ``ece`` with standard errors (defended for
        ``fixed``/``responsive``). For the arms race: its final round, and its
        round 0 as ``"none"``.
    """
    experiments = check_records(experiments, "experiments")
    races = check_records(races, "races", fields=("fingerprint", "rep", "round", "access", "strategy", "n_targets",
                                                  "attack_accuracy", "fixed_accuracy", *_UTILITY))
    n_targets_per_class = check_int(n_targets_per_class, "n_targets_per_class", low=1)
    rows = []
    for access in ACCESS:
        attack = f"{access}_logistic"
        have = [r for r in experiments if np.isfinite(r.get(f"{attack}_accuracy", math.nan))]
        if not have:
            continue
        n_each = int(have[0]["n_classes"]) * int(n_targets_per_class)
        # every cell's replication r trains the same models (common random numbers): one cell's
        # undefended fields are the undefended point
        first = [r for r in have if r["fingerprint"] == have[0]["fingerprint"]]
        rows.append(_point("none", 0.0, access, "none", [r[f"{attack}_accuracy"] for r in first], n_each,
                           {k: [r[k] for r in first] for k in _UTILITY}))
        for (defense, scale), group in _groups(have, ("defense", "scale")).items():
            for kind in ("fixed", "responsive"):
                rows.append(_point(defense, scale, access, kind, [r[f"{attack}_{kind}_accuracy"] for r in group],
                                   n_each, {k: [r[f"defended_{k}"] for r in group] for k in _UTILITY}))
    finals = _groups(_final_rounds(races), ("access", "strategy"))
    for (access, strategy), group in finals.items():
        n = int(group[0]["n_targets"])
        start = [r for r in races if r["access"] == access and r["strategy"] == strategy and r["round"] == 0]
        rows.append(_point(f"arms race ({strategy}), round 0", 0.0, access, "none",
                           [r["attack_accuracy"] for r in start], n, {k: [r[k] for r in start] for k in _UTILITY}))
        for kind, field in (("fixed", "fixed_accuracy"), ("responsive", "attack_accuracy")):
            rows.append(_point(f"arms race ({strategy}), final round", 0.0, access, kind, [r[field] for r in group],
                               n, {k: [r[k] for r in group] for k in _UTILITY}))
    return rows


def _defense_label(row):
    return row["defense"] + (f" {row['scale']:g}" if row["scale"] else "")


@register("pi_utility_vs_attack", group="property_inference")
def pi_utility_vs_attack(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Utility (AUC, log-loss, ECE) against attack accuracy per defense, fixed and responsive attacker.

    Setting (paper scale): German Credit, the default rate in 3 bins over
    [0.1, 0.5] (chance 1/3), 150 loans per training set, L2 logistic-regression
    targets; 100 shadows and 50 targets per bin; white- and black-box
    logistic-regression meta-classifiers. Defenses: output noise (scale 0.1,
    0.2; it leaves white-box parameters untouched), parameter noise (0.1,
    0.5), property unlearning against the fixed attacker (one cell per
    attacker), 3 replications each; and the arms race's final round (the 5
    white-box races of ``pi_arms_race``, reused from its records; 5 black-box
    races of the same size with the approximate strategy). The responsive
    attacker reruns the defense on its shadows, retrains the same
    meta-classifier and keeps it or the fixed attacker, whichever is more
    accurate on 50 defended validation shadows per bin (the arms race's
    responsive attacker is its best response of the round). Quick:
    output noise 0.2, parameter noise 0.5 and unlearning only, 10 shadows and
    8 targets per bin, races of ``pi_arms_race``'s quick size, 1 replication.

    Rows of panels: the attacker's access; columns: AUC, log-loss, ECE of the
    released targets on their own test sets. Open markers: the fixed
    attacker; filled: the responsive one (joined by a line); black star:
    undefended.
    """
    name = "pi_utility_vs_attack"
    cells = defense_cells(quick)
    res = _sweep(name, cells, reps or (1 if quick else 3), seed, out_dir, fresh)
    races = reps or (2 if quick else RACES)
    white = _white_races(quick, races, seed, out_dir, fresh)
    black = _sweep(name, defense_race_cells(quick), races, seed, out_dir, fresh, suffix="_race")
    rows = defense_rows(res, list(white) + list(black), cells[0].game.n_targets)
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)

    chance = 1.0 / float(next(iter(res))["n_classes"])
    names = list(dict.fromkeys(_defense_label(r) for r in rows if r["attacker"] != "none"))
    colors = {n: f"C{i % 10}" for i, n in enumerate(names)}
    fig = Figure(figsize=(13, 7.2), layout="constrained")
    axes = fig.subplots(2, 3)
    for i, access in enumerate(ACCESS):
        sel = [r for r in rows if r["access"] == access]
        for j, metric in enumerate(_UTILITY):
            ax = axes[i, j]
            ax.axvline(chance, color="k", ls=":", lw=1)
            for r in sel:
                if r["attacker"] == "none" and r["defense"] == "none":
                    ax.errorbar(r["attack_accuracy"], r[metric], xerr=np.nan_to_num(r["attack_accuracy_se"]),
                                yerr=np.nan_to_num(r[f"{metric}_se"]), marker="*", ms=12, color="k",
                                label="undefended")
            for label in names:
                pts = {r["attacker"]: r for r in sel if r["attacker"] != "none" and _defense_label(r) == label}
                if len(pts) < 2:
                    continue
                f, p = pts["fixed"], pts["responsive"]
                ax.plot([f["attack_accuracy"], p["attack_accuracy"]], [f[metric], p[metric]], color=colors[label],
                        lw=1)
                for r, face in ((f, "none"), (p, colors[label])):
                    ax.errorbar(r["attack_accuracy"], r[metric], xerr=np.nan_to_num(r["attack_accuracy_se"]),
                                yerr=np.nan_to_num(r[f"{metric}_se"]), marker="o", mfc=face, color=colors[label],
                                capsize=2, label=label if face != "none" else None)
            ax.set_xlabel(f"attack accuracy ({ATTACK_LABEL[access]})")
            ax.set_ylabel(_UTILITY_LABEL[metric])
            ax.set_xlim(0, 1)
            ax.grid(alpha=0.3)
    handles = {}
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), fontsize=8, loc="outside right center")
    fig.suptitle("German Credit (default rate, 3 bins, chance dotted): utility of the released targets vs attack "
                 "accuracy; open = fixed attacker, filled = responsive", fontsize=10)
    lines = [f"{r['access']:<5} {_defense_label(r):<36} {r['attacker']:<10} attack {r['attack_accuracy']:.3f} "
             f"[{r['wilson_low']:.3f}, {r['wilson_high']:.3f}] AUC {r['auc']:.3f} log-loss {r['log_loss']:.3f} "
             f"ECE {r['ece']:.3f}" for r in rows]
    return figure_output(name, fig, out_dir, summary="\n".join(lines), reports=[res.report, white.report, black.report])


# --------------------------------------------------------------------------------------
# pi_adult_alpha
# --------------------------------------------------------------------------------------
def adult_rows(records, n_targets_per_world):
    """The plotted points of ``pi_adult_alpha``: one row per (label share, alpha, access).

    ``accuracy`` pools the guesses on every target of every replication
    (``correct`` of ``n_targets``, Wilson interval ``low``/``high``);
    ``accuracy_se`` is the standard error over replications (NaN for one);
    ``n_leaked`` (:func:`~modelprivacy.property_inference.n_leaked`) of the
    pooled accuracy; ``label_share_0``/``label_share_1`` the mean label share of
    the training sets of world 0.5 and world alpha; ``auc`` of the targets.
    """
    records = check_records(records, "records", fields=(
        "label_share", "alpha", "label_share_0", "label_share_1", "auc", *(f"{a}_logistic_accuracy" for a in ACCESS)))
    n_targets_per_world = check_int(n_targets_per_world, "n_targets_per_world", low=1)
    rows = []
    for (share, alpha), group in _groups(records, ("label_share", "alpha")).items():
        for access in ACCESS:
            acc = [r[f"{access}_logistic_accuracy"] for r in group]
            correct, total, pooled, low, high = _pooled(acc, 2 * n_targets_per_world)
            row = {"label_share": share, "alpha": alpha, "access": access, "reps": len(group), "n_targets": total,
                   "correct": correct, "accuracy": pooled, "low": low, "high": high,
                   "accuracy_se": _mean_se(acc)[1], "n_leaked": n_leaked(pooled, 0.5, float(alpha))}
            for k in ("label_share_0", "label_share_1", "auc"):
                row[k] = _mean_se(r[k] for r in group)[0]
            rows.append(row)
    return rows


@register("pi_adult_alpha", group="property_inference")
def pi_adult_alpha(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Attack accuracy vs alpha on Adult (share of women 0.5 vs alpha), label share following or fixed.

    The distinguishing game of Suri and Evans: the provider's training set
    has a share of women of 0.5 (world 0) or alpha (world 1), alpha in
    {0.0, 0.1, ..., 1.0}; adversary and provider data are disjoint stratified
    halves of UCI Adult. Training sets of 1000 rows, L2 logistic-regression
    targets (C = 1), 100 shadow models and 100 targets per world; white-box
    (coefficients and intercept) and black-box (probabilities on 128 queries)
    logistic-regression meta-classifiers; one replication per cell (200
    targets per point; the Wilson interval covers the targets' sampling, not
    the attacker's shadow draw, whose effect ``--reps 2`` shows). ``"follow"``: rows
    drawn uniformly within the two strata, so the label share follows the
    property (women earn >50K less often); ``"fixed"``: every training set
    holds the pool's label share. Chance is 0.5; alpha = 0.5 is the
    identical-worlds control. Quick: alpha in {0, 0.5, 1}, 200 rows, 8
    shadows and 6 targets per world, 1 replication.

    Panels: accuracy vs alpha for each label-share rule (95% Wilson bands);
    the label share of the training sets in both worlds.
    """
    name = "pi_adult_alpha"
    reps = reps or 1
    cells = adult_cells(quick)
    res = _sweep(name, cells, reps, seed, out_dir, fresh)
    rows = adult_rows(res, cells[0].game.n_targets)
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)

    fig = Figure(figsize=(13, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, share in zip(axes[:2], ("follow", "fixed")):
        for access, marker in zip(ACCESS, "os"):
            pts = sorted((r for r in rows if r["label_share"] == share and r["access"] == access),
                         key=lambda r: r["alpha"])
            a = [r["alpha"] for r in pts]
            line, = ax.plot(a, [r["accuracy"] for r in pts], marker=marker, label=ATTACK_LABEL[access])
            ax.fill_between(a, [r["low"] for r in pts], [r["high"] for r in pts], color=line.get_color(), alpha=0.2)
        ax.axhline(0.5, color="k", ls=":", lw=1, label="chance")
        ax.set_title(f"label share {share!r}", fontsize=10)
        ax.set_xlabel(r"share of women in world 1 ($\alpha$; world 0: 0.5)")
        ax.set_ylabel("attack accuracy (95% Wilson)")
        ax.set_ylim(0.3, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper center")
    ax = axes[2]
    for share, ls in (("follow", "-"), ("fixed", "--")):
        pts = sorted((r for r in rows if r["label_share"] == share and r["access"] == "white"), key=lambda r: r["alpha"])
        ax.plot([r["alpha"] for r in pts], [r["label_share_1"] for r in pts], ls=ls, marker="o",
                label=f"{share}: world $\\alpha$")
        ax.plot([r["alpha"] for r in pts], [r["label_share_0"] for r in pts], ls=ls, marker="x", color="0.5",
                label=f"{share}: world 0.5")
    ax.set_xlabel(r"$\alpha$")
    ax.set_ylabel("share of >50K labels in the training sets")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.suptitle("Adult, share of women 0.5 vs alpha (L2 logistic-regression targets): the label-share rule "
                 "decides much of the leakage", fontsize=10)
    lines = [f"{r['label_share']:<6} alpha {r['alpha']:.1f} {r['access']:<5} {r['accuracy']:.3f} "
             f"[{r['low']:.3f}, {r['high']:.3f}] (n={r['n_targets']}) n_leaked {r['n_leaked']:.1f} label share "
             f"{r['label_share_1']:.3f}" for r in rows]
    return figure_output(name, fig, out_dir, summary="\n".join(lines), reports=[res.report])


# --------------------------------------------------------------------------------------
# pi_exact_vs_approx
# --------------------------------------------------------------------------------------
def strategy_rows(records):
    """Per-round and per-race rows of ``pi_exact_vs_approx``.

    ``kind = "round"``: per strategy and round, the mean (and SE over the
    races that played it) of the training time, Newton steps, attack
    accuracies and AUC. ``kind = "total"``: per strategy, each race's total
    training time and steps, rounds played, and its final round's attack
    accuracies, AUC and AUC drop; the approximate row also holds
    ``saving`` :math:`= 1 - \\bar T_{\\rm approx}/\\bar T_{\\rm exact}` and
    ``final_gap`` :math:`= |\\bar a_{\\rm approx} - \\bar a_{\\rm exact}|`.
    """
    fields = ("train_seconds", "train_evaluations", "attack_accuracy", "fixed_accuracy", "auc", "round_seconds")
    records = check_records(records, "records", fields=("strategy", "rep", "round", "auc_drop", *fields))
    records = sorted(records, key=lambda r: r["round"])
    rows = [{"kind": "round", **r} for r in summarise(records, ("strategy", "round"), fields)]
    totals = []
    for (strategy, rep), race in _groups(records, ("strategy", "rep")).items():
        last = race[-1]
        totals.append({"strategy": strategy, "rep": rep, "rounds": len(race),
                       "total_train_seconds": sum(r["train_seconds"] for r in race),
                       "total_train_evaluations": sum(r["train_evaluations"] for r in race),
                       "total_round_seconds": sum(r["round_seconds"] for r in race),
                       "final_attack_accuracy": last["attack_accuracy"], "final_fixed_accuracy": last["fixed_accuracy"],
                       "final_auc": last["auc"], "final_auc_drop": last["auc_drop"]})
    fields = ("rounds", "total_train_seconds", "total_train_evaluations", "total_round_seconds",
              "final_attack_accuracy", "final_fixed_accuracy", "final_auc", "final_auc_drop")
    total = {r["strategy"]: {"kind": "total", **r} for r in summarise(totals, ("strategy",), fields)}
    if "exact" in total and "approximate" in total:
        ex, ap = total["exact"], total["approximate"]
        ap["saving"] = 1.0 - ap["total_train_seconds"] / ex["total_train_seconds"]
        ap["final_gap"] = abs(ap["final_attack_accuracy"] - ex["final_attack_accuracy"])
    return rows + list(total.values())


@register("pi_exact_vs_approx", group="property_inference")
def pi_exact_vs_approx(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Training time and attack accuracy of the exact and the approximate arms-race strategy.

    The race of ``pi_arms_race`` (German Credit, white-box L2 logistic
    regression, 100 shadows and 40 targets per bin, at most 10 rounds), 5
    races per strategy with the same seeds, so both strategies start from
    the same training sets; the exact races are ``pi_arms_race``'s (reused
    from its records file). Exact: every model of every round retrained from
    zero by Newton / Newton-KKT to a step tolerance of 1e-8. Approximate:
    round 0 fits one reference model per bin and moves every other model from
    it by two Newton steps; each later round moves every model from its
    previous round by one Newton-KKT step. Training time is the time spent
    producing the parameters of shadows and targets (the meta-classifiers and
    the evaluation are the same work in both). Quick: ``pi_arms_race``'s
    quick race, 2 races per strategy.

    Panels: training seconds per round; total training seconds per race
    (the saving annotated); the responsive attacker's accuracy per round.
    """
    name = "pi_exact_vs_approx"
    reps = reps or (2 if quick else RACES)
    exact = _white_races(quick, reps, seed, out_dir, fresh)
    approx = _sweep(name, race_cells(quick, ("approximate",)), reps, seed, out_dir, fresh)
    res = list(exact) + list(approx)
    rows = strategy_rows(res)
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)

    fig = Figure(figsize=(13, 3.8), layout="constrained")
    ax_t, ax_tot, ax_acc = fig.subplots(1, 3)
    chance = 1.0 / float(next(iter(res))["n_classes"])
    strategies = ("exact", "approximate")
    for k, (strategy, marker) in enumerate(zip(strategies, "os")):
        pts = [r for r in rows if r["kind"] == "round" and r["strategy"] == strategy]
        t = [r["round"] for r in pts]
        ax_t.errorbar(t, [r["train_seconds"] for r in pts], yerr=np.nan_to_num([r["train_seconds_se"] for r in pts]),
                      marker=marker, capsize=2, label=strategy)
        ax_acc.errorbar(t, [r["attack_accuracy"] for r in pts],
                        yerr=np.nan_to_num([r["attack_accuracy_se"] for r in pts]), marker=marker, capsize=2,
                        label=f"{strategy}: responsive attacker")
        tot = [r for r in rows if r["kind"] == "total" and r["strategy"] == strategy][0]
        ax_tot.bar(k, tot["total_train_seconds"], yerr=np.nan_to_num(tot["total_train_seconds_se"]), capsize=3,
                   color=f"C{k}")
    total = [r for r in rows if r["kind"] == "total" and r["strategy"] == "approximate"][0]
    if "saving" in total:
        ax_tot.set_title(f"saving {100 * total['saving']:.0f}% of training time; final attack gap "
                         f"{total['final_gap']:.3f}", fontsize=9)
    ax_tot.set_xticks([0, 1])
    ax_tot.set_xticklabels(strategies)
    ax_tot.set_ylabel("training seconds per race (all rounds)")
    ax_t.set_yscale("log")
    ax_t.set_ylabel("training seconds (shadows + targets)")
    ax_acc.axhline(chance, color="k", ls=":", lw=1, label="chance")
    ax_acc.set_ylim(0, 1)
    ax_acc.set_ylabel("attack accuracy on defended targets")
    for ax in (ax_t, ax_acc):
        ax.set_xlabel("arms-race round")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
    for ax in (ax_t, ax_tot, ax_acc):
        ax.grid(alpha=0.3)
    fig.suptitle("Arms race on German Credit: exact retraining vs the approximate strategy (warm starts, "
                 "one Newton step); mean ± SE over races", fontsize=10)
    lines = [f"{r['strategy']:<11} races {r['count']}: train {r['total_train_seconds']:.2f} s, rounds "
             f"{r['rounds']:.1f}, final attack {r['final_attack_accuracy']:.3f}, AUC drop {r['final_auc_drop']:+.3f}"
             + (f", saving {100 * r['saving']:.1f}%, gap {r['final_gap']:.3f}" if "saving" in r else "")
             for r in rows if r["kind"] == "total"]
    return figure_output(name, fig, out_dir, summary="\n".join(lines), reports=[exact.report, approx.report])
