"""Arms race on German Credit: exact retraining versus the approximate strategy, played by the engine.

Setting: UCI German Credit, the default rate in 3 bins over [0.1, 0.5],
training sets of 150 loans, L2 logistic-regression targets (C = 1),
white-box access, 100 shadow models per bin, 40 provider targets per bin,
the responsive attacker a logistic-regression meta-classifier, the
constrained defense step, stop when the attack is within 0.1 of chance for
2 rounds (or the targets' AUC drops by more than 0.02, or 10 rounds).

* exact: every model of every round retrained from a cold start to
  convergence (Newton / Newton-KKT from zero, step tolerance 1e-8);
* approximate: round 0 fits one reference per bin and moves the other
  models from it by two Newton steps; later rounds move every model from its
  previous round by one Newton-KKT step.

Both strategies are cells of one :func:`modelprivacy.simulate.sweep`; race
``r`` of both uses the same seed streams (the same shadow and target training
sets). The records (one per round and race) go to ``--out`` and a rerun
resumes from them (``--fresh`` recomputes); a race killed midway resumes from
its last completed round. "Training time" is the time spent producing the
parameters of shadows and targets, summed over rounds; meta-classifier
fitting and evaluation are the same work in both and are reported
separately as wall time. "Final attack accuracy" is the responsive
attacker's accuracy on the defended targets in each race's last round.

``--evaluate`` also replays each race in this process
(:meth:`~modelprivacy.property_inference.ArmsRace.play`, the same numbers as
the sweep) to attack its final state with fresh logistic, random-forest and
MLP attackers that rerun the final defense exactly on new shadows
(:func:`modelprivacy.property_inference.evaluate`).

    python benchmarks/bench_property_inference.py [--reps 3] [--seed 0] [--jobs 1] [--out FILE] [--fresh] [--evaluate]

The last line is the training-time saving of the approximate strategy.
"""

import argparse
import time

import numpy as np

from modelprivacy.figures.property_inference import strategy_cells, strategy_rows
from modelprivacy.property_inference import evaluate
from modelprivacy.simulate import sweep

OUT = "benchmarks/results/property_inference/bench_records.csv"


def _races(res):
    """One summary per (strategy, race) from the per-round records."""
    races = {}
    for r in sorted(res, key=lambda r: r["round"]):
        races.setdefault((r["strategy"], r["rep"]), []).append(r)
    out = []
    for (strategy, rep), rounds in races.items():
        first, last = rounds[0], rounds[-1]
        out.append({"strategy": strategy, "rep": rep, "rounds": len(rounds), "stop": last["stop_reason"],
                    "train": sum(r["train_seconds"] for r in rounds),
                    "steps": sum(r["train_evaluations"] for r in rounds),
                    "wall": sum(r["round_seconds"] for r in rounds), "undefended": first["attack_accuracy"],
                    "final": last["attack_accuracy"], "auc0": first["auc"], "auc": last["auc"], "ece0": first["ece"],
                    "ece": last["ece"], "ll0": first["log_loss"], "ll": last["log_loss"], "chance": last["chance"]})
    return sorted(out, key=lambda r: (r["rep"], r["strategy"] != "exact"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3, help="races per strategy (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="workers (default 1: the timings do not compete)")
    p.add_argument("--out", default=OUT, help=f"records file, resumed (default {OUT})")
    p.add_argument("--fresh", action="store_true", help="recompute every race")
    p.add_argument("--evaluate", action="store_true", help="also attack each race's final state with fresh attackers")
    args = p.parse_args(argv)
    cells = strategy_cells()
    t0 = time.perf_counter()
    res = sweep(cells, reps=args.reps, seed=args.seed, out=args.out, fresh=args.fresh, n_jobs=args.jobs,
                desc="arms races")
    print("arms race, German Credit default rate (3 bins), white-box L2 logistic regression, "
          "100 shadows + 40 targets per bin")
    print(f"{res.report}  ({time.perf_counter() - t0:.1f} s)")
    races = _races(res)
    fresh = {}
    if args.evaluate:
        for cell in cells:
            for rep in range(args.reps):
                *_, (state, _) = cell.game.play(seed=args.seed, rep=rep)
                fresh[(cell.labels["strategy"], rep)] = evaluate(state, 1000 + rep)["final_accuracy_max"]
    print(f"{'race':>4} {'strategy':>11} {'rounds':>6} {'stop':>13} {'train s':>8} {'steps':>7} {'wall s':>7} "
          f"{'undef':>6} {'final':>6} " + (f"{'fresh':>6} " if fresh else "")
          + f"{'AUC0':>6} {'AUC':>6} {'ECE0':>6} {'ECE':>6} {'LL0':>6} {'LL':>6}")
    for r in races:
        f = f"{fresh[(r['strategy'], r['rep'])]:>6.3f} " if fresh else ""
        print(f"{r['rep']:>4} {r['strategy']:>11} {r['rounds']:>6} {r['stop']:>13} {r['train']:>8.2f} {r['steps']:>7} "
              f"{r['wall']:>7.1f} {r['undefended']:>6.3f} {r['final']:>6.3f} {f}{r['auc0']:>6.3f} "
              f"{r['auc']:>6.3f} {r['ece0']:>6.3f} {r['ece']:>6.3f} {r['ll0']:>6.3f} {r['ll']:>6.3f}")
    total = {r["strategy"]: r for r in strategy_rows(res) if r["kind"] == "total"}
    ex, ap = total["exact"], total["approximate"]
    by = {s: [r for r in races if r["strategy"] == s] for s in ("exact", "approximate")}
    mean = lambda rs, k: float(np.mean([r[k] for r in rs]))  # noqa: E731
    print(f"chance = {races[0]['chance']:.3f}; AUC drop exact {ex['final_auc_drop']:+.3f}, "
          f"approximate {ap['final_auc_drop']:+.3f} (target < 0.02)")
    line = (f"final attack accuracy (mean over {args.reps} races): exact {ex['final_attack_accuracy']:.3f} "
            f"± {ex['final_attack_accuracy_se']:.3f}, approximate {ap['final_attack_accuracy']:.3f} "
            f"± {ap['final_attack_accuracy_se']:.3f}, gap {ap['final_gap']:.3f} (target <= 0.05)")
    if fresh:
        line += (f"; fresh attackers: exact {np.mean([fresh[('exact', r)] for r in range(args.reps)]):.3f}, "
                 f"approximate {np.mean([fresh[('approximate', r)] for r in range(args.reps)]):.3f}")
    print(line)
    print(f"wall time (training, attacks, evaluation): exact {sum(r['wall'] for r in by['exact']):.1f} s, "
          f"approximate {sum(r['wall'] for r in by['approximate']):.1f} s")
    t_ex, t_ap = mean(by["exact"], "train"), mean(by["approximate"], "train")
    print(f"training-time saving of the approximate strategy: {100 * ap['saving']:.1f}% "
          f"(exact {t_ex:.2f} s, approximate {t_ap:.2f} s per race; target >= 80%)")


if __name__ == "__main__":
    main()
