r"""The paper's regression theory figures (spec 5.1-5.3 and 5.6).

* ``poly_n_{AIC,BIC,BC}``: :math:`PL_n` vs ``n`` at :math:`\sigma = 0.5`;
* ``poly_ratio_{AIC,BIC,BC}``: :math:`PL_n` vs :math:`U_n = \sigma^2` at n = 100;
* ``krr_n``, ``krr_ratio``: the same for the kernel-ridge game, with Kernel
  Confusion against the paper's cubic-kernel surrogate;
* ``lasso``: stealing error, F1 and symmetric difference of the recovered
  support vs :math:`U_n` for LassoCV and ElasticNetCV attackers (kind 7).

Each figure writes ``<name>.png``, ``<name>.pdf``, ``<name>.csv`` (the
plotted means, intervals and theory lines) and ``<name>_records.csv`` (one
row per replication, from which an interrupted run resumes).
"""

from __future__ import annotations

import os
import time

import numpy as np

from ..attacks import KernelRidgeAttacker, PolynomialRegression, make_attacker
from ..bounds import least_squares_rate, long_range_mean_variance, privacy_frontier
from ..defenses import NoDefense
from ..games import game_defenses, krr_game, lasso_game, poly_game
from ..metrics import support_f1, support_symmetric_difference
from ..simulate import grid, sweep
from ..targets import CubicCosineTarget
from ._common import DISPLAY, MARKERS, clamp_zero, save, style_axes_log, write_rows
from ._registry import FigureOutput, register

__all__ = ["SETTINGS", "SCORERS", "figure_cells", "figure_reps", "krr_frontier"]

#: paper settings (spec 5.1-5.3) and the quick smoke-run replications
SETTINGS = {
    "poly": {"reps": 100, "quick_reps": 4, "n": [20, 50, 100, 200, 500], "sigma": 0.5, "n_ratio": 100},
    "krr": {"reps": 20, "quick_reps": 2, "n": [20, 50, 100, 200, 500], "sigma": 0.5, "n_ratio": 100},
    "lasso": {"reps": 20, "quick_reps": 2, "n": 50},
}
SIGMAS = list(np.logspace(-1, 0, 10))
QUICK_SIGMAS = [SIGMAS[0], SIGMAS[5], SIGMAS[-1]]


def _reps(game, quick, reps):
    if reps is not None:
        return reps
    return SETTINGS[game]["quick_reps" if quick else "reps"]


def _run(name, cells, reps, seed, out_dir, n_jobs, scorers=None):
    path = os.path.join(out_dir, f"{name}_records.csv")
    return sweep(cells, reps, seed, out=path, n_jobs=n_jobs, desc=name, scorers=scorers)


def _plot_lines(ax, rows, xkey, defenses, xfloor=None):
    for i, d in enumerate(defenses):
        rs = sorted((r for r in rows if r["defense"] == d), key=lambda r: r[xkey])
        if not rs:
            continue
        x = np.array([r[xkey] for r in rs], dtype=float)
        if xfloor is not None:
            x = np.maximum(x, xfloor)
        y = clamp_zero([r["privacy_level"] for r in rs])
        lo = clamp_zero([max(r["pl_low"], 0.0) for r in rs])
        hi = clamp_zero([r["pl_high"] for r in rs])
        color = f"C{i}"
        ax.plot(x, y, marker=MARKERS[i % len(MARKERS)], ms=4, lw=1.2, color=color, label=DISPLAY.get(d, d))
        ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)


def _finish(fig, ax, xlabel, ylabel="Privacy level $PL_n$"):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(title="Defense", bbox_to_anchor=(1.02, 1.0), loc="upper left", fontsize=7, title_fontsize=8, frameon=False)


def _summary_rows(res, by):
    rows = res.summary(by=by)
    for r in rows:
        r["display_name"] = DISPLAY.get(r["defense"], r["defense"])
    return rows


def _vs_n(name, game, cells, theory, *, out_dir, quick, reps, seed, n_jobs, defenses):
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    res = _run(name, cells, _reps(game, quick, reps), seed, out_dir, n_jobs)
    rows = _summary_rows(res, ("defense", "n", "sigma"))
    fig, ax = plt.subplots(figsize=(3, 4))
    _plot_lines(ax, rows, "n", defenses)
    ns = np.array(SETTINGS[game]["n"], dtype=float)
    for label, values in theory.items():
        ax.plot(ns, values, ls="--", lw=0.9, color="0.4" if "IID" in label else "0.65")
        rows += [{"defense": f"theory: {label}", "n": int(n), "privacy_level": float(v)} for n, v in zip(ns, values)]
    ax.set_xscale("log")
    ax.set_xticks(ns, [str(int(n)) for n in ns])
    style_axes_log(ax)
    _finish(fig, ax, "Sample size $n$")
    ax.set_title("dashed: theory", fontsize=7)
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    paths = save(fig, out_dir, name)
    return FigureOutput(name, paths + [os.path.join(out_dir, f"{name}.csv")], time.perf_counter() - t0, _describe(rows))


