"""Measurements behind the property-inference report, every one a cell of the engine.

Each section is one :func:`modelprivacy.simulate.sweep` whose records go to
``<out>/<section>_records.csv``: a rerun reuses every record whose cell,
seed and code are unchanged and computes only what is missing (a race killed
midway resumes from its last completed round). ``summary`` prints the tables
from the same sweeps (nothing is recomputed when the records are complete)
and writes them to ``<out>/summary.txt``.

    python benchmarks/pi_measurements.py [--out DIR] [--jobs J] [--seed S] [section ...]

(default ``--out benchmarks/results/property_inference``, every section, then
the summary).

Sections
--------
german     undefended attacks on German Credit (default rate, 3 bins over [0.1, 0.5]),
           logistic-regression and MLP targets, 3 replications
adult      Suri & Evans two-world game on Adult (share of women 0.5 vs alpha), LR targets
           (alpha 0.0, 0.1, ..., 1.0) and MLP targets (alpha 0.0, 0.2, ..., 1.0), label share
           following the property and held fixed, 1 replication
defenses   output noise, parameter noise, property unlearning on German Credit (LR):
           fixed versus responsive attacker, the responsive attacker's best response over
           the three meta-classifiers of the same access (``responsive="all"``) or its own
           meta-classifier retrained (``"same"``), the fixed attack an option in both; 3 replications
race       the arms race on German Credit (LR), white- and black-box, exact and
           approximate, 3 races each; the soft KL penalty (white-box, exact, lambda 1, 10, 100), 1 race each
mlp_warm   MLP targets: round 0 of a black-box race, cold-start training to convergence
           versus warm starts from per-bin references, 3 races per setting
summary    the tables, from the records (writes summary.txt)
"""

import argparse
import contextlib
import io
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from modelprivacy.figures.property_inference import summarise
from modelprivacy.property_inference import (ArmsRace, CPIExperiment, OutputNoise, ParameterNoise,
                                             PropertyUnlearning)
from modelprivacy.property_inference.metrics import wilson_interval
from modelprivacy.simulate import Cell, sweep

LR = LogisticRegression(C=1.0, max_iter=5000)
MLP_GERMAN = MLPClassifier((16,), alpha=1e-3, max_iter=300)
MLP_ADULT = MLPClassifier((32, 16, 8), alpha=1e-3, max_iter=100)
GERMAN = dict(bins=3, property_range=(0.1, 0.5), n_train=150, n_test=100, n_shadows=100, n_targets=50)
ADULT = dict(bins=None, property_range=None, n_train=1000, n_test=500, n_shadows=100, n_targets=50)
RACE = dict(n_shadows=100, n_targets=40, max_rounds=10, max_auc_drop=0.02)
ATTACKS = ("white_logistic", "white_random_forest", "white_mlp", "black_logistic", "black_random_forest",
           "black_mlp", "loss_test", "threshold_test")
DEFENSE_ATTACKS = ("white_logistic", "white_mlp", "black_logistic", "black_random_forest", "black_mlp")
DEFENSES = {"output_noise_0.05": OutputNoise(0.05), "output_noise_0.1": OutputNoise(0.1),
            "output_noise_0.2": OutputNoise(0.2), "parameter_noise_0.1": ParameterNoise(0.1),
            "parameter_noise_0.5": ParameterNoise(0.5), "unlearning": PropertyUnlearning()}


# ----------------------------------------------------------------------------- the sections' cells
def german_cells():
    return [Cell(CPIExperiment("german", target=t, **GERMAN), {"target": name})
            for name, t in (("logistic", LR), ("mlp", MLP_GERMAN))]


def adult_cells():
    alphas = {"logistic": np.round(np.arange(0.0, 1.01, 0.1), 1), "mlp": np.round(np.arange(0.0, 1.01, 0.2), 1)}
    return [Cell(CPIExperiment("adult", label_share=share, property_values=(0.5, float(a)), target=t, **ADULT),
                 {"target": name, "label_share": share, "alpha": float(a)})
            for name, t in (("logistic", LR), ("mlp", MLP_ADULT)) for share in ("follow", "fixed")
            for a in alphas[name]]


def defense_cells():
    return [Cell(CPIExperiment("german", attacks=DEFENSE_ATTACKS, defense=d, responsive=r, **GERMAN),
                 {"defense": name, "responsive": r}) for r in ("all", "same") for name, d in DEFENSES.items()]


def race_cells():
    return [Cell(ArmsRace("german", access=a, strategy=s, **RACE), {"access": a, "strategy": s, "lam": 0.0})
            for a in ("white", "black") for s in ("exact", "approximate")]


