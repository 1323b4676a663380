"""Sphinx configuration of the modelprivacy documentation.

Build (warnings are errors): ``python -m sphinx -W -b html docs docs/_build/html``.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import modelprivacy  # noqa: E402

project = "modelprivacy"
author = "the modelprivacy developers"
copyright = "the modelprivacy developers"
release = version = modelprivacy.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
    "apiref",    # API reference from every public module's __all__ (docs/_ext/apiref.py)
    "mathml",    # math rendered to MathML at build time (docs/_ext/mathml.py)
    "gallery",   # figure gallery and notebooks from the files (docs/_ext/gallery.py)
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "**.ipynb_checkpoints", "README.md"]
templates_path = []

# -- generated content ----------------------------------------------------------------
apiref_package = "modelprivacy"
apiref_dir = "api"
apiref_strict_docs = ["index", "getting-started", "theory", "responsive"]  # unresolved API references there are errors
gallery_page = "gallery"
gallery_dir = "../paper_figures"
notebooks_dir = "../notebooks"

# -- autodoc / numpydoc -----------------------------------------------------------------
autosummary_generate = False        # the API pages are written by apiref
autodoc_typehints = "none"          # signatures as written; types live in the numpydoc sections
autodoc_member_order = "bysource"
autodoc_default_options = {}
numpydoc_show_class_members = False  # members are documented by autodoc's :members:
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- MyST / MyST-NB ---------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"           # notebooks are rendered from their stored outputs
nb_merge_streams = True

# -- HTML -------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"modelprivacy {release}"
html_math_renderer = "mathml"        # MathML at build time; no MathJax
html_static_path = []
html_show_sourcelink = False
