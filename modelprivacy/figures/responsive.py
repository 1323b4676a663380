r"""Figures of responsive model stealing: defense-aware attackers, the stealing arms race, online designs.

Importing this module registers three figures (group ``"responsive"``), each
computed by :func:`~modelprivacy.simulate.sweep` (the figure functions only
summarise records):

``responsive_pl_vs_u``
    :math:`PL_n` against :math:`U_n = \sigma^2` at ``n = 100`` in the
    polynomial and kernel games for IID noise, the constant shift, long-range
    noise and the game's designed defense (Order Disguise, Kernel Confusion;
    in the kernel game also the online design), facing the game's own (known) attacker and the best defense-aware
    attacker (:func:`~modelprivacy.games.game_aware_attackers`).
``arms_race``
    The stealing arms race (:class:`~modelprivacy.arms_race.StealingArmsRace`)
    in both games: per round, the defense's worst case over the attacker pool
    and over the whole family, the best single-attacker design's worst case,
    the relaxation gap and the attacker's choice, over independent races.
``online_vs_batch``
    The online perturbation-function design
    (:class:`~modelprivacy.defenses.PerturbationFunctionDesign`) against the
    batch optimum (:class:`~modelprivacy.defenses.OptimalLinearSmoother`)
    over ``n`` in the kernel game, with their ratio and why it stays below 1.

Each writes ``<name>.png``, ``<name>.pdf``, ``<name>.csv`` (the plotted
numbers with standard deviations, replication counts and intervals) and
``<name>_records.csv`` (one row per replication, or per round of a race; a
run resumes from it).
"""

from __future__ import annotations

import math
import os
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

from .._hooks import FunctionClassCost
from .._validation import check_bool, check_records
from ..arms_race import StealingArmsRace
from ..attacks import KernelRidgeAttacker
from ..defenses import OptimalLinearSmoother, PerturbationFunctionDesign
from ..games import GAME_DEFENSES, game_aware_attackers, game_defenses, krr_game, make_game
from ..metrics import mean_interval, privacy_level, ratio_interval
from ..queries import UniformQueries
from ..simulate import Cell, Precision, Results, sweep
from ._common import DISPLAY, MARKERS, clamp_zero, figure_output, group_rows, style_axes_log, write_rows
from ._registry import register

__all__ = [
    "PL_VS_U",
    "ARMS_RACE",
    "ONLINE_VS_BATCH",
    "FunctionClassCost",
    "pl_vs_u_cells",
    "pl_vs_u_rows",
    "arms_race_cells",
    "arms_race_rows",
    "online_vs_batch_cells",
    "online_vs_batch_rows",
]

#: settings of ``responsive_pl_vs_u``: budget, noise levels (U_n = sigma^2), precision, quick run
PL_VS_U = {
    "n": 100,
    "sigmas": (0.2, 0.3, 0.4, 0.5, 0.6),
    "quick_sigmas": (0.5,),
    "quick_reps": 2,
    # 95% interval within 10% of PL_n (or 1e-4, the drawn "0"), between 16 and 64 replications:
    # the heavy-tailed cells stop at 64 (the cross-validating attacker, 40 ms a replication,
    # dominates the cost)
    "precision": Precision(rel_half_width=0.10, abs_half_width=1e-4, min_reps=16, max_reps=64),
}
#: settings of ``arms_race``: the race (query sets a round, design points, round limit) and the races
ARMS_RACE = {
    "race": {"n": 100, "sigma": 0.5, "reps": 10, "n_emp": 500, "max_rounds": 6},
    "races": 8,
    "quick_race": {"n": 100, "sigma": 0.5, "reps": 2, "n_emp": 200, "max_rounds": 2},
    "quick_races": 2,
}
#: settings of ``online_vs_batch``: budgets, noise level, replications, design sizes
ONLINE_VS_BATCH = {
    "ns": (100, 200, 400, 800),
    "sigma": 0.5,
    "reps": 40,
    "n_mc": 30,
    "n_emp": 1000,
    "quick_ns": (100, 200),
    "quick_reps": 3,
    "quick_n_mc": 3,
    "quick_n_emp": 200,
    "target_ratio": 0.9,
}
_GAMES = ("poly", "krr")
_RESPONSIVE_DEFENSES = ("iid", "constant", "long_range")  # and each game's designed defense