def _vs_u(name, game, cells, theory, *, out_dir, quick, reps, seed, n_jobs, defenses, sigmas):
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    res = _run(name, cells, _reps(game, quick, reps), seed, out_dir, n_jobs)
    rows = _summary_rows(res, ("defense", "n", "sigma"))
    for r in rows:
        r["nominal_utility_loss"] = r["sigma"] ** 2
    umin = min(s**2 for s in sigmas)
    fig, ax = plt.subplots(figsize=(3, 4))
    _plot_lines(ax, rows, "nominal_utility_loss", defenses, xfloor=umin)  # No Defense at the smallest U
    us = np.array([s**2 for s in sigmas])
    for label, values in theory.items():
        ax.plot(us, values, ls="--", lw=0.9, color="0.4" if "IID" in label else "0.65")
        rows += [{"defense": f"theory: {label}", "nominal_utility_loss": float(u), "privacy_level": float(v)} for u, v in zip(us, values)]
    ax.set_xscale("log")
    style_axes_log(ax)
    _finish(fig, ax, "Utility loss $U_n$")
    ax.set_title("dashed: theory", fontsize=7)
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    paths = save(fig, out_dir, name)
    return FigureOutput(name, paths + [os.path.join(out_dir, f"{name}.csv")], time.perf_counter() - t0, _describe(rows))


def _describe(rows):
    out = []
    for r in rows:
        if str(r["defense"]).startswith("theory"):
            continue
        x = r.get("n") if "nominal_utility_loss" not in r else r["nominal_utility_loss"]
        out.append(f"{r['defense']}@{x:.3g}: PL={r['privacy_level']:.3g}")
    return "; ".join(out)


def figure_cells(name, quick=False):
    """The sweep cells of a registered regression figure (paper settings; fewer
    noise levels in quick mode). Benchmarks use them to time the same fits."""
    sigmas = QUICK_SIGMAS if quick else SIGMAS
    if name.startswith("poly_"):
        kind, criterion = name.rsplit("_", 1)
        st = SETTINGS["poly"]
        attackers = {f"poly_{criterion.lower()}": PolynomialRegression(criterion=criterion)}
        if kind == "poly_n":
            base = poly_game(st["n"][0], NoDefense(), None, criterion=criterion)
            return grid(base, defenses=game_defenses("poly", st["sigma"]), n=st["n"], attackers=attackers)
        base = poly_game(st["n_ratio"], NoDefense(), None, criterion=criterion)
        return grid(base, defenses=game_defenses("poly"), sigma=sigmas, attackers=attackers)
    if name == "krr_n":
        st = SETTINGS["krr"]
        base = krr_game(st["n"][0], NoDefense(), None)
        return grid(base, defenses=game_defenses("krr", st["sigma"]), n=st["n"],
                    attackers={"krr": make_attacker("krr")})
    if name == "krr_ratio":
        base = krr_game(SETTINGS["krr"]["n_ratio"], NoDefense(), None)
        return grid(base, defenses=game_defenses("krr"), sigma=sigmas, attackers={"krr": make_attacker("krr")})
    if name == "lasso":
        attackers = {a: make_attacker(a) for a in ("lasso_cv", "elasticnet_cv")}
        base = lasso_game(SETTINGS["lasso"]["n"], NoDefense(), None)
        return grid(base, defenses=game_defenses("lasso"), sigma=sigmas, attackers=attackers)
    raise KeyError(f"no regression figure named {name!r}.")


def figure_reps(name, quick=False):
    """Paper (or quick) replications of a regression figure."""
    return SETTINGS[name.split("_")[0]]["quick_reps" if quick else "reps"]


def _poly_n(criterion):
    def fig(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None):
        """Polynomial game: PL_n vs n at sigma = 0.5 (spec 5.1, sweep A)."""
        st = SETTINGS["poly"]
        sigma = st["sigma"]
        defs = game_defenses("poly", sigma)
        cells = figure_cells(f"poly_n_{criterion}", quick)
        ns = np.array(st["n"])
        theory = {
            r"IID $\sigma^2 p/n$, p=3": least_squares_rate(sigma, 3, ns),
            r"$\sigma^2$": np.full(len(ns), sigma**2),
            r"Corr $\sigma^2\,\mathrm{Var}(\bar\xi_n)$": sigma**2 * long_range_mean_variance(ns),
        }
        return _vs_n(f"poly_n_{criterion}", "poly", cells, theory, out_dir=out_dir, quick=quick, reps=reps, seed=seed,
                     n_jobs=n_jobs, defenses=list(defs))

    return fig


