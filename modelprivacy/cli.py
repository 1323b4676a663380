"""The ``modelprivacy`` command.

``modelprivacy simulate`` runs a stealing game (flags or a TOML file) and
prints a summary table; ``modelprivacy figures`` regenerates the paper's
figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from .attacks import make_attacker
from .defenses import NoDefense, make_defense
from .figures import FIGURES, get_figure
from .games import GAME_ATTACKERS, GAME_DEFENSES, GAMES, game_defenses, make_game
from .simulate import grid, sweep

__all__ = ["main"]

SIMULATE_DEFAULTS = {
    "game": "poly",
    "attack": None,
    "defense": list(GAME_DEFENSES["poly"]),
    "n": [100],
    "sigma": [0.5],
    "reps": 100,
    "seed": 0,
    "jobs": 1,
    "out": "simulate_results.csv",
}

def _simulate_parser(sub):
    p = sub.add_parser(
        "simulate",
        help="simulate a model stealing game and print PL_n and U_n per defense",
        description="Simulate a model stealing game. Values not given come from --config, then from defaults "
        "(the polynomial game of the paper at n=100, sigma=0.5, 100 replications).",
    )
    p.add_argument("--config", help="TOML file with any of the keys below (flags override it)")
    p.add_argument("--game", choices=["poly", "krr", "lasso"], help="preset game (default poly)")
    p.add_argument("--attack", help="attacker registry name (default: the game's attacker)")
    p.add_argument("--defense", nargs="+", help="defense registry names (default: all baselines + the game's design)")
    p.add_argument("--n", nargs="+", type=int, help="query budgets (default 100)")
    p.add_argument("--sigma", nargs="+", type=float, help="noise levels, U_n = sigma^2 (default 0.5)")
    p.add_argument("--reps", type=int, help="replications per setting (default 100)")
    p.add_argument("--seed", type=int, help="base seed (default 0)")
    p.add_argument("--jobs", type=int, help="local workers (default 1; -1 = all cores)")
    p.add_argument("--out", help="CSV of per-replication records; resumed if it exists (default simulate_results.csv)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _load_config(path):
    import tomllib

    try:
        with open(path, "rb") as fh:
            cfg = tomllib.load(fh)
    except FileNotFoundError:
        raise SystemExit(f"error: --config file {path!r} does not exist.")
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"error: --config file {path!r} is not valid TOML: {exc}")
    unknown = sorted(set(cfg) - set(SIMULATE_DEFAULTS))
    if unknown:
        raise SystemExit(f"error: unknown keys in {path}: {unknown}; allowed: {sorted(SIMULATE_DEFAULTS)}.")
    for key in ("defense", "n", "sigma"):
        if key in cfg and not isinstance(cfg[key], list):
            cfg[key] = [cfg[key]]
    return cfg


def run_simulate(args):
    opts = dict(SIMULATE_DEFAULTS)
    if args.config:
        opts.update(_load_config(args.config))
    for key in SIMULATE_DEFAULTS:
        val = getattr(args, key, None)
        if val is not None:
            opts[key] = val
    game = opts["game"]
    if game not in GAMES:
        raise SystemExit(f"error: unknown game {game!r}; known: {sorted(GAMES)}.")
    attack = opts["attack"] or GAME_ATTACKERS[game][0]
    names = list(opts["defense"])
    if args.defense is None and not args.config:
        names = list(GAME_DEFENSES[game])  # the game's baselines and its designed defense
    try:
        attacker = make_attacker(attack)
        preset = game_defenses(game)
        defenses = {name: preset[name] if name in preset else make_defense(name) for name in names}
        base = make_game(game, n=opts["n"][0], defense=NoDefense(), attacker=attacker)
        cells = grid(base, defenses=defenses, n=opts["n"], sigma=opts["sigma"], attackers={attack: attacker})
        t0 = time.perf_counter()
        res = sweep(
            cells,
            reps=opts["reps"],
            seed=opts["seed"],
            out=opts["out"],
            n_jobs=opts["jobs"],
            progress=not args.quiet,
            desc="simulate",
        )
    except (ValueError, TypeError) as exc:
        raise SystemExit(f"error: {exc}")
    elapsed = time.perf_counter() - t0
    print(f"game={game} attacker={attack} reps={opts['reps']} seed={opts['seed']}  ({elapsed:.1f} s)")
    print("privacy_level = mean stealing error (95% CI), utility_loss = mean U_n, PL/U = privacy gain")
    print(res.table(by=("defense", "n", "sigma")))
    if opts["out"]:
        print(f"records: {opts['out']}")
    return 0


def _figures_parser(sub):
    p = sub.add_parser("figures", help="regenerate the paper's figures (PNG, PDF and CSV per figure)")
    p.add_argument("names", nargs="*", help="figure names (default: all); see --list")
    p.add_argument("--list", action="store_true", help="list the figure names and exit")
    p.add_argument("--quick", action="store_true", help="few replications, for a smoke run")
    p.add_argument("--reps", type=int, help="replications (default: the paper's)")
    p.add_argument("--jobs", type=int, default=1, help="local workers (default 1)")
    p.add_argument("--out", default="paper_figures", help="output folder (default paper_figures)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://host:port, or 'local' for a LocalCluster")
    return p


def run_figures(args):
    if args.list:
        for name in sorted(FIGURES):
            doc = (FIGURES[name].__doc__ or "").strip().splitlines()
            print(f"{name:<24} {doc[0] if doc else ''}")
        return 0
    names = args.names or sorted(FIGURES)
    try:
        funcs = [get_figure(n) for n in names]
    except KeyError as exc:
        raise SystemExit(f"error: {exc.args[0]}")
    if not funcs:
        raise SystemExit("error: no figures are registered.")
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for name, func in zip(names, funcs):
        t0 = time.perf_counter()
        try:
            func(out_dir=args.out, quick=args.quick, reps=args.reps, seed=args.seed, n_jobs=args.jobs,
                 scheduler=args.scheduler)
        except (ValueError, TypeError, ConnectionError) as exc:
            raise SystemExit(f"error: {name}: {exc}")
        rows.append((name, time.perf_counter() - t0))
    print(f"{'figure':<28} seconds")
    for name, sec in rows:
        print(f"{name:<28} {sec:7.1f}")
    print(f"{'total':<28} {sum(s for _, s in rows):7.1f}   -> {args.out}/")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="modelprivacy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _simulate_parser(sub)
    _figures_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "simulate":
        return run_simulate(args)
    return run_figures(args)


if __name__ == "__main__":
    sys.exit(main())