def _online_design(sigma, n, quick):
    """The kernel game's online design for budget ``n``, fitted here (one BLAS thread, as the engine's workers).

    Cells keep the fitted design (``ThreatModel.replace`` does not clone it), so
    every worker answers with this one function instead of designing it again.
    """
    st = ONLINE_VS_BATCH
    n_mc, n_emp = (st["quick_n_mc"], st["quick_n_emp"]) if quick else (st["n_mc"], st["n_emp"])
    design = PerturbationFunctionDesign(sigma, attacker=KernelRidgeAttacker("rbf", gamma=1.0, alpha=1e-3),
                                        queries=UniformQueries((-1.0, 1.0)), n_design=int(n), n_mc=n_mc, n_emp=n_emp)
    with threadpool_limits(limits=1, user_api="blas"):  # on a busy machine threads slow these small products
        return design.fit(krr_game().target)


def _check_results(res, fields):
    """``res`` is a :class:`~modelprivacy.simulate.Results` whose records hold ``fields``."""
    if not isinstance(res, Results):
        raise TypeError(f"res must be the Results of a sweep, got {type(res).__name__}.")
    check_records(res.records, "res", fields=fields)
    return res


def _sd(values):
    v = np.asarray(values, dtype=float)
    return float(v.std(ddof=1)) if v.size > 1 else math.nan


# --------------------------------------------------------------------------------------
# responsive_pl_vs_u
# --------------------------------------------------------------------------------------
def pl_vs_u_cells(quick=False):
    r"""Cells of ``responsive_pl_vs_u``: every (game, defense, :math:`\sigma`, attacker).

    The defenses are IID noise, the constant shift, long-range noise and the
    game's designed defense (:func:`~modelprivacy.games.game_defenses`), and
    in the kernel game the online perturbation-function design against the
    game's attacker (designed for ``n = 100``); the attackers are the game's
    own (``"known"``) and every defense-aware attacker that applies
    (:func:`~modelprivacy.games.game_aware_attackers`).

    Returns
    -------
    list of Cell
        Labels ``game``, ``defense``, ``sigma``, ``attacker``.
    """
    sigmas = PL_VS_U["quick_sigmas"] if check_bool(quick, "quick") else PL_VS_U["sigmas"]
    cells = []
    for game in _GAMES:
        base = make_game(game, n=PL_VS_U["n"])
        names = _RESPONSIVE_DEFENSES + (GAME_DEFENSES[game][-1],) + (("online_function",) if game == "krr" else ())
        for dname in names:
            for s in sigmas:
                defense = (_online_design(float(s), PL_VS_U["n"], quick) if dname == "online_function"
                           else game_defenses(game, float(s))[dname])
                tm = base.replace(defense=defense)
                labels = {"game": game, "defense": dname, "sigma": float(s)}
                cells.append(Cell(tm, {**labels, "attacker": "known"}))
                for aname, (attacker, queries) in game_aware_attackers(game, defense).items():
                    cells.append(Cell(tm.replace(attacker=attacker, queries=queries), {**labels, "attacker": aname}))
    return cells


def _pl_row(recs):
    """Privacy level of one cell's records with its spread (the plotted numbers)."""
    e = np.array([r["stealing_error"] for r in recs], dtype=float)
    pl = privacy_level(e)
    return {"reps": pl.reps, "privacy_level": pl.mean, "pl_sd": _sd(e), "pl_se": pl.std_err, "pl_low": pl.low,
            "pl_high": pl.high, "utility_loss": float(np.mean([r["utility_loss"] for r in recs]))}


