"""Responsive model stealing: how the optimal defenses hold up against attackers that respond (plain script).

Run ``python benchmarks/bench_responsive.py`` (``--quick`` for a smoke run with
few replications; ``--reps R`` scales the main tables; ``--jobs J`` runs the
sweeps on ``J`` workers, with identical numbers). Every number is a mean over
replications with its 95% Student-t interval; replication ``r`` of every cell
uses the simulator's streams ``SeedSequence(seed, spawn_key=(r,))``, so the
cells of one table share queries and evaluation points (common random
numbers). It prints:

1. **Known versus defense-aware attackers** at ``U_n = 0.25``, ``n = 100`` in
   the polynomial and kernel games, for the game's defenses (IID, constant
   shift, long-range noise, Order Disguise / Kernel Confusion; in the kernel
   game also the random-function noise and the online design): ``PL_n`` of
   the game's own attacker and of every defense-aware attacker that applies
   (:func:`modelprivacy.games.game_aware_attackers`: repetition k = 2, 4 with
   averaging; model choice by leave-one-out CV over 24 linear smoothers; GLS /
   GLS kernel ridge with the defense's covariance; refusing the top order;
   five owned clean points and the defense's form), and the best of them.
   The budget ``n = 100`` counts every answer, the owned points included.
2. **Repetition budget.** ``m = 100`` distinct points asked ``k = 1, 2, 4, 8``
   times (``n = km``, rounds of batches): ``PL_n`` of the averaging attacker,
   the within-point spread of the answers (0: the defense answers a repeated
   query identically; Kernel Confusion is also run with its evaluation points
   drawn once, ``kc_fixed_points``), the defense's excess over the undefended
   ``PL_n`` at k = 8 relative to k = 1 (1/8 for independent answers) and the
   smallest budget that halves that excess.
3. **Robust versus single designs** on the same pool (kernel and polynomial
   games): the worst case over the pool of the robust (max-min) design and of
   each single-attacker design, their paired difference, the relaxation gap.
4. **The arms race** in both games: the trajectory (pool, the attacker's
   choice, the oracle's, worst case over the pool and over the family, gap)
   and the final defense's worst-case ``PL_n``.
5. **Online versus batch** in the kernel game for ``n = 100, 200, 400, 800``
   (the cells of the figure ``online_vs_batch``):
   the online perturbation-function design (designed for that ``n``), the
   batch optimum against the same known attacker (exact trust region), their
   ratio with a delta-method interval (target >= 0.9 for n >= 200), and why:
   the batch optimum is, on its own sample, a degree-9 polynomial ``g*`` of the
   query whose *population* utility loss exceeds ``sigma^2`` (the sample
   under-represents it), which no fixed function can do.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from modelprivacy.arms_race import StealingArmsRace, evaluate_pool
from modelprivacy.attacks import KernelRidgeAttacker, PolynomialRegression, RepeatAveraging, group_repeats
from modelprivacy.defenses import GaussianProcessNoise, KernelConfusion, NoDefense, PerturbationFunctionDesign
from modelprivacy.figures.responsive import ONLINE_VS_BATCH, online_vs_batch_cells, online_vs_batch_rows
from modelprivacy.games import PAPER_SIGMA, game_aware_attackers, game_defenses, krr_game, poly_game
from modelprivacy.metrics import privacy_level
from modelprivacy.queries import BetaQueries, RepeatedQueries, UniformQueries
from modelprivacy.simulate import Cell, sweep

SIGMA = PAPER_SIGMA  # U_n = 0.25
N = 100
N_OWNED = 5


def _fmt(pl):
    return f"{pl.mean:.4f} [{pl.low:.4f}, {pl.high:.4f}]"


def _games():
    """Game name -> (builder, query distribution, known attacker, defenses)."""
    poly_defs = {k: v for k, v in game_defenses("poly", SIGMA).items() if k != "none"}
    krr_defs = {k: v for k, v in game_defenses("krr", SIGMA).items() if k != "none"}
    krr_defs["random_function"] = GaussianProcessNoise(SIGMA, gamma=1.0)
    krr_defs["online_function"] = PerturbationFunctionDesign(SIGMA, queries=UniformQueries((-1.0, 1.0)),
                                                             n_design=N, n_mc=30, n_emp=1000)
    return {
        "poly": (poly_game, BetaQueries(1.0, b=3.0), PolynomialRegression(criterion="AIC"), poly_defs),
        "krr": (krr_game, UniformQueries((-1.0, 1.0)), KernelRidgeAttacker("rbf", gamma=1.0, alpha=1e-3), krr_defs),
    }


def table_known_vs_aware(reps, seed, jobs):
    print(f"\n=== 1. PL_n of the known attacker and of the defense-aware attackers (U_n = {SIGMA**2:g}, "
          f"n = {N}, {reps} replications) ===")
    for game, (build, queries, known, defenses) in _games().items():
        t0 = time.perf_counter()
        cells = []
        for dname, d in defenses.items():
            base = build(n=N, defense=d, attacker=known)
            cells.append(Cell(base, {"defense": dname, "attacker": "known"}))
            for aname, (att, q) in game_aware_attackers(game, d, n_owned=N_OWNED).items():
                cells.append(Cell(base.replace(attacker=att, queries=q), {"defense": dname, "attacker": aname}))
        res = sweep(cells, reps=reps, seed=seed, n_jobs=jobs, progress=False)
        print(f"\n[{game} game] known attacker: {known!r}; {time.perf_counter() - t0:.0f} s")
        print(f"{'defense':17s} {'attacker':18s} {'PL_n [95% CI]':28s} {'U_n':>6s}")
        for dname in defenses:
            rows = res.filter(defense=dname)
            names = list(dict.fromkeys(r["attacker"] for r in rows))
            pls = {a: privacy_level(rows.filter(attacker=a).column("stealing_error")) for a in names}
            for a in names:
                u = rows.filter(attacker=a).column("utility_loss").mean()
                print(f"{dname:17s} {a:18s} {_fmt(pls[a]):28s} {u:6.3f}")
            best = min((a for a in names if a != "known"), key=lambda a: pls[a].mean)
            ratio = pls[best].mean / pls["known"].mean if pls["known"].mean > 0 else math.nan
            print(f"{dname:17s} {'=> best aware':18s} {_fmt(pls[best]):28s} {best} "
                  f"(best/known = {ratio:.3f})")


def repeat_spread(draw):
    """Hook: pooled within-point standard deviation of the answers (0 when no query was repeated)."""
    X, mean, counts, inverse = group_repeats(draw.X, draw.Y)
    resid = draw.Y - mean[inverse]
    dof = draw.Y.shape[0] - X.shape[0]
    return float(np.sqrt(resid @ resid / dof)) if dof > 0 else 0.0


def table_repetition(reps, seed, jobs, ks=(1, 2, 4, 8), m=100):
    print(f"\n=== 2. Repetition: m = {m} distinct points asked k times (n = km answers, rounds), "
          f"averaging attacker, {reps} replications ===")
    for game, (build, queries, known, defenses) in _games().items():
        defenses = {"none": NoDefense(), **defenses}
        if game == "krr":  # Kernel Confusion with its evaluation points drawn once (the authors' construction)
            defenses["kc_fixed_points"] = KernelConfusion.paper_surrogate(
                SIGMA, evaluation=UniformQueries((-1.0, 1.0)), n_emp=1000, random_state=0)
        t0 = time.perf_counter()
        cells = []
        for dname, d in defenses.items():
            for k in ks:
                tm = build(n=k * m, defense=d, attacker=RepeatAveraging(known))
                cells.append(Cell(tm.replace(queries=RepeatedQueries(queries, repeats=k)), {"defense": dname, "k": k}))
        res = sweep(cells, reps=reps, seed=seed, n_jobs=jobs, progress=False, hooks={"spread": repeat_spread})
        print(f"\n[{game} game] learner: {known!r}; {time.perf_counter() - t0:.0f} s")
        head = "".join(f"{'k=' + str(k) + ' (n=' + str(k * m) + ')':>26s}" for k in ks)
        print(f"{'defense':17s}{head}{'spread':>9s}{'excess k=' + str(ks[-1]):>13s}{'n to halve':>11s}")
        base = {k: privacy_level(res.filter(defense="none", k=k).column("stealing_error")).mean for k in ks}
        for dname in defenses:
            pls = [privacy_level(res.filter(defense=dname, k=k).column("stealing_error")) for k in ks]
            spread = np.mean([res.filter(defense=dname, k=k).column("spread").mean() for k in ks[1:]])
            cols = "".join(f"{_fmt(p):>26s}" for p in pls)
            if dname == "none":
                print(f"{dname:17s}{cols}{spread:9.4f}")
                continue
            excess = [p.mean - base[k] for k, p in zip(ks, pls)]
            ratio = excess[-1] / excess[0] if excess[0] > 0 else math.nan
            halve = next((k * m for k, p, ex in zip(ks, pls, excess) if p.high - base[k] < excess[0] / 2), None)
            print(f"{dname:17s}{cols}{spread:9.4f}{ratio:13.3f}{str(halve or '>' + str(ks[-1] * m)):>11s}")
    print("(spread: pooled within-point SD of the answers, k > 1, 0 = a repeated query gets the same answer; "
          "excess: PL_n minus the undefended PL_n on the same distinct points, at k = "
          f"{ks[-1]} over k = 1 (1/{ks[-1]} = {1 / ks[-1]:.3f} for independent answers); n to halve: smallest "
          "budget whose upper CI end is within half the k = 1 excess of the undefended PL_n)")


def _print_design_record(rec, pool):
    print(f"  pool {rec['pool']}: robust design worst case {rec['worst_case_pool']:.4f} "
          f"(± {1.96 * rec['worst_case_pool_se']:.4f}, attained by {rec['worst_case_pool_attacker']}); "
          f"relaxation gap mean {rec['gap']:.2e}, max {rec['gap_max']:.2e}, relative {rec['relative_gap']:.1e}")
    for k in pool:
        print(f"    single design against {k:18s}: worst case over the pool {rec['single_worst_case_' + k]:.4f}")
    print(f"    robust - best single ({rec['best_single_design']}) = {rec['robust_minus_best_single']:+.4f} "
          f"± {1.96 * rec['robust_minus_best_single_se']:.4f} (paired, 95%)")


def table_robust_vs_single(reps, seed):
    print(f"\n=== 3. Robust (max-min) design versus single-attacker designs on the same pool "
          f"(U_n = {SIGMA**2:g}, n = {N}, {reps} query sets, 1000 design points) ===")
    for game, pool in (("krr", ["krr_rbf_g1", "ols10", "krr_lap_g1_a1e-2"]), ("poly", ["ols4", "krr_rbf_g3"])):
        t0 = time.perf_counter()
        spec = StealingArmsRace(game, n=N, sigma=SIGMA, reps=reps, n_emp=1000)
        rec = evaluate_pool(spec, pool, seed=seed)
        print(f"[{game} game] {time.perf_counter() - t0:.0f} s")
        _print_design_record(rec, pool)


def table_arms_race(reps, seed, max_rounds=6):
    print(f"\n=== 4. The stealing arms race (U_n = {SIGMA**2:g}, n = {N}, {reps} query sets a round, "
          f"1000 design points, attacker's choice by leave-one-out) ===")
    for game in ("krr", "poly"):
        t0 = time.perf_counter()
        spec = StealingArmsRace(game, n=N, sigma=SIGMA, reps=reps, n_emp=1000, max_rounds=max_rounds)
        history = [r for _, r in spec.play(seed=seed)]  # the engine's race 0 (same seeds as sweep)
        print(f"\n[{game} game] family: {[name for name, _ in spec.members()]}; {time.perf_counter() - t0:.0f} s")
        print(f"{'round':>5s}  {'pool':42s} {'chosen (CV)':18s} {'oracle best':18s} "
              f"{'worst/pool':>16s} {'worst/family':>13s} {'gap':>9s}")
        for r in history:
            print(f"{r['round']:5d}  {r['pool']:42s} {r['chosen']:18s} {r['oracle_best']:18s} "
                  f"{r['worst_case_pool']:.4f}±{1.96 * r['worst_case_pool_se']:.4f} "
                  f"{r['worst_case_family']:13.4f} {r['gap']:9.1e}")
        last = history[-1]
        print(f"stopped: {last['stop_reason']} after {len(history)} round(s); final defense's worst-case PL_n over "
              f"its pool {last['worst_case_pool']:.4f} ± {1.96 * last['worst_case_pool_se']:.4f} "
              f"({last['worst_case_pool_attacker']}), relaxation gap {last['gap']:.1e}; over the whole family "
              f"{last['worst_case_family']:.4f} ({last['worst_case_family_attacker']})")


def table_online_vs_batch(reps, seed, jobs, quick=False):
    st = ONLINE_VS_BATCH
    print(f"\n=== 5. Online perturbation-function design versus the batch optimum, kernel game "
          f"(known RBF kernel ridge attacker, U_n = {st['sigma']**2:g}, {reps} replications; the cells of the "
          f"figure online_vs_batch) ===")
    cells, hooks = online_vs_batch_cells(quick)
    designs = {c.labels["n"]: c.game.defense for c in cells if c.labels["defense"] == "online"}
    res = sweep(cells, reps=reps, seed=seed, n_jobs=jobs, progress=False, hooks=hooks)
    print(f"{'n':>5s} {'online PL_n':>27s} {'batch optimum PL_n':>27s} {'ratio [95% CI]':>24s} {'U_n online':>10s}")
    rows = online_vs_batch_rows(res, designs)
    for r in rows:
        online = f"{r['online_privacy_level']:.4f} [{r['online_pl_low']:.4f}, {r['online_pl_high']:.4f}]"
        batch = f"{r['batch_privacy_level']:.4f} [{r['batch_pl_low']:.4f}, {r['batch_pl_high']:.4f}]"
        ratio = f"{r['ratio']:.3f} [{r['ratio_low']:.3f}, {r['ratio_high']:.3f}]"
        print(f"{r['n']:5d} {online:>27s} {batch:>27s} {ratio:>24s} {r['online_utility_loss']:10.4f}")
    # why: the batch optimum is a polynomial of x on its own sample, but one the sample under-represents
    print("why: the batch optimum e* lies in the span of the online design's 10 Legendre polynomials on its own "
          "queries (share of |e*|^2),\n     so e* = g*(X) for a polynomial g*; its population utility "
          "c_n = E g*(X)^2 / sigma^2 (1 for the online function):")
    for r in rows:
        print(f"  n = {r['n']:4d}: batch PL_n - sigma^2 = {r['batch_privacy_level'] - st['sigma']**2:+.4f}; share in "
              f"span {r['batch_function_share']:.4f}; c_n = {r['batch_function_utility']:.2f} "
              f"[{r['batch_function_utility_low']:.2f}, {r['batch_function_utility_high']:.2f}] "
              f"(1 / c_n = {r['fixed_function_prediction']:.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few replications (a smoke run)")
    parser.add_argument("--reps", type=int, default=200, help="replications of table 1 (the others scale with it)")
    parser.add_argument("--jobs", type=int, default=1, help="sweep workers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", type=int, default=None, help="tables to run (1-5)")
    args = parser.parse_args()
    reps = 10 if args.quick else args.reps
    only = set(args.only or (1, 2, 3, 4, 5))
    t0 = time.perf_counter()
    if 1 in only:
        table_known_vs_aware(reps, args.seed, args.jobs)
    if 2 in only:
        table_repetition(max(reps // 4, 5), args.seed, args.jobs)
    if 3 in only:
        table_robust_vs_single(max(reps // 4, 3), args.seed)
    if 4 in only:
        table_arms_race(max(reps // 10, 3), args.seed, max_rounds=3 if args.quick else 6)
    if 5 in only:
        table_online_vs_batch(max(reps // 2, 5), args.seed, args.jobs, quick=args.quick)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    # one BLAS thread, as the engine's workers use: small factorisations are far slower with
    # two threads on a shared machine, and the numbers are then identical to a parallel run
    with threadpool_limits(limits=1, user_api="blas"):
        main()
