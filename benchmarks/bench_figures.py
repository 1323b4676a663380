"""Wall time of every paper figure recomputed from scratch, with one and with two workers.

Each figure runs at paper scale (its precision target) into an empty folder,
so no record is reused, first serially and then with two local worker
processes (the workers are started once, before the timed runs, as in a
``modelprivacy figures --jobs 2`` session). Prints seconds per figure, the
totals, the ratio two workers / one worker, and the replications the
precision targets needed.

    python benchmarks/bench_figures.py [NAMES...] [--jobs-only]

``--jobs-only`` skips the serial runs (the target of the engine issue is the
total with two workers).
"""

import csv
import os
import sys
import tempfile
import time

from modelprivacy._executors import ProcessExecutor, use_executor
from modelprivacy.figures import FIGURES, get_figure


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def replications(out_dir, name):
    """Total replications recorded and the number of cells that reached their precision target."""
    path = os.path.join(out_dir, f"{name}.csv")
    if not os.path.exists(path):
        return 0, 0, 0
    rows = [r for r in csv.DictReader(open(path)) if not str(r.get("defense", "")).startswith("theory")]
    reps = sum(int(float(r["reps"])) for r in rows if r.get("reps"))
    met = sum(r.get("precision_met") == "True" for r in rows)
    judged = sum(r.get("precision_met") in ("True", "False") for r in rows)
    return reps, met, judged


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    jobs_only = "--jobs-only" in sys.argv
    names = args or sorted(FIGURES)
    # start the two workers once (a figures session reuses them)
    with use_executor(2):
        list(ProcessExecutor(2).map(abs, [-1, -2, -3, -4]))
    print(f"{'figure':<24}{'1 worker':>10}{'2 workers':>11}{'replications':>14}{'cells at target':>17}")
    total1 = total2 = 0.0
    for name in names:
        fig = get_figure(name)
        with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
            t1 = float("nan") if jobs_only else timed(lambda: fig(out_dir=d1, n_jobs=1))[0]
            t2, _ = timed(lambda: fig(out_dir=d2, n_jobs=2))
            reps, met, judged = replications(d2, name)
        total1 += t1
        total2 += t2
        target = f"{met}/{judged}" if judged else "-"
        print(f"{name:<24}{t1:10.1f}{t2:11.1f}{reps:14d}{target:>17}", flush=True)
    print(f"{'total':<24}{total1:10.1f}{total2:11.1f}")
    if not jobs_only:
        print(f"two workers / one worker = {total2 / total1:.2f}")
    print(f"all figures with two workers: {total2:.0f} s (target <= 150 s)")


if __name__ == "__main__":
    main()