def race_kl_cells():
    return [Cell(ArmsRace("german", access="white", strategy="exact", penalty="kl", lam=lam, **RACE),
                 {"access": "white", "strategy": "exact", "lam": lam}) for lam in (1.0, 10.0, 100.0)]


def mlp_warm_cells():
    return [Cell(ArmsRace("german", target=MLPClassifier((16,), alpha=alpha), penalty="kl", access="black",
                          n_shadows=100, n_targets=40, max_rounds=1, strategy=s, tol=1e-5),
                 {"alpha": alpha, "strategy": s}) for alpha in (1.0, 10.0) for s in ("exact", "approximate")]


#: section -> (cells, replications)
SECTIONS = {"german": (german_cells, 3), "adult": (adult_cells, 1), "defenses": (defense_cells, 3),
            "race": (race_cells, 3), "race_kl": (race_kl_cells, 1), "mlp_warm": (mlp_warm_cells, 3)}


def run(section, out, seed, jobs, progress=True):
    cells, reps = SECTIONS[section]
    res = sweep(cells(), reps=reps, seed=seed, out=out / f"{section}_records.csv", n_jobs=jobs, desc=section,
                progress=progress)
    print(f"{section}: {res.report}", flush=True)
    return res


# ----------------------------------------------------------------------------- the tables
def _pooled(accuracies, n_each):
    """Accuracy pooled over replications (every target), with its Wilson interval."""
    acc = [a for a in accuracies if np.isfinite(a)]
    if not acc:
        return "      n/a"
    k = int(sum(round(a * n_each) for a in acc))
    n = n_each * len(acc)
    lo, hi = wilson_interval(k, n)
    return f"{k / n:.3f} [{lo:.3f},{hi:.3f}]"


def german_table(res):
    print("\nGerman Credit, default rate in 3 bins over [0.1, 0.5] (chance 0.333); accuracy pooled over "
          f"replications [Wilson 95%], {GERMAN['n_targets']} targets per bin and replication")
    for name in ("logistic", "mlp"):
        recs = [r for r in res if r["target"] == name]
        if not recs:
            continue
        util = {k: np.mean([r[k] for r in recs]) for k in ("auc", "log_loss", "ece", "accuracy")}
        print(f"  target {name} ({len(recs)} replications): AUC {util['auc']:.3f}, log-loss {util['log_loss']:.3f}, "
              f"ECE {util['ece']:.3f}, accuracy {util['accuracy']:.3f}")
        for a in ATTACKS:
            print(f"    {a:<22} {_pooled([r[a + '_accuracy'] for r in recs], 3 * GERMAN['n_targets'])}")


def adult_table(res):
    print("\nAdult, share of women 0.5 vs alpha (chance 0.5); accuracy [Wilson 95%, "
          f"{2 * ADULT['n_targets']} targets], n_leaked exact / Suri-Evans of the best meta-classifier")
    metas = ("white_logistic", "white_mlp", "black_logistic", "black_random_forest")
    for name in ("logistic", "mlp"):
        for share in ("follow", "fixed"):
            recs = sorted((r for r in res if r["target"] == name and r["label_share"] == share),
                          key=lambda r: r["alpha"])
            if not recs:
                continue
            print(f"  target {name}, label share {share}: AUC {np.mean([r['auc'] for r in recs]):.3f}")
            for r in recs:
                cells = [f"{a.replace('_logistic', '_lr').replace('_random_forest', '_rf')} "
                         f"{r[a + '_accuracy']:.2f} [{r[a + '_low']:.2f},{r[a + '_high']:.2f}]"
                         for a in metas + ("loss_test", "threshold_test")]
                best = max(metas, key=lambda a: r[a + "_accuracy"])
                print(f"    alpha {r['alpha']:.1f} label share {r['label_share_1']:.3f}: " + "; ".join(cells)
                      + f"; n_leaked({best}) {r[best + '_n_leaked']:.1f} / {r[best + '_n_leaked_se']:.1f}")


def defense_table(res):
    print("\nNon-adaptive defenses on German Credit (LR target), mean over replications: undefended / fixed / "
          "responsive attack accuracy; undefended -> defended utility")
    for resp in ("all", "same"):
        print(f"  responsive attacker: {'best of the three meta-classifiers' if resp == 'all' else 'its own meta-classifier retrained'}"
              " (or the fixed attack)")
        for name in DEFENSES:
            recs = [r for r in res if r["defense"] == name and r["responsive"] == resp]
            if not recs:
                continue
            m = lambda k: float(np.nanmean([r[k] for r in recs])) if any(np.isfinite(r[k]) for r in recs) \
                else float("nan")  # noqa: E731
            print(f"    {name} ({len(recs)} replications): AUC {m('auc'):.3f} -> {m('defended_auc'):.3f}, log-loss "
                  f"{m('log_loss'):.3f} -> {m('defended_log_loss'):.3f}, ECE {m('ece'):.3f} -> {m('defended_ece'):.3f}")
            for a in DEFENSE_ATTACKS:
                print(f"      {a:<22} {m(a + '_accuracy'):.3f} / {m(a + '_fixed_accuracy'):.3f} / "
                      f"{m(a + '_responsive_accuracy'):.3f}")


