import csv

import pytest

from modelprivacy.cli import main


def test_simulate_flags_write_csv_and_table(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert main(["simulate", "--defense", "none", "constant", "--n", "50", "--sigma", "0.3", "--reps", "3", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "constant" in text and "PL/U" in text
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 6
    const = [r for r in rows if r["defense"] == "constant"]
    assert all(abs(float(r["stealing_error"]) - 0.09) < 1e-9 for r in const)


def test_simulate_from_toml(tmp_path, capsys):
    cfg = tmp_path / "game.toml"
    out = tmp_path / "t.csv"
    cfg.write_text(f'game = "krr"\ndefense = ["iid"]\nn = [20]\nsigma = 0.2\nreps = 2\nout = "{out}"\n')
    assert main(["simulate", "--config", str(cfg), "--quiet"]) == 0
    assert "game=krr" in capsys.readouterr().out
    assert len(list(csv.DictReader(open(out)))) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--sigma", "-1"], "'sigma' parameter of"),
        (["--defense", "foo"], "unknown defense 'foo'"),
        (["--attack", "bar"], "unknown attacker 'bar'"),
        (["--n", "1"], "n=1 is below"),
        (["--reps", "0"], "reps must be >= 1"),
    ],
)
def test_simulate_bad_input(tmp_path, argv, message):
    with pytest.raises(SystemExit, match=message):
        main(["simulate", "--out", str(tmp_path / "x.csv"), "--quiet", *argv])


def test_bad_config(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("budget = 3\n")
    with pytest.raises(SystemExit, match="unknown keys"):
        main(["simulate", "--config", str(cfg)])
    with pytest.raises(SystemExit, match="does not exist"):
        main(["simulate", "--config", str(tmp_path / "none.toml")])
