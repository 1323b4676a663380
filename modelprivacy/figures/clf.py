"""Figures of the classification experiments (stealing classifiers through output defenses).

Importing this module registers five figures (group ``"classification"``),
all cells of the one simulation engine
(:class:`~modelprivacy.threat.ClassificationThreatModel`):

``clf_agreement_budget``
    Agreement with the victim vs query budget (``2^k`` grid) for each
    defense and attacker: ReverseSigmoid's central claim (the soft-label
    attacker on ReverseSigmoid does worse than labels-only) and its query
    multiplier.
``clf_table``
    The Model Privacy classification table: defenses calibrated to utility
    losses {.01, .02, .05, .10, .15} x {accuracy, F1, AUC} x budgets on the
    binary task with shifted queries (Misleading Shift lowers accuracy and F1
    while AUC stays).
``clf_equation_solving``
    The equation-solving attack on a logistic-regression victim, exact when
    undefended and broken by each defense.
``clf_reverse_sigmoid_kl``
    KL nats per query (both directions) and flip rate of ReverseSigmoid on
    the victims' benign answers, for the Model Privacy grid and ART's default.
``clf_privacy_utility``
    The Fashion-MNIST experiment of the Model Privacy paper (section 5.4) on
    digits: privacy level (disagreement with the victim) against utility
    loss for each defense, with in-distribution and shifted queries.

Every function writes ``<name>.png``, ``<name>.pdf`` and ``<name>.csv`` (the
plotted data); the simulated ones keep ``<name>_records.csv`` (one row per
replication, fingerprinted, resumable) and run until the 95% interval of the
disagreement with the victim is within :data:`PRECISION`.
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.figure import Figure

from ..attacks import SoftLabelLogisticRegression
from ..defenses import (
    AdaptiveMisinformation,
    GaussianNoise,
    HighConfidence,
    MisleadingShift,
    NoPostprocessing,
    RandomShuffle,
    ReverseSigmoid,
    Rounding,
    TopLabel,
)
from ..games import (
    RS_GRID,
    UTILITY_LEVELS,
    agreement_budget_cells,
    classification_attackers,
    classification_table_cells,
    equation_solving_cells,
)
from ..metrics import budget_grid, degradation, queries_to_target, query_multiplier, utility_report
from ..simulate import Precision, sweep
from ..victims import make_victim
from .._hooks import equation_solving_scores
from .._validation import check_records
from ._common import figure_output, group_rows, write_rows
from ._registry import register

__all__ = [
    "PRECISION",
    "clf_agreement_budget",
    "clf_table",
    "clf_equation_solving",
    "clf_reverse_sigmoid_kl",
    "clf_privacy_utility",
    "summarise_budget_curves",
    "format_table",
    "reverse_sigmoid_utility",
]

#: paper-scale precision: the disagreement's 95% interval within 0.02 (two points of agreement) or 5%
PRECISION = Precision(metric="disagreement", rel_half_width=0.05, abs_half_width=0.02, min_reps=5, max_reps=20)

_ATTACKER_LABELS = {
    "soft": "soft labels (softmax regression)",
    "labels": "labels only",
    "mlp": "soft labels (MLP)",
    "aware": "defense-aware (inverts RS)",
}
_MARKERS = "osD^vP"



def _benign(victim):
    return victim.answers(victim.task_.X_benign)


def _sweep(name, cells, quick, reps, seed, out_dir, fresh, hooks=None, suffix=""):
    precision = None if (quick or reps is not None) else PRECISION
    return sweep(cells, reps or 1, seed, precision=precision, fresh=fresh, hooks=hooks, desc=name + suffix,
                 out=os.path.join(out_dir, f"{name}{suffix}_records.csv"))


# --------------------------------------------------------------------------------------
# reporting helpers
# --------------------------------------------------------------------------------------
def summarise_budget_curves(rows, *, target=None, metric="agreement", baseline="none"):
    """Mean curves, queries-to-target, query multiplier and degradation.

    Parameters
    ----------
    rows : list of dict
        Records with ``defense``, ``attacker``, ``budget`` and ``metric``.
    target : float, optional
        Target score for :func:`~modelprivacy.metrics.queries_to_target`;
        default: 0.9 times the best mean score of the baseline defense.
    metric : {"agreement", "stolen_acc"}
    baseline : str
        Name of the undefended setting.

    Returns
    -------
    list of dict
        One per (defense, attacker): ``budgets``, ``mean`` (per budget),
        ``queries_to_target``, ``multiplier`` (vs the baseline defense with
        the same attacker, and ``multiplier_vs_soft`` vs the undefended
        ``"soft"`` attacker) and ``degradation_abs`` / ``degradation_rel``
        at the largest budget (vs the same attacker undefended).
    """
    rows = check_records(rows, "rows", fields=("defense", "attacker", "budget", metric))
    curves = {}
    for r in rows:
        curves.setdefault((r["defense"], r["attacker"]), {}).setdefault(int(r["budget"]), []).append(float(r[metric]))
    if not curves:
        return []
    budgets = sorted({b for c in curves.values() for b in c})
    means = {k: np.array([np.mean(c.get(b, [np.nan])) for b in budgets]) for k, c in curves.items()}
    if target is None:
        base = [m for (d, _), m in means.items() if d == baseline]
        target = 0.9 * float(np.nanmax(np.concatenate(base))) if base else 0.8
    q = {k: queries_to_target(budgets, np.nan_to_num(m, nan=-np.inf), target) for k, m in means.items()}
    out = []
    for (d, a), m in means.items():
        qb = q.get((baseline, a), math.nan)
        qs = q.get((baseline, "soft"), math.nan)
        ref = means.get((baseline, a))
        deg = degradation(ref[-1], m[-1]) if ref is not None else (math.nan, math.nan)
        out.append({
            "defense": d, "attacker": a, "budgets": budgets, "mean": m.tolist(),
            "target": target, "queries_to_target": q[(d, a)],
            "multiplier": query_multiplier(q[(d, a)], qb) if not math.isnan(qb) else math.nan,
            "multiplier_vs_soft": query_multiplier(q[(d, a)], qs) if not math.isnan(qs) else math.nan,
            "degradation_abs": deg[0], "degradation_rel": deg[1],
        })
    return out


def format_table(rows, metrics=("acc", "f1")):
    """Text table: rows defense x metric, columns budget x u; cells ``mean (std)``."""
    rows = check_records(rows, "rows", fields=("defense", "u", "budget"))
    cells = {}
    for r in rows:
        cells.setdefault((r["defense"], float(r["u"]), int(r["budget"])), []).append(r)
    defenses = list(dict.fromkeys(r["defense"] for r in rows))
    budgets = sorted({int(r["budget"]) for r in rows})
    us = sorted({float(r["u"]) for r in rows if float(r["u"]) > 0})
    head = ["defense", "metric"] + [f"n={b} u={u:g}" for b in budgets for u in us]
    lines = [" | ".join(head)]
    field = {"acc": "stolen_acc"}
    for d in defenses:
        for m in metrics:
            vals = []
            for b in budgets:
                for u in us:
                    rs = cells.get((d, 0.0 if d == "No Defense" else u, b))
                    if not rs:
                        vals.append("-")
                        continue
                    x = np.array([float(r[field.get(m, m)]) for r in rs])
                    vals.append(f"{x.mean():.3f} ({x.std():.3f})")
            lines.append(" | ".join([d, m] + vals))
    return "\n".join(lines)


def reverse_sigmoid_utility(P, grid=RS_GRID, *, variant="art"):
    """KL nats per query (both directions), L1 and flip rate of ReverseSigmoid on a grid.

    Parameters
    ----------
    P : array-like of shape (n, K)
        Clean answers (e.g. the victim on its benign split).
    grid : sequence of (beta, gamma)
        Default: the Model Privacy grid (gamma = 0.2) plus ART's default (1, 0.1).

    Returns
    -------
    list of dict with keys ``beta, gamma, kl_fwd, kl_bwd, l1, flip_rate``
    """
    return [{"beta": b, "gamma": g, **utility_report(P, ReverseSigmoid(b, gamma=g, variant=variant).respond(P))}
            for b, g in grid]


# --------------------------------------------------------------------------------------
# (a) agreement vs budget
# --------------------------------------------------------------------------------------
@register("clf_agreement_budget", group="classification")
def clf_agreement_budget(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Agreement vs query budget for each defense and attacker (digits victim, in-distribution pool).

    Defenses: none, ReverseSigmoid (ART default beta=1, gamma=0.1 and
    beta=0.5, gamma=0.2), Misleading Shift and Random Shuffle calibrated to a
    5% benign flip rate, top-1 label. Attackers: soft-label softmax
    regression, labels only, soft-label MLP, and the ReverseSigmoid-aware
    attacker. Quick mode: logistic victim, 2^4..2^7, one replication, three
    defenses, no MLP.
    """
    name = "clf_agreement_budget"
    victim = make_victim("digits", "logreg" if quick else "mlp", random_state=seed)
    budgets = budget_grid(4, 7) if quick else budget_grid(4, 9)
    Pb = _benign(victim)
    defenses = {"none": NoPostprocessing(), "RS(1, 0.1)": ReverseSigmoid(1.0, gamma=0.1),
                "MS(u=.05)": MisleadingShift().calibrate(Pb, 0.05)}
    if not quick:
        defenses["RS(0.5, 0.2)"] = ReverseSigmoid(0.5, gamma=0.2)
        defenses["Shuffle(u=.05)"] = RandomShuffle().calibrate(Pb, 0.05, rng=seed)
        defenses["top-1 label"] = TopLabel()
    attackers = classification_attackers(mlp=not quick)
    res = _sweep(name, agreement_budget_cells(victim, defenses, attackers, budgets), quick, reps, seed, out_dir, fresh)
    rows = list(res)
    summary = summarise_budget_curves(rows)
    table = []
    for (d, a, b), recs in group_rows(rows, ("defense", "attacker", "budget")).items():
        agr = np.array([r["agreement"] for r in recs])
        table.append({"defense": d, "attacker": a, "budget": b, "reps": len(recs), "agreement": agr.mean(),
                      "agreement_sd": agr.std(ddof=1) if len(agr) > 1 else math.nan, "stolen_acc": np.mean([r["stolen_acc"] for r in recs]),
                      "kl_fwd": np.mean([r["kl_fwd"] for r in recs]),
                      "flip_queries": np.mean([r["flip_queries"] for r in recs])})
    write_rows(os.path.join(out_dir, f"{name}.csv"), table)

    nd = len(defenses)
    ncol = min(nd, 3)
    nrow = math.ceil(nd / ncol)
    fig = Figure(figsize=(4.0 * ncol, 3.2 * nrow), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    for ax, dname in zip(axes, defenses):
        for i, aname in enumerate(attackers):
            pts = [r for r in table if r["defense"] == dname and r["attacker"] == aname]
            if not pts:
                continue
            ax.errorbar([r["budget"] for r in pts], [r["agreement"] for r in pts],
                        yerr=[np.nan_to_num(r["agreement_sd"]) for r in pts], marker=_MARKERS[i], ms=4, capsize=2,
                        label=_ATTACKER_LABELS.get(aname, aname))
        ax.set_xscale("log", base=2)
        ax.set_title(dname, fontsize=10)
        ax.set_xlabel("query budget $n$")
        ax.set_ylabel("agreement with victim")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[nd:]:
        ax.set_visible(False)
    handles = {}
    for ax in axes[:nd]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), fontsize=8, loc="outside lower center", ncol=len(handles))
    fig.suptitle(f"Stealing a {type(victim.model_).__name__} on digits (in-distribution queries)", fontsize=11)

    q_ref = {s["attacker"]: s["queries_to_target"] for s in summary if s["defense"] == "none"}

    def mult(q, ref):
        # a target never reached within the grid only bounds the multiplier from below
        if ref is None or not math.isfinite(ref):
            return "n/a"
        return f">{budgets[-1] / ref:g}" if not math.isfinite(q) else f"{q / ref:g}"

    lines = [f"{s['defense']:>14} / {s['attacker']:<6} agreement@{budgets[-1]}={s['mean'][-1]:.3f} "
             f"queries to {s['target']:.3f}: {s['queries_to_target']:g}, multiplier "
             f"x{mult(s['queries_to_target'], q_ref.get(s['attacker']))} "
             f"(vs undefended soft x{mult(s['queries_to_target'], q_ref.get('soft'))}), "
             f"degradation {s['degradation_abs']:+.3f} ({s['degradation_rel']:+.1%})" for s in summary]
    return figure_output(name, fig, out_dir, summary="\n".join(lines), reports=[res.report], dpi=120)


