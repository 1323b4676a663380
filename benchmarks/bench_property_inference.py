"""Arms race on German Credit: exact retraining versus the approximate strategy.

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

Both runs use the same seed (the same shadow and target training sets).
"Training time" is the time spent producing the parameters of shadows and
targets, summed over rounds; meta-classifier fitting and evaluation are
the same work in both and are reported separately as wall time. "Final
attack accuracy" is the responsive attacker's accuracy on the defended
targets in the last round; "fresh" is the best of fresh logistic,
random-forest and MLP attackers that rerun the final defense exactly on new
shadows (:func:`modelprivacy.property_inference.evaluate`).

    python benchmarks/bench_property_inference.py [seed ...]     (default: 0 1 2)

The last line is the training-time saving (ratio measured in this process).
"""

import sys
import time

import numpy as np

from modelprivacy.property_inference import ArmsRace, evaluate, run


def race(strategy, seed):
    spec = ArmsRace("german", access="white", strategy=strategy, n_shadows=100, n_targets=40, max_rounds=10,
                    max_auc_drop=0.02)
    t0 = time.perf_counter()
    state = run(spec, seed)
    wall = time.perf_counter() - t0
    fresh = evaluate(state, 1000 + seed)
    h = state.history
    return {
        "train": sum(r["train_seconds"] for r in h),
        "evals": sum(r["train_evaluations"] for r in h),
        "wall": wall,
        "rounds": len(h),
        "stop": state.stop_reason,
        "undefended": h[0]["attack_accuracy"],
        "final": h[-1]["attack_accuracy"],
        "fresh": fresh["final_accuracy_max"],
        "auc0": h[0]["auc"],
        "auc": h[-1]["auc"],
        "ece0": h[0]["ece"],
        "ece": h[-1]["ece"],
        "log_loss0": h[0]["log_loss"],
        "log_loss": h[-1]["log_loss"],
        "chance": h[-1]["chance"],
    }


def main():
    seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2]
    print("arms race, German Credit default rate (3 bins), white-box L2 logistic regression, "
          "100 shadows + 40 targets per bin")
    head = (f"{'seed':>4} {'strategy':>11} {'rounds':>6} {'stop':>13} {'train s':>8} {'steps':>7} {'wall s':>7} "
            f"{'undef':>6} {'final':>6} {'fresh':>6} {'AUC0':>6} {'AUC':>6} {'ECE0':>6} {'ECE':>6} "
            f"{'LL0':>6} {'LL':>6}")
    print(head)
    rows = {"exact": [], "approximate": []}
    for seed in seeds:
        for strategy in ("exact", "approximate"):
            r = race(strategy, seed)
            rows[strategy].append(r)
            print(f"{seed:>4} {strategy:>11} {r['rounds']:>6} {r['stop']:>13} {r['train']:>8.2f} {r['evals']:>7} "
                  f"{r['wall']:>7.1f} {r['undefended']:>6.3f} {r['final']:>6.3f} {r['fresh']:>6.3f} "
                  f"{r['auc0']:>6.3f} {r['auc']:>6.3f} {r['ece0']:>6.3f} {r['ece']:>6.3f} "
                  f"{r['log_loss0']:>6.3f} {r['log_loss']:>6.3f}", flush=True)
    ex, ap = rows["exact"], rows["approximate"]
    chance = ex[0]["chance"]
    mean = lambda rs, k: float(np.mean([r[k] for r in rs]))
    print(f"chance = {chance:.3f}; AUC drop exact {mean(ex, 'auc0') - mean(ex, 'auc'):+.3f}, "
          f"approximate {mean(ap, 'auc0') - mean(ap, 'auc'):+.3f} (target < 0.02)")
    print(f"final attack accuracy (mean over {len(seeds)} seeds): exact {mean(ex, 'final'):.3f}, "
          f"approximate {mean(ap, 'final'):.3f}, gap {abs(mean(ex, 'final') - mean(ap, 'final')):.3f} "
          f"(target <= 0.05); fresh attackers: exact {mean(ex, 'fresh'):.3f}, approximate {mean(ap, 'fresh'):.3f}")
    print(f"wall time (training, attacks, evaluation): exact {sum(r['wall'] for r in ex):.1f} s, "
          f"approximate {sum(r['wall'] for r in ap):.1f} s")
    t_ex, t_ap = sum(r["train"] for r in ex), sum(r["train"] for r in ap)
    print(f"training-time saving of the approximate strategy: {100 * (1 - t_ap / t_ex):.1f}% "
          f"(exact {t_ex:.2f} s, approximate {t_ap:.2f} s; target >= 80%)")


if __name__ == "__main__":
    main()