def pl_vs_u_rows(res):
    r"""Plotted rows of ``responsive_pl_vs_u`` from its records.

    One row per cell (``role`` ``"known"`` or ``"aware"``) and one per
    (game, defense, :math:`\sigma`) for the best defense-aware attacker
    (``role = "best_aware"``, ``attacker`` naming it, ``runner_up`` the
    second best).

    The best attacker's :math:`PL_n` is the minimum of the estimated
    :math:`PL_n` over the applicable aware attackers, so it is biased
    downward: :math:`E\min_k \widehat{PL}_k \le \min_k PL_k`, by up to about
    a standard error when two attackers are close (``gap_to_runner_up_se``
    says how close, in standard errors of the difference). The row also
    gives a held-out estimate without this bias: the attacker chosen on the
    even-numbered replications, its :math:`PL_n` measured on the odd ones
    (``holdout_attacker``, ``holdout_privacy_level``, ``holdout_se``),
    unbiased for the chosen attacker's :math:`PL_n` and so, on average, at
    least :math:`\min_k PL_k`: the two estimates bracket the best attacker.

    Parameters
    ----------
    res : Results
        The sweep's records (fields ``game``, ``defense``, ``sigma``,
        ``attacker``, ``rep``, ``stealing_error``, ``utility_loss``).

    Returns
    -------
    list of dict
    """
    _check_results(res, ("game", "defense", "sigma", "attacker", "rep", "stealing_error", "utility_loss"))
    status = {(st.labels["game"], st.labels["defense"], st.labels["sigma"], st.labels["attacker"]): st
              for st in res.status}
    rows = []
    for key, recs in group_rows(res, ("game", "defense", "sigma", "attacker")).items():
        game, defense, sigma, attacker = key
        st = status.get(key)
        rows.append({"game": game, "defense": defense, "display_name": DISPLAY.get(defense, defense),
                     "sigma": sigma, "nominal_utility_loss": sigma**2, "attacker": attacker,
                     "role": "known" if attacker == "known" else "aware", **_pl_row(recs),
                     "precision_met": None if st is None else st.met,
                     "half_width": None if st is None else st.half_width})
    for (game, defense, sigma), group in group_rows([r for r in rows if r["role"] == "aware"],
                                                 ("game", "defense", "sigma")).items():
        ranked = sorted(group, key=lambda r: r["privacy_level"])
        best, runner = ranked[0], ranked[1] if len(ranked) > 1 else None
        recs = {r["attacker"]: res.filter(game=game, defense=defense, sigma=sigma, attacker=r["attacker"])
                for r in group}
        even = {a: np.mean([x["stealing_error"] for x in rr if x["rep"] % 2 == 0]) for a, rr in recs.items()}
        held = min(even, key=even.get)
        odd = np.array([x["stealing_error"] for x in recs[held] if x["rep"] % 2 == 1], dtype=float)
        gap_se = math.nan
        if runner is not None:
            gap, se = runner["privacy_level"] - best["privacy_level"], math.hypot(best["pl_se"], runner["pl_se"])
            gap_se = gap / se if se > 0 else (math.inf if gap > 0 else 0.0)
        rows.append({**{k: best[k] for k in ("game", "defense", "display_name", "sigma", "nominal_utility_loss")},
                     "attacker": best["attacker"], "role": "best_aware",
                     **{k: best[k] for k in ("reps", "privacy_level", "pl_sd", "pl_se", "pl_low", "pl_high",
                                             "utility_loss", "precision_met", "half_width")},
                     "runner_up": "" if runner is None else runner["attacker"],
                     "runner_up_privacy_level": math.nan if runner is None else runner["privacy_level"],
                     "gap_to_runner_up_se": gap_se,
                     "holdout_attacker": held,
                     "holdout_privacy_level": float(odd.mean()) if odd.size else math.nan,
                     "holdout_se": _sd(odd) / math.sqrt(odd.size) if odd.size > 1 else math.nan})
    return rows


def _band(ax, rows, color, ls, marker, label, filled=True):
    rows = sorted(rows, key=lambda r: r["sigma"])
    x = np.array([r["nominal_utility_loss"] for r in rows])
    ax.plot(x, clamp_zero([r["privacy_level"] for r in rows]), ls=ls, color=color, marker=marker, ms=4, lw=1.2,
            mfc=color if filled else "white", label=label)
    ax.fill_between(x, clamp_zero([max(r["pl_low"], 0.0) for r in rows]), clamp_zero([r["pl_high"] for r in rows]),
                    color=color, alpha=0.15, lw=0)


