"""The ``modelprivacy`` command.

``modelprivacy simulate`` runs a stealing game (flags or a TOML file) and
prints a summary table; ``modelprivacy play`` plays an arms race (rounds of
best responses, printed round by round) or a property-inference experiment;
``modelprivacy figures``
regenerates the paper's figures. A mistake in a flag, a configuration file or an output path ends in
one ``error:`` line naming the culprit and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from . import __version__
from ._records import RecordsConflictError, RecordsLockedError
from ._param_validation import InvalidParameterError
from .arms_race import StealingArmsRace
from .attacks import make_attacker
from .defenses import NoDefense, make_defense
from .figures import FIGURES, get_figure
from .games import GAME_ATTACKERS, GAME_DEFENSES, GAMES, game_defenses, make_game
from .property_inference import ArmsRace, CPIExperiment
from .simulate import Cell, Precision, grid, sweep
from .threat import RoundGame

__all__ = ["main"]

#: every key of ``simulate`` (flags and TOML) with its default and type
SIMULATE_DEFAULTS = {
    "game": "poly",
    "attack": None,
    "defense": list(GAME_DEFENSES["poly"]),
    "n": [100],
    "sigma": [0.5],
    "reps": 100,
    "precision": None,
    "max_reps": 5000,
    "seed": 0,
    "jobs": 1,
    "out": "simulate_results.csv",
    "fresh": False,
}
_TYPES = {"game": str, "attack": str, "defense": [str], "n": [int], "sigma": [float], "reps": int, "precision": float,
          "max_reps": int, "seed": int, "jobs": int, "out": str, "fresh": bool}


#: the games ``modelprivacy play`` runs: the arms races (RoundGames) and property-inference experiments
PLAYABLE = {"stealing-race": StealingArmsRace, "property-race": ArmsRace, "property-inference": CPIExperiment}
PLAY_DEFAULTS = {"reps": 3, "seed": 0, "jobs": 1, "out": "play_results.csv", "fresh": False}
_PLAY_TYPES = {"reps": int, "seed": int, "jobs": int, "out": str, "fresh": bool}


class UsageError(ValueError):
    """A mistake of the user (reported as one ``error:`` line)."""


def _version():
    try:
        return version("modelprivacy")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return __version__


def _simulate_parser(sub):
    p = sub.add_parser(
        "simulate",
        help="simulate a model stealing game and print PL_n and U_n per defense",
        description="Simulate a model stealing game. Values not given come from --config, then from defaults "
        "(the polynomial game of the paper at n=100, sigma=0.5, 100 replications).",
    )
    p.add_argument("--config", help="TOML file with any of the keys below (flags override it)")
    p.add_argument("--game", choices=sorted(GAMES), help="preset game (default poly)")
    p.add_argument("--attack", help="attacker registry name (default: the game's attacker)")
    p.add_argument("--defense", nargs="+", help="defense registry names (default: the game's baselines and design)")
    p.add_argument("--n", nargs="+", type=int, help="query budgets (default 100)")
    p.add_argument("--sigma", nargs="+", type=float, help="noise levels, U_n = sigma^2 (default 0.5)")
    p.add_argument("--reps", type=int, help="replications per setting (default 100; the minimum with --precision)")
    p.add_argument("--precision", type=float,
                   help="target relative half-width of the 95%% interval (e.g. 0.05): add replications until met")
    p.add_argument("--max-reps", dest="max_reps", type=int, help="largest replication count with --precision")
    p.add_argument("--seed", type=int, help="base seed (default 0)")
    p.add_argument("--jobs", type=int, help="local workers (default 1; -1 = all cores)")
    p.add_argument("--out", help="CSV of per-replication records; resumed if it exists (default simulate_results.csv)")
    p.add_argument("--fresh", action="store_true", default=None,
                   help="recompute into a new records file (the old one is kept as <out>.old)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _check_type(key, value, where, types=_TYPES):
    kind = types[key]
    ok = (lambda v, t: isinstance(v, t) and not (t in (int, float) and isinstance(v, bool))
          or (t is float and isinstance(v, int) and not isinstance(v, bool)))
    if isinstance(kind, list):
        if not isinstance(value, list):
            value = [value]
        if not value or not all(ok(v, kind[0]) for v in value):
            raise UsageError(f"{where}: '{key}' must be a {kind[0].__name__} or a list of them, got {value!r}.")
        return value
    if not ok(value, kind):
        raise UsageError(f"{where}: '{key}' must be a {kind.__name__}, got {value!r}.")
    return value


def _read_toml(path):
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise UsageError(f"--config file {path!r} does not exist.") from None
    except IsADirectoryError:
        raise UsageError(f"--config {path!r} is a folder, not a TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config file {path!r} is not valid TOML: {exc}") from None


def _load_config(path):
    cfg = _read_toml(path)
    unknown = sorted(set(cfg) - set(SIMULATE_DEFAULTS))
    if unknown:
        raise UsageError(f"unknown keys in {path}: {unknown}; allowed: {sorted(SIMULATE_DEFAULTS)}.")
    return {k: _check_type(k, v, path) for k, v in cfg.items()}


def _check_output_file(path, what):
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{what} {path!r} is a folder, not a file.")
    if not os.path.isdir(folder):
        raise UsageError(f"the folder of {what} {path!r} does not exist.")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"{what} {path!r} cannot be written (permission denied).")


def run_simulate(args):
    opts = dict(SIMULATE_DEFAULTS)
    cfg = _load_config(args.config) if args.config else {}
    opts.update(cfg)
    for key in SIMULATE_DEFAULTS:
        val = getattr(args, key, None)
        if val is not None:
            opts[key] = val
    game = opts["game"]
    if game not in GAMES:
        raise UsageError(f"unknown game {game!r}; known: {sorted(GAMES)}.")
    _check_output_file(opts["out"], "--out")
    attack = opts["attack"] or GAME_ATTACKERS[game][0]
    names = list(opts["defense"])
    if args.defense is None and "defense" not in cfg:
        names = list(GAME_DEFENSES[game])  # the game's baselines and its designed defense
    attacker = make_attacker(attack)
    preset = game_defenses(game)
    defenses = {name: preset[name] if name in preset else make_defense(name) for name in names}
    base = make_game(game, n=opts["n"][0], defense=NoDefense(), attacker=attacker)
    cells = grid(base, defenses=defenses, n=opts["n"], sigma=opts["sigma"], attackers={attack: attacker})
    precision = None
    if opts["precision"] is not None:
        if not 0 < opts["precision"] < 1:
            raise UsageError(f"--precision (rel_half_width) must be in (0, 1), got {opts['precision']!r}.")
        precision = Precision(rel_half_width=opts["precision"], abs_half_width=1e-12, min_reps=max(opts["reps"], 3),
                              max_reps=max(opts["max_reps"], opts["reps"], 3))
    t0 = time.perf_counter()
    res = sweep(cells, reps=opts["reps"], seed=opts["seed"], precision=precision, out=opts["out"],
                fresh=bool(opts["fresh"]), n_jobs=opts["jobs"], progress=not args.quiet, desc="simulate")
    elapsed = time.perf_counter() - t0
    print(f"game={game} attacker={attack} seed={opts['seed']}  ({elapsed:.1f} s)")
    print(res.report)
    print("privacy_level = mean stealing error (95% bootstrap-t interval), utility_loss = mean U_n, "
          "PL/U = privacy gain")
    print(res.table(by=("defense", "n", "sigma")))
    return 0


def _play_parser(sub):
    p = sub.add_parser(
        "play",
        help="play an arms race or a property-inference experiment and print its summary",
        description="Play independent replications of one game of the engine: an arms race (printed round "
        "by round) or a property-inference experiment. Parameters of the game go in --set KEY=VALUE (TOML "
        "values; bare words are strings) or a --config TOML file; --params lists them with their defaults. "
        "Parameters that take an object (a target model, a defense) keep their defaults here; set them in Python.",
    )
    p.add_argument("game", choices=sorted(PLAYABLE), help="which game")
    p.add_argument("--set", dest="params", nargs="+", metavar="KEY=VALUE", default=[],
                   help="game parameters as TOML values (none for None), e.g. --set game=poly n=100 sigma=0.5 max_rounds=4")
    p.add_argument("--params", dest="list_params", action="store_true", help="list the game's parameters and exit")
    p.add_argument("--config", help="TOML file with game parameters and any of reps, seed, jobs, out, fresh")
    p.add_argument("--reps", type=int, help="independent replications (races) (default 3)")
    p.add_argument("--seed", type=int, help="base seed (default 0)")
    p.add_argument("--jobs", type=int, help="local workers (default 1; -1 = all cores)")
    p.add_argument("--out", help="CSV of records, resumed if it exists; an arms race saves its state after each "
                   "round to <out>.rounds/ (default play_results.csv)")
    p.add_argument("--fresh", action="store_true", default=None,
                   help="recompute into a new records file (the old one is kept as <out>.old)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _toml_value(key, text):
    """A --set value: TOML (numbers, booleans, quoted strings, arrays), else the bare word as a string."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if any(c in text for c in "[]{}\"'="):
            raise UsageError(f"--set {key}={text}: not a TOML value (quote strings, write arrays as [1, 2]).") from None
        value = text
    return _param_value(value)


