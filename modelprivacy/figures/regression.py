r"""The paper's regression theory figures (spec 5.1-5.3 and 5.6).

* ``poly_n_{AIC,BIC,BC}``: :math:`PL_n` vs ``n`` at :math:`\sigma = 0.5`;
* ``poly_ratio_{AIC,BIC,BC}``: :math:`PL_n` vs :math:`U_n = \sigma^2` at n = 100;
* ``krr_n``, ``krr_ratio``: the same for the kernel-ridge game, with Kernel
  Confusion against the paper's cubic-kernel surrogate;
* ``lasso``: stealing error, F1 and symmetric difference of the recovered
  support vs :math:`U_n` for LassoCV and ElasticNetCV attackers (kind 7).

Each cell runs until its 95% studentised bootstrap interval is within 5% of
its privacy level (:data:`PRECISION`, between a minimum and a maximum number
of replications per game). Each figure writes ``<name>.png``, ``<name>.pdf``,
``<name>.csv`` (the plotted means, intervals, the replications each cell
needed and whether it met the target, and the theory lines) and
``<name>_records.csv`` (one row per replication, from which a run resumes).
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np

from ..attacks import KernelRidgeAttacker, PolynomialRegression, make_attacker
from ..bounds import least_squares_rate, long_range_mean_variance, privacy_frontier
from ..defenses import NoDefense
from ..games import PAPER_SIGMA, game_defenses, krr_game, lasso_game, poly_game
from ..simulate import Precision, grid, sweep
from ..targets import CubicCosineTarget
from .._hooks import SUPPORT_HOOKS
from .._validation import check_int, check_option, check_vector
from ._common import DISPLAY, MARKERS, clamp_zero, figure_output, style_axes_log, write_rows
from ._registry import register

__all__ = ["SETTINGS", "PRECISION", "HOOKS", "NAMES", "figure_cells", "figure_precision", "krr_frontier"]

#: paper settings (spec 5.1-5.3); quick smoke runs use a few fixed replications
SETTINGS = {
    "poly": {"quick_reps": 4, "n": [20, 50, 100, 200, 500], "n_ratio": 100},
    "krr": {"quick_reps": 2, "n": [20, 50, 100, 200, 500], "n_ratio": 100},
    "lasso": {"quick_reps": 2, "n": 50},
}
#: precision of the paper-scale figures: 95% interval within 5% of PL_n (or 1e-4, the drawn "0")
PRECISION = {
    "poly": Precision(rel_half_width=0.05, abs_half_width=1e-4, min_reps=100, max_reps=3200),
    "krr": Precision(rel_half_width=0.05, abs_half_width=1e-4, min_reps=20, max_reps=320),
    # LassoCV and ElasticNetCV fits to convergence cost about 80 ms each: at most 40 replications
    "lasso": Precision(rel_half_width=0.05, abs_half_width=1e-4, min_reps=20, max_reps=40),
}
SIGMAS = list(np.logspace(-1, 0, 10))
QUICK_SIGMAS = [SIGMAS[0], SIGMAS[5], SIGMAS[-1]]


def _game(name):
    return name.split("_")[0]


#: the figures this module registers (figure_cells and figure_precision know them)
NAMES = ("poly_n_AIC", "poly_n_BC", "poly_n_BIC", "poly_ratio_AIC", "poly_ratio_BC", "poly_ratio_BIC",
         "krr_n", "krr_ratio", "lasso")


def figure_precision(name):
    """The precision target of a registered regression figure."""
    return PRECISION[_game(check_option(name, "name", NAMES))]


def figure_cells(name, quick=False):
    """The sweep cells of a registered regression figure (paper settings; fewer noise levels in quick mode)."""
    check_option(name, "name", NAMES)
    sigmas = QUICK_SIGMAS if quick else SIGMAS
    if name.startswith("poly_"):
        kind, criterion = name.rsplit("_", 1)
        st = SETTINGS["poly"]
        attackers = {f"poly_{criterion.lower()}": PolynomialRegression(criterion=criterion)}
        if kind == "poly_n":
            base = poly_game(st["n"][0], NoDefense(), None, criterion=criterion)
            return grid(base, defenses=game_defenses("poly", PAPER_SIGMA), n=st["n"], attackers=attackers)
        base = poly_game(st["n_ratio"], NoDefense(), None, criterion=criterion)
        return grid(base, defenses=game_defenses("poly"), sigma=sigmas, attackers=attackers)
    if name == "krr_n":
        base = krr_game(SETTINGS["krr"]["n"][0], NoDefense(), None)
        return grid(base, defenses=game_defenses("krr", PAPER_SIGMA), n=SETTINGS["krr"]["n"],
                    attackers={"krr": make_attacker("krr")})
    if name == "krr_ratio":
        base = krr_game(SETTINGS["krr"]["n_ratio"], NoDefense(), None)
        return grid(base, defenses=game_defenses("krr"), sigma=sigmas, attackers={"krr": make_attacker("krr")})
    attackers = {a: make_attacker(a) for a in ("lasso_cv", "elasticnet_cv")}
    base = lasso_game(SETTINGS["lasso"]["n"], NoDefense(), None)
    return grid(base, defenses=game_defenses("lasso"), sigma=sigmas, attackers=attackers)


#: extra per-replication fields of a figure's records
HOOKS = {"lasso": SUPPORT_HOOKS}


def _run(name, quick, reps, seed, out_dir, fresh):
    """Sweep a figure's cells (fixed replications in quick mode or when ``reps`` is given)."""
    game = _game(name)
    precision = None if (quick or reps is not None) else figure_precision(name)
    reps = SETTINGS[game]["quick_reps"] if reps is None else reps
    return sweep(figure_cells(name, quick), reps, seed, precision=precision, fresh=fresh,
                 out=os.path.join(out_dir, f"{name}_records.csv"), desc=name, hooks=HOOKS.get(game))