def _poly_ratio(criterion):
    def fig(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None):
        """Polynomial game: PL_n vs U_n = sigma^2 at n = 100 (spec 5.1, sweep B)."""
        n = SETTINGS["poly"]["n_ratio"]
        sigmas = QUICK_SIGMAS if quick else SIGMAS
        defs = game_defenses("poly")
        cells = figure_cells(f"poly_ratio_{criterion}", quick)
        us = np.array([s**2 for s in sigmas])
        theory = {r"$PL_n = U_n$": us, rf"IID $U_n p/n$, p=3, n={n}": us * least_squares_rate(1.0, 3, n)}
        return _vs_u(f"poly_ratio_{criterion}", "poly", cells, theory, out_dir=out_dir, quick=quick, reps=reps, seed=seed,
                     n_jobs=n_jobs, defenses=list(defs), sigmas=sigmas)

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
    us = np.asarray(utility_losses, dtype=float)
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
def krr_n(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None):
    """Kernel game: PL_n vs n at sigma = 0.5."""
    st = SETTINGS["krr"]
    defs = game_defenses("krr", st["sigma"])
    cells = figure_cells("krr_n", quick)
    ns = np.array(st["n"])
    theory = {r"$\sigma^2$": np.full(len(ns), st["sigma"] ** 2)}
    return _vs_n("krr_n", "krr", cells, theory, out_dir=out_dir, quick=quick, reps=reps, seed=seed, n_jobs=n_jobs,
                 defenses=list(defs))


@register("krr_ratio", group="krr")
def krr_ratio(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None):
    """Kernel game: PL_n vs U_n at n = 100, with the known-attacker frontier."""
    n = SETTINGS["krr"]["n_ratio"]
    sigmas = QUICK_SIGMAS if quick else SIGMAS
    defs = game_defenses("krr")
    cells = figure_cells("krr_ratio", quick)
    us = np.array([s**2 for s in sigmas])
    theory = {
        r"$PL_n = U_n$": us,
        "frontier $PL^*(u)$, known attacker": krr_frontier(us, n=n, draws=2 if quick else 10, seed=seed),
    }
    return _vs_u("krr_ratio", "krr", cells, theory, out_dir=out_dir, quick=quick, reps=reps, seed=seed, n_jobs=n_jobs,
                 defenses=list(defs), sigmas=sigmas)


def _f1(attacker, tm):
    return support_f1(tm.target.coef, attacker.coef_)


def _sym_diff(attacker, tm):
    return support_symmetric_difference(tm.target.coef, attacker.coef_)


SCORERS = {"lasso": {"f1": _f1, "sym_diff": _sym_diff}}


@register("lasso", group="lasso")
def lasso(*, out_dir, quick=False, reps=None, seed=0, n_jobs=1, scheduler=None):
    """Sparse game (kind 7): error, F1 and support symmetric difference vs U_n."""
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    name = "lasso"
    sigmas = QUICK_SIGMAS if quick else SIGMAS
    defs = game_defenses("lasso")
    cells = figure_cells(name, quick)
    res = _run(name, cells, _reps("lasso", quick, reps), seed, out_dir, n_jobs, scorers=SCORERS["lasso"])
    rows = _summary_rows(res, ("attacker", "defense", "sigma"))
    for r in rows:
        sub = res.filter(attacker=r["attacker"], defense=r["defense"], sigma=r["sigma"])
        r["f1"] = float(np.mean(sub.column("f1")))
        r["sym_diff"] = float(np.mean(sub.column("sym_diff")))
        r["nominal_utility_loss"] = r["sigma"] ** 2
    metrics = [("privacy_level", "Stealing error"), ("f1", "F1 of support"), ("sym_diff", "Support sym. difference")]
    fig, axes = plt.subplots(2, 3, figsize=(9, 5.5), sharex=True)
    for i, (a_name, a_label) in enumerate((("lasso_cv", "LASSO"), ("elasticnet_cv", "Elastic Net"))):
        for j, (key, label) in enumerate(metrics):
            ax = axes[i, j]
            for k, d in enumerate(defs):
                rs = sorted((r for r in rows if r["attacker"] == a_name and r["defense"] == d), key=lambda r: r["sigma"])
                x = [-0.01 if d == "none" else r["nominal_utility_loss"] for r in rs]
                ax.plot(x, [r[key] for r in rs], marker=MARKERS[k], ms=4, lw=1.2, color=f"C{k}", label=DISPLAY[d])
            ax.set_title(f"{a_label}: {label}", fontsize=8)
            if i == 1:
                ax.set_xlabel("Utility loss $U_n$")
    axes[0, 2].legend(title="Defense", bbox_to_anchor=(1.02, 1.0), loc="upper left", fontsize=7, frameon=False)
    fig.tight_layout()
    write_rows(os.path.join(out_dir, f"{name}.csv"), rows)
    paths = save(fig, out_dir, name)
    return FigureOutput(name, paths + [os.path.join(out_dir, f"{name}.csv")], time.perf_counter() - t0)

