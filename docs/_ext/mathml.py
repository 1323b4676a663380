"""Render Sphinx math to MathML at build time (no JavaScript, no LaTeX installation).

Registers the HTML math renderer ``mathml`` (select it with
``html_math_renderer = "mathml"``): every inline ``math`` and display
``math_block`` node is converted by the pure-Python ``latex2mathml`` package
into a ``<math>`` element, which browsers render natively. The TeX source is
kept in an ``<annotation encoding="application/x-tex">`` (copyable, hidden).

The converter passes commands it does not know through as text. So that no
unrendered TeX reaches a page silently, the renderer warns (and a ``-W`` build
fails) when

* the output still contains a backslash outside the annotation (an
  unsupported or misspelt command), or
* the TeX holds a control character such as a tab or a backspace: a
  ``\\top``, ``\\text`` or ``\\beta`` in a docstring without the ``r`` prefix
  became ``<TAB>op``, ``<TAB>ext`` or ``<BS>eta``.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

# valid LaTeX that latex2mathml does not know, rewritten to equivalents it knows
_REWRITES = [
    (re.compile(r"\\(arg|deg|hom|ker|Pr)(?![A-Za-z])"), r"\\operatorname{\1}"),
]
# ``\\[2pt]``: extra row spacing, which latex2mathml would print as text
_ROW_SPACING = re.compile(r"\\\\\s*\[[^\]]*\]")
# control characters left by Python escapes in non-raw docstrings (\a, \b, \f, \v always; a tab or
# carriage return only when a letter follows, as in \top, \text, \rho, \right)
_LOST_ESCAPE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|[\t\r][A-Za-z]")
_ENV = re.compile(r"\\begin\{")
# alignment environments latex2mathml does not lay out (it prints their ``&``): rewritten as arrays
_ALIGN_ENVS = re.compile(r"\\begin\{(aligned|align\*?|split|gathered|gather\*?|equation\*?)\}")


def _top_level(body: str):
    """Split ``body`` into rows at top-level ``\\\\`` and count top-level ``&`` per row."""
    rows, cells, depth, i, start = [], 0, 0, 0, 0
    counts = []
    while i < len(body):
        if body.startswith("\\begin{", i):
            depth += 1
        elif body.startswith("\\end{", i):
            depth -= 1
        ch = body[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "\\" and depth == 0 and body.startswith("\\\\", i):
            rows.append(body[start:i])
            counts.append(cells)
            cells, i, start = 0, i + 2, i + 2
            continue
        elif ch == "\\":
            i += 2
            continue
        elif ch == "&" and depth == 0:
            cells += 1
        i += 1
    rows.append(body[start:])
    counts.append(cells)
    return rows, counts


def _rewrite_alignments(tex: str) -> str:
    """``aligned``/``align``/``split`` -> ``array{rlrl...}``, ``gather(ed)`` -> ``array{c}``,
    ``equation`` -> its content (innermost first, so nested environments work)."""
    while True:
        m = None
        for m in _ALIGN_ENVS.finditer(tex):
            pass  # the last opening is innermost among the matches to its right
        if m is None:
            return tex
        env = m.group(1)
        end = tex.find("\\end{%s}" % env, m.end())
        if end < 0:
            raise MathMLError(f"\\begin{{{env}}} without \\end{{{env}}} in {tex!r}")
        body = tex[m.end():end]
        if env.startswith("equation"):
            new = "{" + body + "}"
        else:
            _, counts = _top_level(body)
            ncols = max(counts) + 1
            spec = "c" if env.startswith("gather") else ("rl" * ncols)[:ncols]
            new = "\\begin{array}{%s}%s\\end{array}" % (spec, body)
        tex = tex[: m.start()] + new + tex[end + len("\\end{%s}" % env):]


class MathMLError(ValueError):
    pass


def _prepare(tex: str) -> str:
    bad = _LOST_ESCAPE.search(tex)
    if bad:
        raise MathMLError(
            f"control character {bad.group()[0]!r} in the TeX {tex!r}: a backslash escape was "
            "lost (a docstring without the r prefix?)"
        )
    tex = _ROW_SPACING.sub(r"\\\\", tex)
    tex = _rewrite_alignments(tex)
    for pattern, repl in _REWRITES:
        tex = pattern.sub(repl, tex)
    return tex.strip()


def tex_to_mathml(tex: str, display: str = "inline") -> str:
    """Convert TeX to a ``<math>`` element; raise :class:`MathMLError` if TeX would leak."""
    source = tex
    tex = _prepare(tex)
    try:
        ml = convert(tex, display=display)
    except Exception as exc:  # noqa: BLE001 - any converter failure is a build warning
        raise MathMLError(f"latex2mathml cannot convert {source!r}: {exc!r}") from exc
    text = re.sub(r"<[^>]*>", " ", ml)
    leftover = re.findall(r"\\[A-Za-z]+|\\.", text) + re.findall(r"&(?!#?\w+;)", text)
    if leftover:
        raise MathMLError(f"unsupported TeX {sorted(set(leftover))} in {source!r}")
    head, _, rest = ml.partition(">")
    inner = rest[: rest.rfind("</math>")]
    return (f'{head}><semantics><mrow>{inner}</mrow><annotation encoding="application/x-tex">'
            f"{html.escape(source.strip())}</annotation></semantics></math>")


def _display_parts(latex: str) -> list[str]:
    """Split like Sphinx's MathJax renderer: blank-line separated equations, split lines aligned."""
    parts = [p for p in latex.split("\n\n") if p.strip()]
    out = []
    for part in parts:
        if ("\\\\" in part or "&" in part) and not _ENV.search(part):
            part = r"\begin{aligned}" + part + r"\end{aligned}"  # as Sphinx's split; becomes an array
        out.append(part)
    return out


def _render(self, node, tex, display):
    try:
        return tex_to_mathml(tex, display)
    except MathMLError as exc:
        logger.warning("%s", exc, location=node, type="mathml")
        return f'<code class="tex-unrendered">{html.escape(tex)}</code>'


def html_visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate"))
    self.body.append(_render(self, node, node.astext(), "inline"))
    self.body.append("</span>")
    raise nodes.SkipNode


def html_visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    latex = node.astext()
    # amsmath environments at top level (MyST's amsmath extension, ``nowrap``) are rewritten
    # like any other alignment by _prepare
    for part in _display_parts(latex):
        self.body.append(_render(self, node, part, "block"))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (html_visit_math, None), (html_visit_displaymath, None))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
