"""Measurements behind the property-inference report (real data; single process).

Each section writes one JSON line per record to ``<out>/<section>.jsonl``
(appending; records already there are skipped, so an interrupted run
resumes) and prints a summary table at the end.

    python benchmarks/pi_measurements.py [out_dir] [section ...]

Sections
--------
german     undefended attacks on German Credit (default rate, 3 bins over [0.1, 0.5]),
           logistic-regression and MLP targets, seeds 0-2
adult      Suri & Evans two-world game on Adult (share of women 0.5 vs alpha), LR and
           MLP targets, label share following the property and held fixed, seed 0
defenses   output noise, parameter noise, property unlearning on German Credit (LR):
           fixed versus responsive attacker (best response over the three meta-classifiers
           of the same access, the fixed attack included), seeds 0-2
race       the arms race on German Credit (LR), white- and black-box, exact and
           approximate, seeds 0-2, plus the soft KL penalty (white-box, seed 0)
mlp_warm   MLP targets: cold-start training vs warm starts from per-bin references
summary    print the tables from the files written by the other sections
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from modelprivacy.property_inference import (ArmsRace, CPIExperiment, OutputNoise, ParameterNoise,
                                             PropertyUnlearning, evaluate, run, run_experiment)

LR = LogisticRegression(C=1.0, max_iter=5000)
MLP_GERMAN = MLPClassifier((16,), alpha=1e-3, max_iter=300)
MLP_ADULT = MLPClassifier((32, 16, 8), alpha=1e-3, max_iter=100)
GERMAN = dict(bins=3, property_range=(0.1, 0.5), n_train=150, n_test=100, n_shadows=100, n_targets=50)


def _done(path):
    if not path.exists():
        return set()
    return {json.loads(line)["key"] for line in path.read_text().splitlines() if line.strip()}


def _emit(path, key, record):
    with open(path, "a") as fh:
        fh.write(json.dumps({"key": key, **{k: (None if isinstance(v, float) and np.isnan(v) else v)
                                             for k, v in record.items()}}) + "\n")
    print(key, f"{record.get('seconds', record.get('round_seconds', 0.0)):.1f}s", flush=True)


def german(out):
    path = out / "german.jsonl"
    done = _done(path)
    for tname, tgt in (("logistic", LR), ("mlp", MLP_GERMAN)):
        for seed in range(3):
            key = f"german|{tname}|{seed}"
            if key not in done:
                rec = run_experiment(CPIExperiment("german", target=tgt, **GERMAN), seed)
                _emit(path, key, {"target": tname, "seed": seed, **rec})


def adult(out):
    """PI_ADULT_TARGETS=logistic (or mlp) and PI_ADULT_ALPHAS=0.0,0.2,... restrict the grid."""
    import os

    path = out / "adult.jsonl"
    done = _done(path)
    wanted = os.environ.get("PI_ADULT_TARGETS", "logistic,mlp").split(",")
    alphas = [float(a) for a in os.environ.get("PI_ADULT_ALPHAS", ",".join(
        str(a) for a in np.round(np.arange(0.0, 1.01, 0.1), 1))).split(",")]
    for tname, tgt in (("logistic", LR), ("mlp", MLP_ADULT)):
        if tname not in wanted:
            continue
        for share in ("follow", "fixed"):
            for alpha in alphas:
                key = f"adult|{tname}|{share}|{alpha}"
                if key in done:
                    continue
                spec = CPIExperiment("adult", label_share=share, bins=None, property_range=None,
                                     property_values=(0.5, float(alpha)), n_train=1000, n_test=500, target=tgt,
                                     n_shadows=100, n_targets=50)
                rec = run_experiment(spec, 0)
                _emit(path, key, {"target": tname, "label_share": share, "alpha": float(alpha), **rec})


def defenses(out):
    path = out / "defenses.jsonl"
    done = _done(path)
    attacks = ("white_logistic", "white_mlp", "black_logistic", "black_random_forest", "black_mlp")
    grid = [("output_noise_0.05", OutputNoise(0.05)), ("output_noise_0.1", OutputNoise(0.1)),
            ("output_noise_0.2", OutputNoise(0.2)),
            ("parameter_noise_0.1", ParameterNoise(0.1)), ("parameter_noise_0.5", ParameterNoise(0.5)),
            ("unlearning", PropertyUnlearning())]
    for name, d in grid:
        for seed in range(3):
            key = f"defense|{name}|{seed}"
            if key not in done:
                rec = run_experiment(CPIExperiment("german", attacks=attacks, defense=d, **GERMAN), seed)
                _emit(path, key, {"defense": name, "seed": seed, **rec})


def race(out):
    path = out / "race.jsonl"
    done = _done(path)
    settings = [(access, strategy, "constraint", 1.0, seed) for access in ("white", "black")
                for strategy in ("exact", "approximate") for seed in range(3)]
    settings += [("white", "exact", "kl", lam, 0) for lam in (1.0, 10.0, 100.0)]
    for access, strategy, penalty, lam, seed in settings:
        key = f"race|{access}|{strategy}|{penalty}|{lam}|{seed}"
        if key in done:
            continue
        spec = ArmsRace("german", access=access, strategy=strategy, penalty=penalty, lam=lam, n_shadows=100,
                        n_targets=40, max_rounds=10, max_auc_drop=0.02)
        t0 = time.perf_counter()
        state = run(spec, seed)
        final = evaluate(state, 1000 + seed)
        wall = time.perf_counter() - t0
        for r in state.history:
            _emit(path, f"{key}|round{r['round']}", {"access": access, "strategy": strategy, "penalty": penalty,
                                                     "lam": lam, "seed": seed, **r})
        _emit(path, key, {"access": access, "strategy": strategy, "penalty": penalty, "lam": lam, "seed": seed,
                          "rounds": len(state.history), "stop_reason": state.stop_reason, "seconds": wall,
                          "train_seconds": sum(r["train_seconds"] for r in state.history),
                          "train_evaluations": sum(r["train_evaluations"] for r in state.history),
                          "undefended_attack_accuracy": state.history[0]["attack_accuracy"],
                          "undefended_auc": state.history[0]["auc"],
                          "undefended_log_loss": state.history[0]["log_loss"],
                          "undefended_ece": state.history[0]["ece"],
                          "last": {k: v for k, v in state.history[-1].items()}, **final})


def mlp_warm(out):
    """Round 0 of an MLP arms race: cold-start training versus warm starts from a per-bin reference."""
    from modelprivacy.property_inference import MetaClassifierAttack, approximate_fits, exact_fits, init_state
    from modelprivacy.property_inference._common import mean_utility, single_threaded
    from modelprivacy.property_inference.metrics import attack_accuracy

    path = out / "mlp_warm.jsonl"
    done = _done(path)
    for alpha in (1.0, 10.0):
        for seed in range(3):
            key = f"mlp_warm|{alpha}|{seed}"
            if key in done:
                continue
            spec = ArmsRace("german", target=MLPClassifier((16,), alpha=alpha), penalty="kl", access="black",
                            n_shadows=100, n_targets=40)
            state = init_state(spec, seed)
            fam = state.env.family
            rec = {"alpha": alpha, "seed": seed}
            with single_threaded():
                for strategy in ("exact", "approximate"):
                    if strategy == "exact":
                        th_s, t_s, e_s = exact_fits(fam, state.shadows.data, tol=1e-5, random_state=seed)
                        th_t, t_t, e_t = exact_fits(fam, state.targets.data, tol=1e-5, random_state=seed + 100)
                    else:
                        th_s, t_s, e_s = approximate_fits(fam, state.shadows.data, state.shadows.labels, tol=1e-5,
                                                          warm_iter=20, random_state=seed)
                        th_t, t_t, e_t = approximate_fits(fam, state.targets.data, state.targets.labels, tol=1e-5,
                                                          warm_iter=20, random_state=seed + 100)
                    sh, tg = state.shadows.with_thetas(th_s), state.targets.with_thetas(th_t)
                    att = MetaClassifierAttack("logistic", access="black").fit(sh, queries=state.env.queries)
                    acc = attack_accuracy(tg.labels, att.predict(tg), state.env.n_classes)
                    util = mean_utility(tg, state.tests)
                    rec.update({f"{strategy}_train_seconds": t_s + t_t, f"{strategy}_evaluations": e_s + e_t,
                                f"{strategy}_attack_accuracy": acc.accuracy, f"{strategy}_auc": util["auc"],
                                f"{strategy}_log_loss": util["log_loss"], f"{strategy}_ece": util["ece"]})
            rec["seconds"] = rec["exact_train_seconds"] + rec["approximate_train_seconds"]
            _emit(path, key, rec)


def _load(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _pooled(recs, key):
    """Accuracy pooled over seeds (all targets), its Wilson interval, and the between-seed range."""
    from modelprivacy.property_inference.metrics import wilson_interval

    accs = [r[key] for r in recs if r.get(key) is not None]
    if not accs:
        return "      n/a"
    k = sum(round(a * t) for a, t in zip(accs, [r["_n"] for r in recs]))
    total = sum(r["_n"] for r in recs)
    lo, hi = wilson_interval(int(k), int(total))
    return f"{k / total:.3f} [{lo:.3f},{hi:.3f}]"


def summary(out):
    ger = _load(out / "german.jsonl")
    attacks = ("white_logistic", "white_random_forest", "white_mlp", "black_logistic", "black_random_forest",
               "black_mlp", "loss_test", "threshold_test")
    if ger:
        print("\nGerman Credit, default rate in 3 bins over [0.1, 0.5] (chance 0.333); accuracy pooled over seeds "
              "[Wilson 95%]")
        for tname in ("logistic", "mlp"):
            recs = [dict(r, _n=r["n_classes"] * 50) for r in ger if r["target"] == tname]
            if not recs:
                continue
            util = {k: np.mean([r[k] for r in recs]) for k in ("auc", "log_loss", "ece", "accuracy")}
            print(f"  target {tname} ({len(recs)} seeds): AUC {util['auc']:.3f}, log-loss {util['log_loss']:.3f}, "
                  f"ECE {util['ece']:.3f}, accuracy {util['accuracy']:.3f}")
            for a in attacks:
                print(f"    {a:<22} {_pooled(recs, a + '_accuracy')}")
    adu = _load(out / "adult.jsonl")
    if adu:
        print("\nAdult, share of women 0.5 vs alpha (chance 0.5); accuracy [Wilson 95%, 100 targets], "
              "n_leaked exact / Suri-Evans")
        for tname in ("logistic", "mlp"):
            for share in ("follow", "fixed"):
                recs = sorted((r for r in adu if r["target"] == tname and r["label_share"] == share),
                              key=lambda r: r["alpha"])
                if not recs:
                    continue
                print(f"  target {tname}, label share {share}: AUC {np.mean([r['auc'] for r in recs]):.3f}")
                for r in recs:
                    cells = []
                    for a in ("white_logistic", "white_mlp", "black_logistic", "black_random_forest", "loss_test",
                              "threshold_test"):
                        cells.append(f"{a.replace('_logistic', '_lr').replace('_random_forest', '_rf')} "
                                     f"{r[a + '_accuracy']:.2f} [{r[a + '_low']:.2f},{r[a + '_high']:.2f}]")
                    best = max(("white_logistic", "white_mlp", "black_logistic", "black_random_forest"),
                               key=lambda a: r[a + "_accuracy"])
                    nl, ns = r.get(best + "_n_leaked"), r.get(best + "_n_leaked_se")
                    nl = "nan" if nl is None else f"{nl:.1f}"
                    ns = "nan" if ns is None else f"{ns:.1f}"
                    print(f"    alpha {r['alpha']:.1f} label share {r['label_share_1']:.3f}: " + "; ".join(cells)
                          + f"; n_leaked({best}) {nl} / {ns}")
    dfn = _load(out / "defenses.jsonl")
    if dfn:
        print("\nNon-adaptive defenses on German Credit (LR target), mean over seeds: undefended / fixed / "
              "responsive attack accuracy; defended utility")
        for name in sorted({r["defense"] for r in dfn}):
            recs = [r for r in dfn if r["defense"] == name]
            m = lambda k: np.mean([r[k] for r in recs if r.get(k) is not None]) if any(
                r.get(k) is not None for r in recs) else float("nan")
            print(f"  {name} ({len(recs)} seeds): AUC {m('auc'):.3f} -> {m('defended_auc'):.3f}, log-loss "
                  f"{m('log_loss'):.3f} -> {m('defended_log_loss'):.3f}, ECE {m('ece'):.3f} -> {m('defended_ece'):.3f}")
            for a in ("white_logistic", "white_mlp", "black_logistic", "black_random_forest", "black_mlp"):
                print(f"    {a:<22} {m(a + '_accuracy'):.3f} / {m(a + '_fixed_accuracy'):.3f} / "
                      f"{m(a + '_responsive_accuracy'):.3f}")
    mw = _load(out / "mlp_warm.jsonl")
    if mw:
        print("\nMLP (16,) targets on German Credit, round 0: cold-start L-BFGS to convergence vs warm start "
              "(20 iterations) from a per-bin reference; black-box LR attack, targets' AUC / log-loss")
        for r in mw:
            print(f"  alpha {r['alpha']:<5} seed {r['seed']}: train {r['exact_train_seconds']:.1f}s -> "
                  f"{r['approximate_train_seconds']:.1f}s (saving "
                  f"{100 * (1 - r['approximate_train_seconds'] / r['exact_train_seconds']):.0f}%); attack "
                  f"{r['exact_attack_accuracy']:.3f} -> {r['approximate_attack_accuracy']:.3f}; AUC "
                  f"{r['exact_auc']:.3f} -> {r['approximate_auc']:.3f}; log-loss {r['exact_log_loss']:.3f} -> "
                  f"{r['approximate_log_loss']:.3f}")
    rac = [r for r in _load(out / "race.jsonl") if "|round" not in r["key"]]
    if rac:
        print("\nArms race on German Credit (LR), per run: rounds, stop, undefended -> final responsive accuracy, "
              "fresh LR/RF/MLP attackers, AUC, log-loss, ECE (undefended -> final), training seconds")
        for r in rac:
            last = r["last"]
            print(f"  {r['access']:<5} {r['strategy']:<11} {r['penalty']:<10} lam={r['lam']:<5} seed {r['seed']}: "
                  f"{r['rounds']:>2} rounds {r['stop_reason']:<13} {r['undefended_attack_accuracy']:.3f} -> "
                  f"{last['attack_accuracy']:.3f} [{last['attack_low']:.3f},{last['attack_high']:.3f}]; fresh "
                  f"{r['final_accuracy_logistic']:.3f}/{r['final_accuracy_random_forest']:.3f}/"
                  f"{r['final_accuracy_mlp']:.3f}; AUC {r['undefended_auc']:.3f}->{last['auc']:.3f}, LL "
                  f"{r['undefended_log_loss']:.3f}->{last['log_loss']:.3f}, ECE {r['undefended_ece']:.3f}->"
                  f"{last['ece']:.3f}; train {r['train_seconds']:.2f}s")


SECTIONS = {"german": german, "adult": adult, "defenses": defenses, "race": race, "mlp_warm": mlp_warm,
            "summary": summary}


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("pi_measurements")
    out.mkdir(parents=True, exist_ok=True)
    names = sys.argv[2:] or list(SECTIONS)
    for name in names:
        SECTIONS[name](out)


if __name__ == "__main__":
    main()
