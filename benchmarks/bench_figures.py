"""Wall time of each paper figure (1 and 2 workers) against a plain per-replication loop.

For every regression figure at paper scale this prints:

* the figure's wall time (sweep + plots) with 1 and with 2 local workers;
* the time of a plain per-replication Python loop over the *same fits* (for
  every cell and replication: draw queries, answer through the defense, fit a
  fresh attacker, predict on the evaluation points), in the authors' structure;
* the ratio figure(1 worker) / loop  (target <= 0.5).

    python benchmarks/bench_figures.py [NAMES...]
"""

import copy
import sys
import tempfile
import time

import numpy as np

from modelprivacy.figures import get_figure
from modelprivacy.figures.regression import SCORERS, figure_cells, figure_reps
from modelprivacy.metrics import stealing_error

NAMES = ["poly_n_AIC", "poly_ratio_AIC", "krr_n", "krr_ratio", "lasso"]


def plain_loop(cells, reps, scorers=None):
    for cell in cells:
        tm = cell.threat_model
        for rep in range(reps):
            rng = np.random.default_rng([rep, 17])
            X = tm.queries.sample(tm.n, rng)
            y = tm.target(X)
            Y = tm.defense.respond(X, y, rng=rng, target=tm.target)
            Z = tm.evaluation_distribution.sample(tm.n_eval, rng)
            est = copy.deepcopy(tm.attacker).fit(X, Y)
            stealing_error(est.predict(Z), tm.target(Z))
            for scorer in (scorers or {}).values():
                scorer(est, tm)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    names = sys.argv[1:] or NAMES
    print(f"{'figure':<16}{'1 worker':>10}{'2 workers':>11}{'loop':>9}{'fig/loop':>10}")
    total1 = total2 = 0.0
    for name in names:
        fig = get_figure(name)
        with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
            t1 = timed(lambda: fig(out_dir=d1, n_jobs=1))
            t2 = timed(lambda: fig(out_dir=d2, n_jobs=2))
        t_loop = timed(lambda: plain_loop(figure_cells(name), figure_reps(name), SCORERS.get(name)))
        total1 += t1
        total2 += t2
        print(f"{name:<16}{t1:10.1f}{t2:11.1f}{t_loop:9.1f}{t1 / t_loop:10.2f}", flush=True)
    print(f"{'total':<16}{total1:10.1f}{total2:11.1f}")


if __name__ == "__main__":
    main()
