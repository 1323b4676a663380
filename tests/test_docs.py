"""The documentation site: it builds with warnings as errors, and it is complete.

One session fixture builds the site (``python -m sphinx -W -b html docs <tmp>``)
into a temporary folder; the tests then check the HTML:

(a) every name of every public module's ``__all__`` is listed on its module's
    API page and links to a full entry that exists;
(b) the theory page's equations are rendered MathML, with no TeX left over;
(c) the gallery shows and links every PNG of ``paper_figures/``;

plus the notebooks (rendered from stored outputs), the getting-started page (the
README's commands) and the build time. The build needs the ``docs`` extra
(``pip install -e ".[docs]"``); without it these tests fail, they do not skip.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import json
import pkgutil
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FIGURES = ROOT / "paper_figures"
NOTEBOOKS = ROOT / "notebooks"
PACKAGE = "modelprivacy"
# import names of the docs extra's distributions (pyproject.toml, [project.optional-dependencies] docs)
DOCS_MODULES = ("sphinx", "numpydoc", "myst_parser", "myst_nb", "latex2mathml", "furo")
BUILD_BUDGET_SECONDS = 180

sys.path.insert(0, str(DOCS / "_ext"))


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """Build the site once (warnings are errors); return (html folder, seconds)."""
    missing = [m for m in DOCS_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(
            f"the documentation tests need the docs extra, which is not installed (missing "
            f"{', '.join(missing)}): run  pip install -e \".[docs]\"",
            pytrace=False,
        )
    out = tmp_path_factory.mktemp("docs")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        pytest.fail(
            f"the documentation build failed (exit {proc.returncode}; warnings are errors):\n"
            f"{' '.join(cmd)}\n{proc.stderr[-12000:]}",
            pytrace=False,
        )
    return out / "html", seconds


def _public_modules():
    pkg = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(pkg.__path__, PACKAGE + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _article(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    start = text.find("<article")
    return text[start: text.find("</article>", start)] if start >= 0 else text


_IDS = {}


def _ids(page: Path) -> set:
    if page not in _IDS:
        _IDS[page] = set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))
    return _IDS[page]


# --------------------------------------------------------------------------- the build
def test_build_time(site):
    _, seconds = site
    assert seconds < BUILD_BUDGET_SECONDS, f"the docs build took {seconds:.0f} s (budget {BUILD_BUDGET_SECONDS} s)"


def test_no_mathjax_and_no_unrendered_math_anywhere(site):
    root, _ = site
    for page in root.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]*mathjax|MathJax\s*=", text, flags=re.I), \
            f"{page.relative_to(root)} loads MathJax"
        assert "tex-unrendered" not in text, f"{page.relative_to(root)} has math the renderer could not convert"


# --------------------------------------------------------------------------- (a) API reference
def test_every_public_name_is_in_the_api_reference(site):
    root, _ = site
    api = root / "api"
    missing, broken = [], []
    modules = _public_modules()
    assert len(modules) > 1
    for modname in modules:
        page = api / f"{modname}.html"
        assert page.exists(), f"no API page for public module {modname}"
        assert f"{modname}" in _ids(page) or f"module-{modname}" in _ids(page), f"{modname} not documented"
        body = _article(page)
        for name in getattr(importlib.import_module(modname), "__all__", ()):
            # the summary table lists the name as a link to its full entry
            link = re.search(
                r'<a class="reference internal" href="([^"]*)"[^>]*><code[^>]*><span class="pre">'
                + re.escape(name) + r"</span>", body)
            if link is None:
                missing.append(f"{modname}.{name}")
                continue
            target, _, anchor = html.unescape(link.group(1)).partition("#")
            target_page = page if not target else (page.parent / target).resolve()
            if not target_page.exists() or anchor not in _ids(target_page) or not anchor.endswith(name):
                broken.append(f"{modname}.{name} -> {link.group(1)}")
    assert not missing, f"public names missing from the API reference: {missing}"
    assert not broken, f"API summary links without a full entry: {broken}"


def test_api_reference_documents_objects_in_full(site):
    root, _ = site
    body = _article(root / "api" / "modelprivacy.bounds.html")
    # numpydoc sections and MathML from the docstrings
    assert "Parameters" in body and "Returns" in body
    assert "<math" in body


# --------------------------------------------------------------------------- (b) theory page
def _strip_math(body: str) -> tuple[str, list[str]]:
    maths = re.findall(r"<math\b.*?</math>", body, flags=re.S)
    return re.sub(r"<math\b.*?</math>", " ", body, flags=re.S), maths


def test_theory_page_has_rendered_equations_and_no_raw_tex(site):
    root, _ = site
    body = _article(root / "theory.html")
    rest, maths = _strip_math(body)
    assert len(maths) >= 100, f"only {len(maths)} <math> elements on the theory page"
    assert any('display="block"' in m for m in maths), "no display equations"
    text = html.unescape(re.sub(r"<[^>]+>", " ", rest))
    leaked = re.findall(r"\\[A-Za-z]+|\\[\[\]()]|\$\$?[^$\s]", text)
    assert not leaked, f"unrendered TeX on the theory page: {sorted(set(leaked))[:20]}"
    for m in maths:
        shown = re.sub(r"<annotation\b.*?</annotation>", "", m, flags=re.S)
        assert "\\" not in html.unescape(re.sub(r"<[^>]+>", " ", shown)), f"TeX left inside MathML: {m[:300]}"


def test_theory_page_states_each_bound_and_design_with_its_source(site):
    root, _ = site
    text = html.unescape(re.sub(r"<[^>]+>", " ", _article(root / "theory.html")))
    for heading in ["The game", "Privacy level", "Exact privacy level", "Rates", "Ceiling", "Frontier",
                    "Minimax two-point lower bound", "Order Disguise", "Kernel Confusion",
                    "Misleading Variable Projection", "Optimal linear smoother", "Robust design",
                    "Misleading Shift", "ReverseSigmoid"]:
        assert heading in text, f"the theory page has no {heading!r}"
    assert text.count("From the paper") >= 10 and text.count("Derived here") >= 10
    assert len(re.findall(r"spec §\d", text)) >= 15


# --------------------------------------------------------------------------- (c) gallery
def test_gallery_shows_and_links_every_figure(site):
    root, _ = site
    body = _article(root / "gallery.html")
    pngs = sorted(FIGURES.glob("*.png"))
    assert pngs, "no figures in paper_figures/"
    for png in pngs:
        assert re.search(r'<img [^>]*src="_images/' + re.escape(png.name) + '"', body), f"{png.name} not shown"
        assert re.search(r'<a class="reference download internal"[^>]*href="[^"]*/' + re.escape(png.name) + '"',
                         body), f"{png.name} not linked"
        assert f'<span class="pre">{png.stem}</span>' in body, f"{png.name} has no caption"


def test_gallery_keeps_the_theory_statements(site):
    root, _ = site
    text = html.unescape(re.sub(r"<[^>]+>", "", _article(root / "gallery.html")))
    text = re.sub(r"\s+", "", text)
    readme = (FIGURES / "README.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", readme, flags=re.M)
    assert sections, "paper_figures/README.md has no sections"
    for heading in sections:
        plain = re.sub(r"[`*]", "", heading)
        assert re.sub(r"\s+", "", plain) in text, f"README section {plain!r} missing from the gallery"


# --------------------------------------------------------------------------- notebooks, getting started
def test_notebooks_are_rendered_from_stored_outputs(site):
    root, _ = site
    notebooks = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if not p.name.startswith("_"))
    assert notebooks
    for nb in notebooks:
        page = root / "notebooks" / f"{nb.stem}.html"
        assert page.exists(), f"notebook {nb.name} not rendered"
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        images = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", ()))
        shown = len(re.findall(r"<img ", _article(page)))
        assert shown >= images, f"{nb.name}: {images} stored images, {shown} shown"


def test_getting_started_has_the_readme_commands(site):
    root, _ = site
    text = html.unescape(re.sub(r"<[^>]+>", "", _article(root / "getting-started.html")))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, flags=re.S).group(1)
    for command in [line.strip() for line in block.splitlines() if line.strip()]:
        assert command in text, f"README command {command!r} not on the getting-started page"
    assert "python -m sphinx -W -b html docs docs/_build/html" in text
    assert "simulate(tm, reps=200, seed=0)" in text


# --------------------------------------------------------------------------- the extensions
def test_mathml_renderer_refuses_to_leak_tex():
    if importlib.util.find_spec("latex2mathml") is None or importlib.util.find_spec("sphinx") is None:
        pytest.fail('the docs extra is not installed: run  pip install -e ".[docs]"', pytrace=False)
    import mathml

    ok = mathml.tex_to_mathml(r"\frac1m\|r_0 + Se\|^2 \le \bigl(\sqrt c + \|S\|_{op}\sqrt{nu/m}\bigr)^2")
    assert ok.startswith("<math") and "<mfrac>" in ok and 'encoding="application/x-tex"' in ok
    cases = mathml.tex_to_mathml(r"\begin{cases} a & b \\[2pt] c & d \end{cases}")
    assert "pt" not in cases.split("<annotation")[0]  # row spacing is not printed
    with pytest.raises(mathml.MathMLError, match="unsupported"):
        mathml.tex_to_mathml(r"\notacommand x")
    with pytest.raises(mathml.MathMLError, match="control character"):
        mathml.tex_to_mathml("c^\top u")  # a lost backslash: "\t" is a tab


def test_gallery_names_expand_braces_and_globs():
    if importlib.util.find_spec("sphinx") is None:
        pytest.fail('the docs extra is not installed: run  pip install -e ".[docs]"', pytrace=False)
    import gallery

    pngs = ["poly_n_AIC", "poly_n_BC", "poly_ratio_AIC", "clf_a", "clf_b", "krr_n"]
    assert gallery._mentioned("`poly_n_{AIC,BC}`, `clf_*`", pngs) == ["poly_n_AIC", "poly_n_BC", "clf_a", "clf_b"]