# --------------------------------------------------------------------------------------
# (b) the classification table
# --------------------------------------------------------------------------------------
@register("clf_table", group="classification")
def clf_table(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """The paper's classification table on the binary task with shifted ("out") queries.

    Victim: MLP (quick: logistic regression) on the binary task; attacker:
    soft-label logistic regression; budgets 1000/2000/5000 (quick: 500/2000);
    utility levels {.01, .02, .05, .10, .15}. Panels: accuracy, F1 and AUC
    of the stolen model against the true labels vs the utility level, at the
    largest budget. The text table (rows defense x {acc, F1}, columns budget
    x u, cells mean (std)) is returned as the summary and written to
    ``<name>.txt``.
    """
    name = "clf_table"
    victim = make_victim("binary", "logreg" if quick else "mlp", random_state=seed)
    budgets = [500, 2000] if quick else [1000, 2000, 5000]
    cells = classification_table_cells(victim, utilities=UTILITY_LEVELS, budgets=budgets, pool="out", seed=seed)
    res = _sweep(name, cells, quick, reps, seed, out_dir, fresh)
    rows = list(res)
    table = format_table(rows, metrics=("acc", "f1", "auc"))
    with open(os.path.join(out_dir, f"{name}.txt"), "w") as fh:
        fh.write(table + "\n")
    plotted = []
    for (d, u, b), recs in group_rows(rows, ("defense", "u", "budget")).items():
        row = {"defense": d, "u": u, "budget": b, "reps": len(recs), "u_measured": recs[0]["u_measured"],
               "param": recs[0]["param"]}
        for m in ("stolen_acc", "f1", "auc", "agreement"):
            values = np.array([r[m] for r in recs], dtype=float)
            row[m], row[f"{m}_sd"] = float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan
        plotted.append(row)
    write_rows(os.path.join(out_dir, f"{name}.csv"), plotted)

    b = budgets[-1]
    fig = Figure(figsize=(11, 3.3), layout="constrained")
    axes = fig.subplots(1, 3)
    defenses = [d for d in dict.fromkeys(r["defense"] for r in plotted) if d != "No Defense"]
    for ax, metric in zip(axes, ("stolen_acc", "f1", "auc")):
        base = [r[metric] for r in plotted if r["defense"] == "No Defense" and r["budget"] == b]
        if base:
            ax.axhline(np.mean(base), color="k", ls="--", lw=1, label="No Defense")
        for i, d in enumerate(defenses):
            pts = sorted((r for r in plotted if r["defense"] == d and r["budget"] == b), key=lambda r: r["u"])
            ax.plot([r["u_measured"] for r in pts], [r[metric] for r in pts], marker=_MARKERS[i], label=d)
        ax.set_xlabel("utility loss $U_n$ (benign flip rate)")
        ax.set_ylabel({"stolen_acc": "accuracy", "f1": "F1", "auc": "AUC"}[metric] + " of stolen model")
        ax.grid(alpha=0.3)
    # one y-range for the three panels, so that "AUC stays" is visible as such
    lo = min(min(ax.get_ylim()[0] for ax in axes), 0.5)
    hi = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(lo, hi)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Binary task, shifted queries, n = {b}: stolen model vs true labels", fontsize=11)
    return figure_output(name, fig, out_dir, summary=table, reports=[res.report],
                         extra=[os.path.join(out_dir, f"{name}.txt")], dpi=120)


# --------------------------------------------------------------------------------------
# (c) equation solving
# --------------------------------------------------------------------------------------
def _eq_defenses(victim, seed):
    Pb = _benign(victim)
    return {
        "none": NoPostprocessing(),
        "MS(u=.05)": MisleadingShift().calibrate(Pb, 0.05),
        "RS(0.1, 0.2)": ReverseSigmoid(0.1, gamma=0.2),
        "RS(1, 0.1)": ReverseSigmoid(1.0, gamma=0.1),
        "AM(u=.05)": AdaptiveMisinformation().calibrate(Pb, 0.05, rng=seed),
        "Shuffle(p=.2)": RandomShuffle(0.2),
        "Gauss(1e-3)": GaussianNoise(1e-3),
        "Round(3)": Rounding(3),
        "Round(6)": Rounding(6),
        "top-1 label": TopLabel(),
        "HighConf(.25)": HighConfidence(0.25),
    }


@register("clf_equation_solving", group="classification")
def clf_equation_solving(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Equation-solving attack (Tramer et al.) on logistic-regression victims, per defense.

    ``d + 1`` Gaussian queries (and ``2(d + 1)`` in full mode). Panels: the
    largest error of the recovered probabilities on the test split (log
    scale; round-off when undefended) and the agreement of the recovered
    model with the victim. Victims: hard10 (d = 20; quick) and, in full mode,
    binary (d = 20) and digits (d = 64).
    """
    name = "clf_equation_solving"
    reps = reps or (2 if quick else 20)
    tasks = ["hard10"] if quick else ["hard10", "binary", "digits"]
    cells = []
    for task in tasks:
        victim = make_victim(task, "logreg", random_state=seed)
        d = victim.task_.n_features
        for n in ([d + 1] if quick else [d + 1, 2 * (d + 1)]):
            for c in equation_solving_cells(victim, _eq_defenses(victim, seed), n_queries=n):
                cells.append(type(c)(c.game, {"task": task, **c.labels}))
    res = sweep(cells, reps, seed, fresh=fresh, desc=name, hooks={"eq": equation_solving_scores},
                out=os.path.join(out_dir, f"{name}_records.csv"))
    rows = [{k: r[k] for k in ("task", "defense", "n_queries", "rep", "agreement", "eq_max_prob_err", "eq_coef_err",
                               "eq_residual", "eq_recovered")} for r in res]
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)

    names = list(dict.fromkeys(r["defense"] for r in rows))
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    width = 0.8 / len(tasks)
    x = np.arange(len(names))
    lines = []
    for i, task in enumerate(tasks):
        n0 = min(int(r["n_queries"]) for r in rows if r["task"] == task)
        sel = [[r for r in rows if r["task"] == task and r["defense"] == nm and int(r["n_queries"]) == n0]
               for nm in names]
        err = [max(np.mean([r["eq_max_prob_err"] for r in s]), 1e-17) for s in sel]
        agr = [np.mean([r["agreement"] for r in s]) for s in sel]
        axes[0].bar(x + i * width, err, width, label=f"{task} (n = d + 1 = {n0})")
        axes[1].bar(x + i * width, agr, width, label=task)
        lines += [f"{task:>7} {nm:>14}: max|dp|={e:.2e} agreement={a:.3f} recovered "
                  f"{int(sum(r['eq_recovered'] for r in s))}/{len(s)}" for nm, e, a, s in zip(names, err, agr, sel)]
    axes[0].set_yscale("log")
    axes[0].set_ylabel(r"max $|\hat p - p|$ on test")
    axes[1].set_ylabel("agreement with victim")
    for ax in axes:
        ax.set_xticks(x + 0.4 - width / 2)
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=7)
    fig.suptitle("Equation-solving attack: exact when undefended, broken by every output defense", fontsize=11)
    return figure_output(name, fig, out_dir, summary="\n".join(lines), reports=[res.report], dpi=120)


# --------------------------------------------------------------------------------------
# ReverseSigmoid utility
# --------------------------------------------------------------------------------------
@register("clf_reverse_sigmoid_kl", group="classification")
def clf_reverse_sigmoid_kl(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """KL nats per query of ReverseSigmoid on benign answers (Model Privacy grid + ART default).

    Victims: logistic regression on digits (confident, the MNIST analogue)
    and on hard10 (unconfident, the CIFAR analogue); full mode adds the MLP
    victims. A deterministic computation (no replications).
    """
    name = "clf_reverse_sigmoid_kl"
    victims = [("digits", "logreg"), ("hard10", "logreg")]
    if not quick:
        victims += [("digits", "mlp"), ("hard10", "mlp")]
    rows = []
    for task, model in victims:
        v = make_victim(task, model, random_state=seed)
        rows += [{"task": task, "model": model, **r} for r in reverse_sigmoid_utility(_benign(v), RS_GRID)]
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)

    fig = Figure(figsize=(10, 3.4), layout="constrained")
    axes = fig.subplots(1, 2)
    labels = [f"β={b:g},γ={g:g}" for b, g in RS_GRID]
    x = np.arange(len(RS_GRID))
    width = 0.8 / len(victims)
    for i, (task, model) in enumerate(victims):
        s = [r for r in rows if r["task"] == task and r["model"] == model]
        axes[0].bar(x + i * width, [r["kl_fwd"] for r in s], width, label=f"{task}/{model}")
        axes[1].bar(x + i * width, [r["kl_bwd"] for r in s], width, label=f"{task}/{model}")
    axes[0].set_ylabel(r"KL$(y\,\|\,\hat y)$ nats / query")
    axes[1].set_ylabel(r"KL$(\hat y\,\|\,y)$ nats / query")
    for ax in axes:
        ax.set_xticks(x + 0.4 - width / 2)
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=7)
    fig.suptitle("ReverseSigmoid utility cost on benign answers", fontsize=11)
    lines = [f"{r['task']}/{r['model']} beta={r['beta']:g} gamma={r['gamma']:g}: "
             f"KL(y||yhat)={r['kl_fwd']:.3f} KL(yhat||y)={r['kl_bwd']:.3f} L1={r['l1']:.3f} "
             f"flip={r['flip_rate']:.4f}" for r in rows]
    return figure_output(name, fig, out_dir, summary="\n".join(lines), dpi=120)


# --------------------------------------------------------------------------------------
# privacy level vs utility loss, in- and out-of-distribution queries (paper section 5.4)
# --------------------------------------------------------------------------------------
@register("clf_privacy_utility", group="classification")
def clf_privacy_utility(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Disagreement with the victim vs utility loss, per defense, for two query pools.

    The analogue of the paper's Fashion-MNIST study (teacher queried with
    Fashion-MNIST or with MNIST): an MLP victim on digits (quick: logistic
    regression), a soft-label softmax-regression attacker, queries from the
    in-distribution pool (n = 512; quick 256) or the shifted pool
    (n = 2048; quick 512). Defenses are calibrated to benign flip rates
    {.01, .02, .05, .10, .15} (quick: {.02, .05, .15}; ReverseSigmoid: beta
    grid at gamma = 0.2).
    Misleading Shift's privacy level grows much faster than its utility loss
    on the shifted pool; Random Shuffle's barely moves.
    """
    name = "clf_privacy_utility"
    victim = make_victim("digits", "logreg" if quick else "mlp", random_state=seed)
    plan = [("in", 256), ("out", 512)] if quick else [("in", 512), ("out", 2048)]
    levels = (0.02, 0.05, 0.15) if quick else UTILITY_LEVELS
    attacker = SoftLabelLogisticRegression(C=10.0, solver="lbfgs", tol=1e-4)
    rows, reports = [], []
    for pool, n in plan:
        cells = classification_table_cells(victim, utilities=levels, budgets=[n], pool=pool, attacker=attacker,
                                           seed=seed)
        res = _sweep(name, cells, quick, reps, seed, out_dir, fresh, suffix=f"_{pool}")
        reports.append(res.report)
        for (d, u), recs in group_rows(list(res), ("defense", "u")).items():
            dis = np.array([r["disagreement"] for r in recs])
            rows.append({"pool": pool, "n": n, "defense": d, "u": u, "u_measured": recs[0]["u_measured"],
                         "reps": len(recs), "disagreement": dis.mean(),
                         "disagreement_sd": dis.std(ddof=1) if len(dis) > 1 else math.nan})
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)

    fig = Figure(figsize=(9, 3.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    defenses = [d for d in dict.fromkeys(r["defense"] for r in rows) if d != "No Defense"]
    lines = []
    for ax, (pool, n) in zip(axes, plan):
        sel = [r for r in rows if r["pool"] == pool]
        base = np.mean([r["disagreement"] for r in sel if r["defense"] == "No Defense"])
        ax.axhline(base, color="k", ls="--", lw=1, label="No Defense")
        for i, d in enumerate(defenses):
            pts = sorted((r for r in sel if r["defense"] == d), key=lambda r: r["u"])
            um, pl = [r["u_measured"] for r in pts], [r["disagreement"] for r in pts]
            ax.plot(um, pl, marker=_MARKERS[i], label=d)
            lines.append(f"{pool:>3} n={n} {d:>24}: " + " ".join(f"U={a:.3f}->PL={b:.3f}" for a, b in zip(um, pl))
                         + f"  (no defense {base:.3f})")
        ax.set_title(f"{'in-distribution' if pool == 'in' else 'shifted'} queries, n = {n}", fontsize=10)
        ax.set_xlabel("utility loss $U_n$ (benign flip rate)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("privacy level: disagreement with victim")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"Stealing a {type(victim.model_).__name__} on digits: privacy vs utility", fontsize=11)
    return figure_output(name, fig, out_dir, summary="\n".join(lines), reports=reports, dpi=120)