@register("responsive_pl_vs_u", group="responsive")
def responsive_pl_vs_u(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    r"""PL_n against U_n at n = 100 for each defense, known attacker vs the best defense-aware attacker.

    Polynomial game (Order Disguise) and kernel game (Kernel Confusion and
    the online perturbation-function design), with IID noise, the constant
    shift and long-range noise in both, at
    :math:`U_n = \sigma^2 \in \{.04, .09, .16, .25, .36\}`. Solid: the game's
    own attacker, which the designs are made against; dashed: the best
    defense-aware attacker (the minimum over the applicable attackers of
    :func:`~modelprivacy.games.game_aware_attackers` of the estimated
    :math:`PL_n`, biased downward by the minimum: see :func:`pl_vs_u_rows`,
    whose held-out estimate is in the CSV). Every cell runs until its 95%
    bootstrap-t interval is within 10% of its :math:`PL_n` or 64
    replications (at least 16); quick mode: :math:`\sigma = 0.5`, two
    replications.
    """
    name = "responsive_pl_vs_u"
    precision = None if (quick or reps is not None) else PL_VS_U["precision"]
    res = sweep(pl_vs_u_cells(quick), reps or PL_VS_U["quick_reps"], seed, precision=precision, fresh=fresh,
                out=os.path.join(out_dir, f"{name}_records.csv"), desc=name)
    rows = pl_vs_u_rows(res)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), sharey=True)
    us = np.array(sorted({r["nominal_utility_loss"] for r in rows}))
    for ax, game in zip(axes, _GAMES):
        defenses = list(dict.fromkeys(r["defense"] for r in rows if r["game"] == game))
        for i, d in enumerate(defenses):
            mine = [r for r in rows if r["game"] == game and r["defense"] == d]
            _band(ax, [r for r in mine if r["role"] == "known"], f"C{i}", "-", MARKERS[i], DISPLAY.get(d, d))
            _band(ax, [r for r in mine if r["role"] == "best_aware"], f"C{i}", "--", MARKERS[i], None, filled=False)
        ax.plot(us, us, ls=":", lw=0.9, color="0.5", label="$PL_n = U_n$")
        ax.set_xscale("log")
        ax.set_xticks(us, [f"{u:.2g}" for u in us])
        ax.minorticks_off()
        style_axes_log(ax)
        ax.set_xlabel("Utility loss $U_n$")
        ax.set_title(f"{'polynomial' if game == 'poly' else 'kernel'} game, n = {PL_VS_U['n']}", fontsize=9)
    axes[0].set_ylabel("Privacy level $PL_n$")
    legend = {}
    for a in axes:  # one entry per defense (the designed one differs between the games), then the lines
        for h, label in zip(*a.get_legend_handles_labels()):
            legend.setdefault(label, h)
    legend["$PL_n = U_n$"] = legend.pop("$PL_n = U_n$")
    legend["known attacker"] = plt.Line2D([], [], color="0.3", ls="-")
    legend["best defense-aware attacker"] = plt.Line2D([], [], color="0.3", ls="--", marker="o", mfc="white")
    axes[1].legend(list(legend.values()), list(legend), bbox_to_anchor=(1.02, 1.0), loc="upper left", fontsize=7,
                   frameon=False)
    fig.tight_layout()
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    known = {(r["game"], r["defense"], r["sigma"]): r["privacy_level"] for r in rows if r["role"] == "known"}
    summary = "; ".join(f"{r['game']}/{r['defense']}@{r['nominal_utility_loss']:.2g}: known "
                        f"{known[(r['game'], r['defense'], r['sigma'])]:.3g}, best aware {r['attacker']} "
                        f"{r['privacy_level']:.3g}" for r in rows if r["role"] == "best_aware")
    return figure_output(name, fig, out_dir, summary, [res.report])


# --------------------------------------------------------------------------------------
# arms_race
# --------------------------------------------------------------------------------------
def arms_race_cells(quick=False):
    """Cells of ``arms_race``: one :class:`~modelprivacy.arms_race.StealingArmsRace` per game (labels ``game``, ``n``, ``sigma``)."""
    race = ARMS_RACE["quick_race" if check_bool(quick, "quick") else "race"]
    return [Cell(StealingArmsRace(game, **race)) for game in ("krr", "poly")]