def _param_value(value):
    """A TOML value as a game parameter: arrays become tuples, the word ``none`` (TOML has no null) None."""
    if isinstance(value, str) and value.lower() == "none":
        return None
    return tuple(value) if isinstance(value, list) else value


def _game_from(args, cls):
    """The game and run options from --config, --set and the flags (flags win)."""
    defaults = cls().get_params(deep=False)
    cfg = _read_toml(args.config) if args.config else {}
    opts, params = dict(PLAY_DEFAULTS), {}
    for key, value in cfg.items():
        if key in PLAY_DEFAULTS:
            opts[key] = _check_type(key, value, args.config, _PLAY_TYPES)
        elif key in defaults:
            params[key] = _param_value(value)
        else:
            raise UsageError(f"unknown key {key!r} in {args.config}; {args.game} parameters: {sorted(defaults)}; "
                             f"run options: {sorted(PLAY_DEFAULTS)}.")
    for item in args.params:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}.")
        if key not in defaults:
            raise UsageError(f"--set: {args.game} has no parameter {key!r}; parameters: {sorted(defaults)}.")
        params[key] = _toml_value(key, text)
    for key in PLAY_DEFAULTS:
        val = getattr(args, key, None)
        if val is not None:
            opts[key] = val
    game = cls(**params)
    try:
        game._validate_params()
    except (InvalidParameterError, ValueError, TypeError) as exc:
        raise UsageError(f"{args.game}: {exc}") from None
    return game, opts


