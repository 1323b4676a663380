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
           fixed versus responsive attacker, seeds 0-2
race       the arms race on German Credit (LR), white- and black-box, exact and
           approximate, seeds 0-2, plus the soft KL penalty (white-box, seed 0)
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
    path = out / "adult.jsonl"
    done = _done(path)
    for tname, tgt in (("logistic", LR), ("mlp", MLP_ADULT)):
        for share in ("follow", "fixed"):
            for alpha in np.round(np.arange(0.0, 1.01, 0.1), 1):
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


SECTIONS = {"german": german, "adult": adult, "defenses": defenses, "race": race}


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("pi_measurements")
    out.mkdir(parents=True, exist_ok=True)
    names = sys.argv[2:] or list(SECTIONS)
    for name in names:
        SECTIONS[name](out)


if __name__ == "__main__":
    main()
