"""Notebooks: each ``.ipynb`` is committed executed and paired with a jupytext percent twin (``.py``).

The twin is the reviewed source. The tests execute every notebook from its
twin, and fail when the committed notebook is out of sync with its twin (a
cell edited in the twin but not re-executed), or was committed without its
outputs. Regenerate a notebook with::

    jupytext --to ipynb --execute --run-path /tmp notebooks/<name>.py
"""

import pathlib
import shutil

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).parent.parent / "notebooks"
TWINS = sorted(HERE.glob("*.py"))
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))


def _sources(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def sync_problems(twin, ipynb):
    """Reasons why the committed ``ipynb`` does not match its ``twin`` (empty when in sync)."""
    if not ipynb.exists():
        return [f"{ipynb.name} is missing: execute {twin.name}"]
    from_twin = jupytext.read(twin)
    committed = nbformat.read(ipynb, as_version=4)
    problems = []
    if _sources(from_twin) != _sources(committed):
        problems.append(f"{ipynb.name} was not re-executed after {twin.name} changed")
    code = [c for c in committed.cells if c.cell_type == "code"]
    if any(c.get("execution_count") is None for c in code):
        problems.append(f"{ipynb.name} has code cells that were not executed")
    if any(o.get("output_type") == "error" for c in code for o in c.get("outputs", [])):
        problems.append(f"{ipynb.name} was committed with an error output")
    return problems


def test_every_notebook_has_a_twin_and_every_twin_a_notebook():
    assert {p.stem for p in TWINS} == {p.stem for p in NOTEBOOKS}
    assert len(TWINS) >= 4


@pytest.mark.parametrize("twin", TWINS, ids=[p.stem for p in TWINS])
def test_committed_notebook_is_in_sync_with_its_twin_and_shows_a_figure(twin):
    ipynb = twin.with_suffix(".ipynb")
    assert not sync_problems(twin, ipynb)
    nb = nbformat.read(ipynb, as_version=4)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{ipynb.name} shows no figure"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "Runs in" in first.source, \
        "every notebook opens with what it shows and how long it takes"


def test_sync_check_detects_an_edited_twin(tmp_path):
    twin = TWINS[0]
    shutil.copy(twin, tmp_path / twin.name)
    shutil.copy(twin.with_suffix(".ipynb"), tmp_path / twin.with_suffix(".ipynb").name)
    copy = tmp_path / twin.name
    assert not sync_problems(copy, copy.with_suffix(".ipynb"))
    copy.write_text(copy.read_text().replace("import ", "import  ", 1) + "\n# %%\nprint('a new cell')\n")
    assert sync_problems(copy, copy.with_suffix(".ipynb"))


@pytest.mark.parametrize("twin", TWINS, ids=[p.stem for p in TWINS])
def test_notebook_executes_from_its_twin(twin, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = jupytext.read(twin)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