def _counts(values):
    return ";".join(f"{k}:{v}" for k, v in Counter(values).most_common())


def _interval_fields(prefix, values):
    m = mean_interval(values)
    return {prefix: m.mean, f"{prefix}_sd": _sd(values), f"{prefix}_se": m.std_err if m.reps > 1 else math.nan,
            f"{prefix}_low": m.low if m.reps > 1 else math.nan, f"{prefix}_high": m.high if m.reps > 1 else math.nan}


def arms_race_rows(res):
    r"""Plotted rows of ``arms_race``: per game and round, the mean over the races that played it.

    Each race (an engine replication) gives one record per round; the round's
    row averages the races that reached it (``races``) with Student-t
    intervals over races: ``worst_case_pool`` (the defense's
    :math:`\min_{k \in P_t} PL_n(k)`), ``worst_case_family``,
    ``best_single_worst_case`` and ``robust_minus_best_single``; the mean
    within-race standard error of ``worst_case_pool`` over its query sets
    (``worst_case_pool_within_se``); the relaxation gap (mean, and the
    largest ``gap_max``); and counts of the attacker's choices, pools and
    stop reasons (``name:count;...``). A row with ``round = "final"`` does
    the same for each race's last round.

    Returns
    -------
    list of dict
    """
    res = check_records(res, "res", fields=(
        "game", "rep", "round", "worst_case_pool", "worst_case_family", "best_single_worst_case",
        "robust_minus_best_single", "worst_case_pool_se", "utility_loss", "gap", "gap_max", "relative_gap",
        "pool_size", "pool", "chosen", "oracle_best", "worst_case_pool_attacker", "stop_reason"))
    rows = []
    for game, recs in group_rows(res, ("game",)).items():
        game = game[0]
        races = group_rows(recs, ("rep",))
        by_round = group_rows(recs, ("round",))
        finals = [sorted(r, key=lambda x: x["round"])[-1] for r in races.values()]
        for t, rr in list(sorted(by_round.items())) + [(("final",), finals)]:
            row = {"game": game, "round": t[0], "races": len(rr)}
            for key in ("worst_case_pool", "worst_case_family", "best_single_worst_case", "robust_minus_best_single"):
                row.update(_interval_fields(key, [r[key] for r in rr]))
            row.update({
                "worst_case_pool_within_se": float(np.mean([r["worst_case_pool_se"] for r in rr])),
                "utility_loss": float(np.mean([r["utility_loss"] for r in rr])),
                "gap": float(np.mean([r["gap"] for r in rr])),
                "gap_max": float(np.max([r["gap_max"] for r in rr])),
                "relative_gap": float(np.mean([r["relative_gap"] for r in rr])),
                "pool_size": float(np.mean([r["pool_size"] for r in rr])),
                "rounds_played": float(np.mean([len(races[(r["rep"],)]) for r in rr])),
                "pools": _counts(r["pool"] for r in rr),
                "chosen": _counts(r["chosen"] for r in rr),
                "oracle_best": _counts(r["oracle_best"] for r in rr),
                "worst_case_pool_attacker": _counts(r["worst_case_pool_attacker"] for r in rr),
                "stop_reasons": _counts(r["stop_reason"] or "-" for r in rr),
            })
            rows.append(row)
    return rows