def race_table(res, title):
    print(f"\n{title}: per race, rounds, stop, undefended -> final responsive accuracy [Wilson], final fixed "
          "accuracy, AUC, log-loss, ECE (round 0 -> final), training seconds")
    races = {}
    for r in sorted(res, key=lambda r: r["round"]):
        races.setdefault((r["access"], r["strategy"], r["lam"], r["rep"]), []).append(r)
    for (access, strategy, lam, rep), rounds in races.items():
        a, z = rounds[0], rounds[-1]
        penalty = f"kl lam={lam:g}" if lam else "constraint"
        print(f"  {access:<5} {strategy:<11} {penalty:<13} race {rep}: {len(rounds):>2} rounds {z['stop_reason']:<13} "
              f"{a['attack_accuracy']:.3f} -> {z['attack_accuracy']:.3f} [{z['attack_low']:.3f},{z['attack_high']:.3f}]"
              f"; fixed {z['fixed_accuracy']:.3f}; AUC {a['auc']:.3f}->{z['auc']:.3f}, LL {a['log_loss']:.3f}->"
              f"{z['log_loss']:.3f}, ECE {a['ece']:.3f}->{z['ece']:.3f}; train "
              f"{sum(r['train_seconds'] for r in rounds):.2f}s")
    totals = [dict(rounds[-1], total=sum(r["train_seconds"] for r in rounds)) for rounds in races.values()]
    rows = summarise(totals, ("access", "strategy", "lam"), ("attack_accuracy", "auc_drop", "total"))
    for r in rows:
        print(f"  mean over {r['count']} races, {r['access']} {r['strategy']} lam={r['lam']:g}: final attack "
              f"{r['attack_accuracy']:.3f} ± {r['attack_accuracy_se']:.3f}, AUC drop {r['auc_drop']:+.3f}, training "
              f"{r['total']:.2f} s per race")


def mlp_warm_table(res):
    print("\nMLP (16,) targets on German Credit, round 0 of a black-box race: cold-start L-BFGS to convergence "
          "(tol 1e-5) vs warm start (20 iterations) from a per-bin reference; LR attack, targets' AUC / log-loss")
    by = {(r["alpha"], r["rep"], r["strategy"]): r for r in res}
    for (alpha, rep, strategy), ex in sorted(by.items()):
        if strategy != "exact" or (alpha, rep, "approximate") not in by:
            continue
        ap = by[(alpha, rep, "approximate")]
        print(f"  alpha {alpha:<5g} race {rep}: train {ex['train_seconds']:.1f}s -> {ap['train_seconds']:.1f}s "
              f"(saving {100 * (1 - ap['train_seconds'] / ex['train_seconds']):.0f}%); attack "
              f"{ex['attack_accuracy']:.3f} -> {ap['attack_accuracy']:.3f}; AUC {ex['auc']:.3f} -> {ap['auc']:.3f}; "
              f"log-loss {ex['log_loss']:.3f} -> {ap['log_loss']:.3f}")


def summary(out, seed, jobs):
    """Every section's sweep (reusing its records), then the tables; also written to summary.txt."""
    results = {name: run(name, out, seed, jobs, progress=False) for name in SECTIONS}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        print(f"Property-inference measurements (seed {seed}; records in {out.name}/<section>_records.csv; timings "
              "on a shared two-core machine)")
        german_table(results["german"])
        adult_table(results["adult"])
        defense_table(results["defenses"])
        mlp_warm_table(results["mlp_warm"])
        race_table(results["race"], "Arms race on German Credit (LR), constrained defense step")
        race_table(results["race_kl"], "Arms race on German Credit (LR), soft KL penalty")
    text = buf.getvalue()
    (out / "summary.txt").write_text(text)
    print(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sections", nargs="*", help=f"of {[*SECTIONS, 'summary']} (default: all, then the summary)")
    p.add_argument("--out", default="benchmarks/results/property_inference")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS and s != "summary"]
    if unknown:
        p.error(f"unknown sections {unknown}; choose from {[*SECTIONS, 'summary']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.sections or [*SECTIONS, "summary"]:
        if name == "summary":
            summary(out, args.seed, args.jobs)
        else:
            run(name, out, args.seed, args.jobs)


if __name__ == "__main__":
    main()
