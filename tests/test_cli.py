"""The command line: games, configuration files, and one ``error:`` line for every mistake."""

import csv
import os
import stat
import subprocess
import sys

import pytest

from modelprivacy.cli import main


def test_simulate_flags_write_csv_and_table(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert main(["simulate", "--defense", "none", "constant", "--n", "50", "--sigma", "0.3", "--reps", "3",
                 "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "constant" in text and "PL/U" in text and "0 reused, 6 computed" in text
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 6
    const = [r for r in rows if r["defense"] == "constant"]
    assert all(abs(float(r["stealing_error"]) - 0.09) < 1e-9 for r in const)
    assert all(r["numpy"] and r["scikit-learn" if "scikit-learn" in r else "sklearn"] for r in rows)
    # again: every record is reused
    assert main(["simulate", "--defense", "none", "constant", "--n", "50", "--sigma", "0.3", "--reps", "3",
                 "--out", str(out), "--quiet"]) == 0
    assert "6 reused, 0 computed" in capsys.readouterr().out


def test_simulate_from_toml(tmp_path, capsys):
    cfg = tmp_path / "game.toml"
    out = tmp_path / "t.csv"
    cfg.write_text(f'game = "krr"\ndefense = ["iid"]\nn = [20]\nsigma = 0.2\nreps = 2\nout = "{out}"\n')
    assert main(["simulate", "--config", str(cfg), "--quiet"]) == 0
    assert "game=krr" in capsys.readouterr().out
    assert len(list(csv.DictReader(open(out)))) == 2


def test_simulate_with_a_precision_target(tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["simulate", "--defense", "iid", "--reps", "20", "--precision", "0.2", "--out", str(out),
                 "--quiet"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) >= 20


def _bad(tmp_path):
    """(label, argv or TOML text, expected words): mistakes a user makes at 2 a.m."""
    missing = str(tmp_path / "no" / "such" / "r.csv")
    folder = str(tmp_path)
    return [
        ("negative sigma", ["--sigma", "-1"], "'sigma' parameter of"),
        ("huge sigma", ["--sigma", "1e200"], "'sigma' parameter of"),
        ("nan sigma", ["--sigma", "nan"], "'sigma' parameter of"),
        ("unknown defense", ["--defense", "foo"], "unknown defense 'foo'"),
        ("unknown attacker", ["--attack", "bar"], "unknown attacker 'bar'"),
        ("tiny budget", ["--n", "1"], "n=1 is below"),
        ("zero reps", ["--reps", "0"], "'reps' parameter of sweep"),
        ("bad jobs", ["--jobs", "-5"], "'n_jobs' parameter of sweep"),
        ("negative seed", ["--seed", "-1"], "'seed' parameter of sweep"),
        ("zero precision", ["--precision", "0"], "rel_half_width"),
        ("missing folder", ["--out", missing], "does not exist"),
        ("folder as file", ["--out", folder], "is a folder"),
        ("missing config", ["--config", str(tmp_path / "none.toml")], "does not exist"),
        ("config is a folder", ["--config", folder], "is a folder"),
        ("toml unknown key", 'budget = 3\n', "unknown keys"),
        ("toml out is a number", 'out = 1\n', "'out' must be a str"),
        ("toml reps is text", 'reps = "ten"\n', "'reps' must be a int"),
        ("toml n is float", 'n = [10.5]\n', "'n' must be a int"),
        ("toml sigma is text", 'sigma = "big"\n', "'sigma' must be a float"),
        ("toml bad syntax", 'game = \n', "not valid TOML"),
        ("toml empty defense list", 'defense = []\n', "'defense' must be a str"),
        ("toml fresh is text", 'fresh = "yes"\n', "'fresh' must be a bool"),
    ]


def test_bad_command_lines_and_toml_give_one_error_line(tmp_path, capsys):
    for label, spec, words in _bad(tmp_path):
        if isinstance(spec, str):
            cfg = tmp_path / f"{label.replace(' ', '_')}.toml"
            cfg.write_text(spec)
            argv = ["simulate", "--config", str(cfg), "--out", str(tmp_path / "x.csv"), "--quiet"]
        else:
            argv = ["simulate", "--out", str(tmp_path / "x.csv"), "--quiet", *spec]
        assert main(argv) == 2, label
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err and "Traceback" not in err, (label, err)
        assert err.count("\n") == 1, (label, err)


def test_unwritable_output_is_an_error_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions: make the path a file's child instead
            target = str(tmp_path / "file.txt" / "r.csv")
            (tmp_path / "file.txt").write_text("x")
        else:
            target = str(ro / "r.csv")
        assert main(["simulate", "--out", target, "--quiet", "--reps", "1"]) == 2
        assert capsys.readouterr().err.startswith("error: ")
    finally:
        ro.chmod(stat.S_IRWXU)


def test_argparse_mistakes_and_the_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--n", "ten"])
    assert exc.value.code == 2 and "invalid int value" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("modelprivacy ")


def test_the_installed_command_prints_no_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "modelprivacy", "simulate", "--sigma", "-2", "--out",
                          str(tmp_path / "r.csv")], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("error: ") and "Traceback" not in out.stderr


RACE = ["play", "stealing-race", "--set", "game=poly", "n=30", "reps=2", "max_rounds=2", "n_emp=60", "n_eval=100",
        "--quiet"]


def test_race_plays_resumes_and_prints_rounds(tmp_path, capsys):
    out = tmp_path / "race.csv"
    argv = RACE + ["--reps", "3", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    rows = list(csv.DictReader(open(out)))
    races = {r["rep"] for r in rows}
    assert races == {"0", "1", "2"} and f"0 reused, {len(rows)} computed" in text
    assert "worst_case_pool [95% interval]" in text and "stopped:" in text
    assert all(r["stop_reason"] in ("converged", "max_rounds") for r in rows if r["stop_reason"])
    assert main(argv) == 0
    assert f"{len(rows)} reused, 0 computed" in capsys.readouterr().out
    assert not (tmp_path / "race.csv.rounds").exists()
    assert main(["play", "stealing-race", "--params"]) == 0
    assert "max_rounds" in capsys.readouterr().out


def test_race_from_toml(tmp_path, capsys):
    cfg = tmp_path / "race.toml"
    out = tmp_path / "r.csv"
    cfg.write_text(f'game = "poly"\nn = 30\nreps = 2\nmax_rounds = 1\nn_emp = 60\nn_eval = 100\nseed = 4\n'
                   f'out = "{out}"\n')
    assert main(["play", "stealing-race", "--config", str(cfg), "--reps", "1", "--quiet"]) == 0
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 1 and rows[0]["seed"] == "4" and rows[0]["stop_reason"] in ("converged", "max_rounds")


@pytest.mark.parametrize("argv, message", [
    (["play", "stealing-race", "--set", "nosuch=1"], "has no parameter 'nosuch'"),
    (["play", "stealing-race", "--set", "n"], "expects KEY=VALUE"),
    (["play", "stealing-race", "--set", "n=-3"], "'n' parameter of StealingArmsRace"),
    (["play", "stealing-race", "--set", "game=linear"], "'game' parameter of StealingArmsRace"),
    (["play", "stealing-race", "--set", "initial=nobody"], "is not a family member"),
    (["play", "stealing-race", "--set", "sigma=[1,"], "not a TOML value"),
    (["play", "stealing-race", "--set", "family=[]"], "family must not be empty"),
    (["play", "stealing-race", "--reps", "0"], "'reps' parameter of sweep"),
])
def test_race_bad_input_is_one_error_line(argv, message, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path / "r.csv"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err


def test_property_inference_plays_the_two_world_game_with_none_parameters(tmp_path, capsys):
    # TOML has no null: the word none sets a parameter to None (bins=None is the two-world game)
    out = tmp_path / "pi.csv"
    assert main(["play", "property-inference", "--set", "bins=none", "property_values=[0.2, 0.4]",
                 "property_range=none", 'attacks=["black_logistic"]', "n_shadows=20", "n_targets=10", "n_train=100",
                 "--reps", "2", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    acc = next(line for line in text.splitlines() if line.startswith("black_logistic_accuracy"))
    low, high = (float(v) for v in acc.split("[")[1].rstrip("]").split(","))
    assert 0.0 <= low <= high <= 1.0   # a proportion's interval stays inside [0, 1]
    with open(out) as fh:
        assert len(fh.readlines()) == 3