@register("arms_race", group="responsive")
def arms_race(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    r"""The stealing arms race per round in the kernel and polynomial games (n = 100, U_n = 0.25).

    Independent races (engine replications; ``reps`` overrides their number)
    of :class:`~modelprivacy.arms_race.StealingArmsRace`, each with 10 query
    sets a round and 1000 design points, at most 6 rounds: the defense's
    worst case over the pool (with a 95% interval over races), over the whole
    family, the best single-attacker design's worst case on the same pool,
    and the attacker's most frequent choice. Quick mode: two races of two
    rounds on two query sets.
    """
    name = "arms_race"
    races = reps or ARMS_RACE["quick_races" if quick else "races"]
    res = sweep(arms_race_cells(quick), races, seed, fresh=fresh, out=os.path.join(out_dir, f"{name}_records.csv"),
                desc=name)
    rows = arms_race_rows(res)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, game in zip(axes, ("krr", "poly")):
        rr = [r for r in rows if r["game"] == game and r["round"] != "final"]
        t = np.array([r["round"] for r in rr], dtype=float)
        for key, label, color, marker, dx in (("worst_case_pool", "robust design: worst case over the pool", "C0",
                                               "o", -0.06),
                                              ("best_single_worst_case", "best single design: worst case over the pool",
                                               "C1", "s", 0.0),
                                              ("worst_case_family", "robust design: worst case over the family",
                                               "C3", "D", 0.06)):
            y = np.array([r[key] for r in rr])
            lo = np.array([r[f"{key}_low"] for r in rr])
            hi = np.array([r[f"{key}_high"] for r in rr])
            err = np.vstack([y - np.where(np.isfinite(lo), lo, y), np.where(np.isfinite(hi), hi, y) - y])
            ax.errorbar(t + dx, y, yerr=err, color=color, marker=marker, ms=4, lw=1.2, capsize=3, label=label)
        for r in rr:  # the attacker's most frequent best response, and the family's true best, this round
            top, count = r["chosen"].split(";")[0].split(":")
            oracle, o_count = r["oracle_best"].split(";")[0].split(":")
            ax.annotate(f"CV picks\n{top} ({count}/{r['races']})", (r["round"], r["worst_case_pool_low"]),
                        textcoords="offset points", xytext=(6, -18), fontsize=6, color="C0")
            ax.annotate(f"best:\n{oracle} ({o_count}/{r['races']})", (r["round"], r["worst_case_family_low"]),
                        textcoords="offset points", xytext=(6, -18), fontsize=6, color="C3")
        ax.axhline(0.25, ls=":", lw=0.9, color="0.5", label=r"$\sigma^2$")
        ax.set_xticks(t, [str(int(v)) for v in t])
        ax.set_xlim(t.min() - 0.4, t.max() + 0.9)
        ax.set_ylim(0, 1.1 * max(r["worst_case_pool_high"] for r in rr))
        ax.set_xlabel("Round")
        ax.set_title(f"{'kernel' if game == 'krr' else 'polynomial'} game, {rr[0]['races']} races", fontsize=9)
    axes[0].set_ylabel("Privacy level $PL_n$")
    axes[1].legend(bbox_to_anchor=(1.02, 1.0), loc="upper left", fontsize=7, frameon=False)
    fig.tight_layout()
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    summary = "; ".join(f"{r['game']}: final worst case over the pool {r['worst_case_pool']:.3g} "
                        f"[{r['worst_case_pool_low']:.3g}, {r['worst_case_pool_high']:.3g}], gap {r['gap']:.1g}, "
                        f"{r['stop_reasons']}" for r in rows if r["round"] == "final")
    return figure_output(name, fig, out_dir, summary, [res.report])


# --------------------------------------------------------------------------------------
# online_vs_batch
# --------------------------------------------------------------------------------------
def online_vs_batch_cells(quick=False):
    r"""Cells of ``online_vs_batch`` and the hook measuring the function class.

    For each ``n``: the online design designed for that ``n`` (fitted here,
    so every worker answers with the same function) and the batch optimum
    (exact trust region) against the kernel game's own attacker, RBF kernel
    ridge with :math:`\gamma = 1`, :math:`\alpha = 10^{-3}`. The two cells of
    one ``n`` differ only in the defense, so they share queries and
    evaluation points in every replication (common random numbers).

    Returns
    -------
    cells : list of Cell
        Labels ``defense`` (``"online"``, ``"batch"``), ``n``, ``sigma``.
    hooks : dict
        ``{"function": FunctionClassCost(...)}``.
    """
    st = ONLINE_VS_BATCH
    ns = st["quick_ns"] if check_bool(quick, "quick") else st["ns"]
    sigma = float(st["sigma"])
    cells, designs = [], []
    for n in ns:
        online = _online_design(sigma, n, quick)
        batch = OptimalLinearSmoother(sigma, attacker=online.attacker, evaluation=online.queries,
                                      n_emp=online.n_emp)
        base = krr_game(n=int(n), attacker=online.attacker)
        # replace keeps the fitted design (building the game would clone it)
        cells += [Cell(base.replace(defense=online), {"defense": "online", "n": int(n), "sigma": sigma}),
                  Cell(base.replace(defense=batch), {"defense": "batch", "n": int(n), "sigma": sigma})]
        designs.append(online)
    return cells, {"function": FunctionClassCost(designs[0])}


def online_vs_batch_rows(res, designs):
    r"""Plotted rows of ``online_vs_batch``: one per ``n``.

    ``online_*`` and ``batch_*``: :math:`PL_n` (mean, standard deviation,
    standard error, bootstrap-t interval) and the mean :math:`U_n` with its
    Student-t interval; ``ratio`` (online over batch, paired by replication,
    delta-method interval, :func:`~modelprivacy.metrics.ratio_interval`) and
    whether it reaches ``target_ratio``; ``design_population_utility``
    (:math:`\theta^\top G\theta`, :math:`\sigma^2` by construction) and
    ``design_expected_privacy_level`` (the design's in-sample objective);
    ``batch_function_share`` and ``batch_function_utility`` (the population
    utility, in units of :math:`\sigma^2`, of the function of the online
    design's class through the batch optimum, :class:`FunctionClassCost`) and
    its reciprocal ``fixed_function_prediction``, the ratio a fixed function
    would reach if the batch optimum's advantage were only that cost;
    ``online_function_utility`` (the same for the online answers: 1).

    Parameters
    ----------
    res : Results
    designs : dict
        ``n -> PerturbationFunctionDesign`` (fitted).

    Returns
    -------
    list of dict
    """
    _check_results(res, ("n", "defense", "rep", "sigma", "stealing_error", "utility_loss", "function_utility",
                         "function_share"))
    if not hasattr(designs, "keys"):
        raise TypeError(f"designs must be a dict n -> fitted PerturbationFunctionDesign, got {type(designs).__name__}.")
    for n in sorted({r["n"] for r in res}):
        if n not in designs:
            raise ValueError(f"designs has no design for n={n}.")
        if not isinstance(designs[n], PerturbationFunctionDesign) or not hasattr(designs[n], "coef_"):
            raise TypeError(f"designs[{n}] must be a fitted PerturbationFunctionDesign, got {designs[n]!r}.")
    rows = []
    for n in sorted({r["n"] for r in res}):
        on, ba = res.filter(defense="online", n=n), res.filter(defense="batch", n=n)
        key = lambda r: r["rep"]  # noqa: E731 - pair replication r of both cells
        on_recs, ba_recs = sorted(on, key=key), sorted(ba, key=key)
        if [r["rep"] for r in on_recs] != [r["rep"] for r in ba_recs]:
            raise ValueError(f"online and batch cells at n={n} have different replications: they cannot be paired.")
        a = np.array([r["stealing_error"] for r in on_recs])
        b = np.array([r["stealing_error"] for r in ba_recs])
        sigma = on_recs[0]["sigma"]
        ratio = ratio_interval(a, b)
        design = designs[n]
        cost = np.array([r["function_utility"] for r in ba_recs]) / sigma**2
        row = {"n": n, "sigma": sigma, "nominal_utility_loss": sigma**2, "reps": a.size}
        for who, values, recs in (("online", a, on_recs), ("batch", b, ba_recs)):
            pl = privacy_level(values)
            u = mean_interval([r["utility_loss"] for r in recs])
            row.update({f"{who}_privacy_level": pl.mean, f"{who}_pl_sd": _sd(values), f"{who}_pl_se": pl.std_err,
                        f"{who}_pl_low": pl.low, f"{who}_pl_high": pl.high, f"{who}_utility_loss": u.mean,
                        f"{who}_utility_low": u.low, f"{who}_utility_high": u.high})
        c = mean_interval(cost)
        row.update({
            "ratio": ratio.ratio, "ratio_se": ratio.std_err, "ratio_low": ratio.low, "ratio_high": ratio.high,
            "target_ratio": ONLINE_VS_BATCH["target_ratio"],
            "meets_target": bool(ratio.ratio >= ONLINE_VS_BATCH["target_ratio"]),
            "design_population_utility": float(design.coef_ @ design.gram_ @ design.coef_),
            "design_expected_privacy_level": design.expected_privacy_level_,
            "batch_function_share": float(np.mean([r["function_share"] for r in ba_recs])),
            "batch_function_utility": c.mean, "batch_function_utility_low": c.low,
            "batch_function_utility_high": c.high,
            "fixed_function_prediction": 1.0 / c.mean,
            "online_function_utility": float(np.mean([r["function_utility"] for r in on_recs])) / sigma**2,
        })
        rows.append(row)
    return rows


@register("online_vs_batch", group="responsive")
def online_vs_batch(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    r"""Online perturbation-function design vs the batch optimum over n in the kernel game (U_n = 0.25).

    Left: :math:`PL_n` of both against the known attacker (n = 100, 200,
    400, 800; 40 paired replications each). Right: their ratio with its 95%
    delta-method interval, the issue's target 0.9 and the prediction
    :math:`1/c_n` from the population cost :math:`c_n\sigma^2` of the batch
    optimum's perturbation seen as a function (see
    :mod:`modelprivacy.defenses.online`). Quick mode: n = 100, 200, three
    replications, a coarse design.
    """
    name = "online_vs_batch"
    cells, hooks = online_vs_batch_cells(quick)
    designs = {c.labels["n"]: c.game.defense for c in cells if c.labels["defense"] == "online"}
    res = sweep(cells, reps or ONLINE_VS_BATCH["quick_reps" if quick else "reps"], seed, fresh=fresh, hooks=hooks,
                out=os.path.join(out_dir, f"{name}_records.csv"), desc=name)
    rows = online_vs_batch_rows(res, designs)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(8, 3.4))
    ns = np.array([r["n"] for r in rows], dtype=float)
    for who, label, color, marker in (("online", "online design (fixed function)", "C2", "o"),
                                      ("batch", "batch optimum (exact, sees the batch)", "C0", "s")):
        y = np.array([r[f"{who}_privacy_level"] for r in rows])
        ax.plot(ns, y, color=color, marker=marker, ms=4, lw=1.2, label=label)
        ax.fill_between(ns, [r[f"{who}_pl_low"] for r in rows], [r[f"{who}_pl_high"] for r in rows], color=color,
                        alpha=0.2, lw=0)
    ax.axhline(ONLINE_VS_BATCH["sigma"] ** 2, ls=":", lw=0.9, color="0.5", label=r"$\sigma^2$")
    ax.set_xscale("log")
    ax.set_xticks(ns, [str(int(v)) for v in ns])
    ax.minorticks_off()
    means = [r[f"{who}_privacy_level"] for r in rows for who in ("online", "batch")]
    ax.set_ylim(0, min(max(r["batch_pl_high"] for r in rows), 3 * max(means)))  # a 3-replication band can be huge
    ax.set_xlabel("Sample size $n$")
    ax.set_ylabel("Privacy level $PL_n$")
    ax.legend(fontsize=7, frameon=False)
    r_ = np.array([r["ratio"] for r in rows])
    bx.errorbar(ns, r_, yerr=np.vstack([r_ - [r["ratio_low"] for r in rows], [r["ratio_high"] for r in rows] - r_]),
                color="C2", marker="o", ms=4, lw=1.2, capsize=3, label="online / batch")
    bx.plot(ns, [r["fixed_function_prediction"] for r in rows], ls="--", marker="x", color="0.4", lw=0.9,
            label=r"$1/c_n$: batch optimum's population cost")
    bx.axhline(ONLINE_VS_BATCH["target_ratio"], ls=":", lw=0.9, color="C3", label="target 0.9")
    bx.set_xscale("log")
    bx.set_xticks(ns, [str(int(v)) for v in ns])
    bx.minorticks_off()
    bx.set_ylim(0, 1.2)
    bx.set_xlabel("Sample size $n$")
    bx.set_ylabel("Ratio of privacy levels")
    bx.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    summary = "; ".join(f"n={r['n']}: ratio {r['ratio']:.3f} [{r['ratio_low']:.3f}, {r['ratio_high']:.3f}], "
                        f"c_n {r['batch_function_utility']:.2f}" for r in rows)
    return figure_output(name, fig, out_dir, summary, [res.report])
