"""Time per replication of the polynomial experiment: simulator vs a plain loop.

Setting: f(x) = 4(x - 1/2)^2, Beta(1, 3) queries, n = 100, IID noise sigma = 0.5,
AIC order selection over floor(n^(1/3)) = 4 candidates, 1000 test points.
The baseline is a plain per-replication Python loop doing the same fits with
numpy, in the authors' structure (draw, perturb, fit every order, pick, test).
Prints the ratio simulator / loop (lower is better; 1.0 = no overhead).

    python benchmarks/bench_simulate.py [reps]
"""

import sys
import time

import numpy as np

from modelprivacy.defenses import IIDNoise
from modelprivacy.games import poly_game
from modelprivacy.simulate import simulate


def plain_loop(reps, seed=0, n=100, sigma=0.5):
    rng = np.random.default_rng(seed)
    errs = []
    for _ in range(reps):
        x = rng.beta(1, 3, n)
        y = 4 * (x - 0.5) ** 2 + sigma * rng.standard_normal(n)
        xt = rng.beta(1, 3, 1000)
        B = np.vander(x, 4, increasing=True)
        best, best_score = None, np.inf
        for i in range(4):
            coef = np.linalg.lstsq(B[:, : i + 1], y, rcond=None)[0]
            mse = np.mean((y - B[:, : i + 1] @ coef) ** 2)
            score = mse * (1 + 2 * i / (n - i - 1))
            if score < best_score:
                best, best_score = coef, score
        pred = np.vander(xt, len(best), increasing=True) @ best
        errs.append(np.mean((pred - 4 * (xt - 0.5) ** 2) ** 2))
    return np.mean(errs)


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    tm = poly_game(100, IIDNoise(0.5), None)
    t_sim = best_of(lambda: simulate(tm, reps=reps, seed=0))
    t_loop = best_of(lambda: plain_loop(reps))
    print(f"polynomial experiment, n=100, AIC, {reps} replications (best of 5)")
    print(f"  simulate():  {1e3 * t_sim / reps:8.3f} ms / replication")
    print(f"  plain loop:  {1e3 * t_loop / reps:8.3f} ms / replication")
    print(f"  ratio simulate / loop = {t_sim / t_loop:.2f}")


if __name__ == "__main__":
    main()