def _summary_rows(res, by, extra=()):
    """Plotted rows: mean and interval per cell, the replications it needed and its precision."""
    rows = res.summary(by=by)
    status = {tuple(st.labels.get(b) for b in by): st for st in res.status}
    for r in rows:
        st = status.get(tuple(r[b] for b in by))
        r["display_name"] = DISPLAY.get(r["defense"], r["defense"])
        if st is not None:
            r["precision_met"] = st.met
            r["half_width"] = st.half_width
        for key in extra:
            sub = res.filter(**{b: r[b] for b in by})
            r[key] = float(np.mean(sub.column(key)))
    return rows


def _privacy_figure(name, res, theory, *, xkey, xs, xlabel, out_dir, xfloor=None):
    """PL_n against ``xkey`` per defense, with the theory lines; writes PNG, PDF and CSV."""
    rows = _summary_rows(res, ("defense", "n", "sigma"))
    if xkey == "nominal_utility_loss":
        for r in rows:
            r[xkey] = r["sigma"] ** 2
    fig, ax = plt.subplots(figsize=(3, 4))
    for i, d in enumerate(dict.fromkeys(r["defense"] for r in rows)):
        rs = sorted((r for r in rows if r["defense"] == d), key=lambda r: r[xkey])
        x = np.array([r[xkey] for r in rs], dtype=float)
        if xfloor is not None:
            x = np.maximum(x, xfloor)  # No Defense drawn at the smallest U
        color = f"C{i}"
        ax.plot(x, clamp_zero([r["privacy_level"] for r in rs]), marker=MARKERS[i % len(MARKERS)], ms=4, lw=1.2,
                color=color, label=DISPLAY.get(d, d))
        ax.fill_between(x, clamp_zero([max(r["pl_low"], 0.0) for r in rs]), clamp_zero([r["pl_high"] for r in rs]),
                        color=color, alpha=0.2, lw=0)
    for label, values in theory.items():
        ax.plot(xs, values, ls="--", lw=0.9, color="0.4" if "IID" in label else "0.65")
        rows += [{"defense": f"theory: {label}", xkey: float(x), "privacy_level": float(v)} for x, v in zip(xs, values)]
    ax.set_xscale("log")
    if xkey == "n":
        ax.set_xticks(xs, [str(int(x)) for x in xs])
    style_axes_log(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Privacy level $PL_n$")
    ax.legend(title="Defense", bbox_to_anchor=(1.02, 1.0), loc="upper left", fontsize=7, title_fontsize=8,
              frameon=False)
    ax.set_title("dashed: theory", fontsize=7)
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    return figure_output(name, fig, out_dir, _describe(rows, xkey), [res.report])


def _describe(rows, xkey):
    return "; ".join(f"{r['defense']}@{r[xkey]:.3g}: PL={r['privacy_level']:.3g} (R={r['reps']})"
                     for r in rows if not str(r["defense"]).startswith("theory"))


def _poly_n(criterion):
    def fig(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
        """Polynomial game: PL_n vs n at sigma = 0.5 (spec 5.1, sweep A)."""
        name = f"poly_n_{criterion}"
        res = _run(name, quick, reps, seed, out_dir, fresh)
        ns = np.array(SETTINGS["poly"]["n"], dtype=float)
        s = PAPER_SIGMA
        theory = {
            r"IID $\sigma^2 p/n$, p=3": least_squares_rate(s, 3, ns.astype(int)),
            r"$\sigma^2$": np.full(len(ns), s**2),
            r"Corr $\sigma^2\,\mathrm{Var}(\bar\xi_n)$": s**2 * long_range_mean_variance(ns.astype(int)),
        }
        return _privacy_figure(name, res, theory, xkey="n", xs=ns, xlabel="Sample size $n$", out_dir=out_dir)

    return fig


def _poly_ratio(criterion):
    def fig(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
        """Polynomial game: PL_n vs U_n = sigma^2 at n = 100 (spec 5.1, sweep B)."""
        name = f"poly_ratio_{criterion}"
        res = _run(name, quick, reps, seed, out_dir, fresh)
        n = SETTINGS["poly"]["n_ratio"]
        us = np.array([s**2 for s in (QUICK_SIGMAS if quick else SIGMAS)])
        theory = {r"$PL_n = U_n$": us, rf"IID $U_n p/n$, p=3, n={n}": us * least_squares_rate(1.0, 3, n)}
        return _privacy_figure(name, res, theory, xkey="nominal_utility_loss", xs=us, xlabel="Utility loss $U_n$",
                               out_dir=out_dir, xfloor=us.min())

    return fig


for _crit in ("AIC", "BIC", "BC"):
    register(f"poly_n_{_crit}", group="poly")(_poly_n(_crit))
    register(f"poly_ratio_{_crit}", group="poly")(_poly_ratio(_crit))


def krr_frontier(utility_losses, n=100, draws=5, seed=0):
    r"""Known-attacker frontier :math:`PL^*(u)` of the kernel game, averaged over query draws.

    For each of ``draws`` query sets (U(-1, 1), the attacker's RBF kernel ridge
    with :math:`\gamma = 1`, :math:`\alpha = 10^{-3}`, 1000 evaluation points)
    :func:`~modelprivacy.bounds.privacy_frontier` gives the optimal design
    value at every budget; no defense against this attacker can do better on
    average.
    """
    us = check_vector(utility_losses, "utility_losses")
    if np.any(us <= 0):
        raise ValueError("utility_losses must be positive.")
    n = check_int(n, "n", low=2)
    draws = check_int(draws, "draws", low=1)
    seed = check_int(seed, "seed", low=0)
    vals = np.zeros((draws, us.size))
    attacker = KernelRidgeAttacker(kernel="rbf", gamma=1.0, alpha=1e-3)
    target = CubicCosineTarget()
    for k, ss in enumerate(np.random.SeedSequence(seed).spawn(draws)):
        rng = np.random.default_rng(ss)
        X = rng.uniform(-1, 1, (n, 1))
        Z = rng.uniform(-1, 1, (1000, 1))
        vals[k] = privacy_frontier(attacker.smoother_matrix(X, Z), target(X), target(Z), us).privacy_level
    return vals.mean(axis=0)


@register("krr_n", group="krr")
def krr_n(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Kernel game: PL_n vs n at sigma = 0.5."""
    res = _run("krr_n", quick, reps, seed, out_dir, fresh)
    ns = np.array(SETTINGS["krr"]["n"], dtype=float)
    theory = {r"$\sigma^2$": np.full(len(ns), PAPER_SIGMA**2)}
    return _privacy_figure("krr_n", res, theory, xkey="n", xs=ns, xlabel="Sample size $n$", out_dir=out_dir)


@register("krr_ratio", group="krr")
def krr_ratio(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Kernel game: PL_n vs U_n at n = 100, with the known-attacker frontier."""
    res = _run("krr_ratio", quick, reps, seed, out_dir, fresh)
    us = np.array([s**2 for s in (QUICK_SIGMAS if quick else SIGMAS)])
    theory = {
        r"$PL_n = U_n$": us,
        "frontier $PL^*(u)$, known attacker": krr_frontier(us, n=SETTINGS["krr"]["n_ratio"], draws=2 if quick else 10,
                                                          seed=seed),
    }
    return _privacy_figure("krr_ratio", res, theory, xkey="nominal_utility_loss", xs=us, xlabel="Utility loss $U_n$",
                           out_dir=out_dir, xfloor=us.min())


@register("lasso", group="lasso")
def lasso(*, out_dir, quick=False, reps=None, seed=0, fresh=False):
    """Sparse game (kind 7): error, F1 and support symmetric difference vs U_n."""
    name = "lasso"
    res = _run(name, quick, reps, seed, out_dir, fresh)
    rows = _summary_rows(res, ("attacker", "defense", "sigma"), extra=("f1", "sym_diff"))
    for r in rows:
        r["nominal_utility_loss"] = r["sigma"] ** 2
    metrics = [("privacy_level", "Stealing error"), ("f1", "F1 of support"), ("sym_diff", "Support sym. difference")]
    fig, axes = plt.subplots(2, 3, figsize=(9, 5.5), sharex=True)
    defenses = list(dict.fromkeys(r["defense"] for r in rows))
    for i, (a_name, a_label) in enumerate((("lasso_cv", "LASSO"), ("elasticnet_cv", "Elastic Net"))):
        for j, (key, label) in enumerate(metrics):
            ax = axes[i, j]
            for k, d in enumerate(defenses):
                rs = sorted((r for r in rows if r["attacker"] == a_name and r["defense"] == d), key=lambda r: r["sigma"])
                x = [-0.01 if d == "none" else r["nominal_utility_loss"] for r in rs]
                ax.plot(x, [r[key] for r in rs], marker=MARKERS[k], ms=4, lw=1.2, color=f"C{k}", label=DISPLAY[d])
            ax.set_title(f"{a_label}: {label}", fontsize=8)
            if i == 1:
                ax.set_xlabel("Utility loss $U_n$")
    axes[0, 2].legend(title="Defense", bbox_to_anchor=(1.02, 1.0), loc="upper left", fontsize=7, frameon=False)
    fig.tight_layout()
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    return figure_output(name, fig, out_dir, _describe(rows, "sigma"), [res.report])