#: fields that are proportions: their intervals are cut to [0, 1] (the cut keeps the coverage)
_PROPORTIONS = ("accuracy", "auc", "ece", "agreement", "flip_rate")


def _interval(row, metric):
    low, high = row[metric + "_low"], row[metric + "_high"]
    ok = np.isfinite(low) and np.isfinite(high)
    if ok and metric.endswith(_PROPORTIONS):
        low, high = max(low, 0.0), min(high, 1.0)
    return f"{row[metric]:.4g} " + (f"[{low:.4g}, {high:.4g}]" if ok else "(too few replications)")


def run_play(args):
    cls = PLAYABLE[args.game]
    if args.list_params:
        for key, value in cls().get_params(deep=False).items():
            print(f"{key:<22} {value!r}")
        return 0
    game, opts = _game_from(args, cls)
    _check_output_file(opts["out"], "--out")
    t0 = time.perf_counter()
    res = sweep([Cell(game)], reps=opts["reps"], seed=opts["seed"], out=opts["out"], fresh=bool(opts["fresh"]),
                n_jobs=opts["jobs"], progress=not args.quiet, desc=args.game)
    print(f"{args.game}: {opts['reps']} replications, seed={opts['seed']}  ({time.perf_counter() - t0:.1f} s)")
    print(res.report)
    metric = game.primary_metric
    others = [f for f in game.summary_fields if f != metric]
    if isinstance(game, RoundGame):
        reasons = {}
        for r in res:
            if r["stop_reason"]:
                reasons[r["stop_reason"]] = reasons.get(r["stop_reason"], 0) + 1
        print("stopped: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
        print(f"{'round':>5} {'races':>5}  {metric + ' [95% interval]':>40}" + "".join(f" {f:>18}" for f in others))
        for row in res.summary(by=("round",), metric=metric):
            recs = [r for r in res if r["round"] == row["round"]]
            means = "".join(f" {np.mean([r[f] for r in recs]):18.4g}" for f in others)
            print(f"{row['round']:5d} {row['reps']:5d}  {_interval(row, metric):>40}{means}")
    else:
        print(f"{'field':<34} mean [95% interval] over {len(res)} replications")
        for f in [metric, *others]:
            row = res.summary(by=(), metric=f)[0]
            print(f"{f:<34} {_interval(row, f)}")
    return 0


def _figures_parser(sub):
    p = sub.add_parser("figures", help="regenerate the paper's figures (PNG, PDF and CSV per figure)")
    p.add_argument("names", nargs="*", help="figure names (default: all); see --list")
    p.add_argument("--list", action="store_true", help="list the figure names and exit")
    p.add_argument("--quick", action="store_true", help="few replications, for a smoke run (never into paper_figures)")
    p.add_argument("--reps", type=int, help="fixed replications (default: until each figure's precision is met)")
    p.add_argument("--jobs", type=int, default=1, help="local workers (default 1)")
    p.add_argument("--out", help="output folder (default paper_figures; quick_figures with --quick)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://host:port, or 'local' for a LocalCluster")
    p.add_argument("--fresh", action="store_true", help="recompute every record (old records files are kept as .old)")
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
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = args.out or ("quick_figures" if args.quick else "paper_figures")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a file, not a folder.")
    os.makedirs(out, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out {out!r} cannot be written (permission denied).")
    rows = []
    for name, func in zip(names, funcs):
        t0 = time.perf_counter()
        try:
            result = func(out_dir=out, quick=args.quick, reps=args.reps, seed=args.seed, n_jobs=args.jobs,
                          scheduler=args.scheduler, fresh=args.fresh)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"{name}: {exc}") from None
        reports = result.reports
        counts = [sum(getattr(r, k) for r in reports) for k in ("reused", "computed", "ignored")]
        rows.append((name, time.perf_counter() - t0, counts if reports else None))
    print(f"{'figure':<24} {'seconds':>8}  records (reused / computed / ignored)")
    for name, sec, counts in rows:
        rec = "  ".join(f"{c:>7}" for c in counts) if counts else "      -  (no replications)"
        print(f"{name:<24} {sec:8.1f}  {rec}")
    print(f"{'total':<24} {sum(s for _, s, _ in rows):8.1f}   -> {out}/")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="modelprivacy", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _simulate_parser(sub)
    _play_parser(sub)
    _figures_parser(sub)
    args = parser.parse_args(argv)
    commands = {"simulate": run_simulate, "play": run_play, "figures": run_figures}
    try:
        return commands[args.command](args)
    except (UsageError, ValueError, TypeError, KeyError, OSError, ConnectionError, RecordsConflictError,
            RecordsLockedError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        print(f"error: out of memory: {exc or 'the setting does not fit in memory'}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
