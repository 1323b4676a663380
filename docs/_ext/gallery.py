"""Figure gallery and notebooks, discovered from the files at build time.

Gallery
    The page ``gallery`` (config ``gallery_page``) holds the marker
    ``{paper-figures}`` on a line of its own; at ``source-read`` it is replaced
    by the text of ``<gallery_dir>/README.md`` (the figures' theory statements,
    section by section) in which every image line becomes a figure with links to
    the PNG, its PDF and its plotted data (``<name>.csv``) when they exist.
    Every ``*.png`` in the folder is shown: one the README does not show gets a
    warning (so a ``-W`` build fails until its theory statement is written) and
    is listed at the end.

Notebooks
    Every ``notebooks/*.ipynb`` whose name does not start with ``_`` is copied
    at ``builder-inited`` into the generated folder ``<srcdir>/notebooks/``
    (stale copies removed); MyST-NB renders them from their stored outputs
    (``nb_execution_mode = "off"``).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

MARKER = "{paper-figures}"
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+\.png)\)")


def _figure(rel: str, folder: Path, name: str, alt: str) -> str:
    links = [f"{{download}}`PNG <{rel}/{name}.png>`"]
    if (folder / f"{name}.pdf").exists():
        links.append(f"{{download}}`PDF <{rel}/{name}.pdf>`")
    if (folder / f"{name}.csv").exists():
        links.append(f"{{download}}`plotted data <{rel}/{name}.csv>`")
    return (f"```{{figure}} {rel}/{name}.png\n:alt: {alt or name}\n:name: fig-{name}\n:width: 80%\n\n"
            f"`{name}`: {' · '.join(links)}\n```\n")


def _expand(pattern: str) -> list[str]:
    """Expand ``a_{x,y}_b`` brace alternatives (nested or repeated)."""
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    return [e for alt in m.group(1).split(",")
            for e in _expand(pattern[: m.start()] + alt + pattern[m.end():])]


def _mentioned(text: str, pngs: list[str]) -> list[str]:
    """PNG names a section's text names in code spans: ``name``, ``a_{x,y}``, ``clf_*``."""
    names = []
    for span in re.findall(r"`([^`]+)`", text):
        for token in re.findall(r"[\w{},*.-]+", span):
            for pat in _expand(token):
                pat = pat.removesuffix(".png")
                names += [p for p in pngs if fnmatch.fnmatchcase(p, pat) and p not in names]
    return names


def gallery_markdown(folder: Path, docdir: Path) -> tuple[str, list[str]]:
    """The gallery's MyST text, and the PNGs the README neither shows nor names.

    The README is split into sections at its ``##`` headings. An image line
    becomes a figure; a PNG that a section names in a code span (``poly_n_{AIC,BIC,BC}``,
    ``clf_*``) without showing it is shown at the end of that section, under
    the same theory statement.
    """
    rel = Path(os.path.relpath(folder, docdir)).as_posix()
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    pngs = sorted(p.stem for p in folder.glob("*.png"))
    sections: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("# "):
            continue  # the README's title; the gallery page has its own
        if re.match(r"##\s", line):
            sections.append([])
        sections[-1].append(line)
    shown: set[str] = set()
    out: list[str] = []
    for lines in sections:
        body = "\n".join(lines)
        for line in lines:
            images = _IMAGE.findall(line)
            if images and not _IMAGE.sub("", line).strip():
                for alt, src in images:
                    shown.add(Path(src).stem)
                    out.append(_figure(rel, folder, Path(src).stem, alt))
                continue
            if images:  # an image inside running text: keep it, fix its path
                line = _IMAGE.sub(lambda m: f"![{m.group(1)}]({rel}/{m.group(2)})", line)
                shown.update(Path(src).stem for _, src in images)
            out.append(line)
        if lines and lines[0].startswith("##"):
            extra = [p for p in _mentioned(body, pngs) if p not in shown]
            if extra:
                out.append("\nThe other figures of this section, under the same theory statement:\n")
                for name in extra:
                    shown.add(name)
                    out.append(_figure(rel, folder, name, name))
    missing = [p for p in pngs if p not in shown]
    if missing:
        out.append("\n## Figures without a theory statement\n")
        out += [_figure(rel, folder, name, name) for name in missing]
    return "\n".join(out) + "\n", missing


def fill_gallery(app, docname, source):
    if docname != app.config.gallery_page or MARKER not in source[0]:
        return
    folder = (Path(app.confdir) / app.config.gallery_dir).resolve()
    docdir = (Path(app.srcdir) / docname).parent
    if not folder.is_dir():
        logger.warning("gallery: no figure folder %s", folder, type="gallery")
        return
    text, missing = gallery_markdown(folder, docdir)
    for name in missing:
        logger.warning("gallery: %s/%s.png has no theory statement: %s/README.md neither shows "
                       "nor names it", folder.name, name, folder.name,
                       location=docname, type="gallery")
    env = app.env
    for path in [folder / "README.md", *folder.glob("*.png")]:
        env.note_dependency(str(path))
    source[0] = source[0].replace(MARKER, text)


def copy_notebooks(app):
    src = (Path(app.confdir) / app.config.notebooks_dir).resolve()
    dst = Path(app.srcdir) / "notebooks"
    dst.mkdir(exist_ok=True)
    wanted = {p.name: p for p in sorted(src.glob("*.ipynb")) if not p.name.startswith("_")}
    for old in dst.glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    for name, path in wanted.items():
        target = dst / name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copyfile(path, target)


def setup(app):
    app.add_config_value("gallery_page", "gallery", "env")
    app.add_config_value("gallery_dir", "../paper_figures", "env")
    app.add_config_value("notebooks_dir", "../notebooks", "env")
    app.connect("source-read", fill_gallery)
    app.connect("builder-inited", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
