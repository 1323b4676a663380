"""Every public module imports alone (no package module loaded), in any order; no import hides a cycle.

An import cycle dodged by a function-level import shows up here twice: the
module graph built from the top-level imports must have no cycle, and no
function may import a package module (only optional heavy dependencies --
matplotlib, dask, tomllib, pandas -- are imported where they are used).
"""

import ast
import json
import pathlib
import subprocess
import sys


PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "modelprivacy"
LAZY_ALLOWED = {"matplotlib", "dask", "tomllib", "pandas"}


def _module_name(path):
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


SOURCES = sorted(PACKAGE.rglob("*.py"))
MODULES = sorted(_module_name(p) for p in SOURCES)
PUBLIC = [m for m in MODULES if not any(part.startswith("_") for part in m.split(".")[1:])]


def _resolve(module, level, name, is_package):
    """Absolute name of ``from <level dots><name> import ...`` inside ``module``."""
    if level == 0:
        return name
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _imports(path):
    """(top-level package imports, function-level imports) of one source file."""
    module = _module_name(path)
    tree = ast.parse(path.read_text())
    top, lazy = set(), []

    def names(node):
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = _resolve(module, node.level, node.module, path.name == "__init__.py")
        # "from . import clf" imports the submodule
        return [base] + [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    lazy.extend((node.name, n) for n in names(inner))
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            top.update(n for n in names(node) if n.split(".")[0] == "modelprivacy")
    return module, top, lazy


def test_no_function_level_imports_but_optional_heavy_ones():
    offenders = []
    for path in SOURCES:
        module, _, lazy = _imports(path)
        for func, name in lazy:
            if name.split(".")[0] not in LAZY_ALLOWED:
                offenders.append(f"{module}.{func} imports {name}")
    assert not offenders, offenders


def test_module_graph_has_no_cycle():
    graph = {}
    for path in SOURCES:
        module, top, _ = _imports(path)
        graph[module] = {m for m in top if m in MODULES and m != module}
    # a package's __init__ importing its own submodules is not a cycle back into it
    state, cycle = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == "open" and not node.startswith(nxt + "."):
                cycle.append(stack + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for m in MODULES:
        if m not in state:
            visit(m, [m])
    assert not cycle, cycle[:3]


#: one fresh interpreter imports the third-party libraries once, then forks a child per module that imports
#: it with no package module loaded: what matters for a cycle is the package's own import order
FORKED = """
import json, os, sys, traceback
import numpy, scipy, scipy.optimize, scipy.stats, sklearn, sklearn.linear_model, sklearn.ensemble
import sklearn.neural_network, sklearn.model_selection, cvxpy, sympy, joblib, threadpoolctl, tqdm
assert not [m for m in sys.modules if m.split(".")[0] == "modelprivacy"]
failures = []
for label, code in json.loads(sys.argv[1]).items():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            exec(code, {})
            status = 0
        except BaseException:
            os.write(write, traceback.format_exc().strip().splitlines()[-1].encode())
            status = 1
        os._exit(status)
    os.close(write)
    message = os.read(read, 4096).decode()
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failures.append(f"{label}: {message or status}")
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def _run_all(codes):
    """Run each snippet with no package module loaded (a forked child of one fresh interpreter)."""
    proc = subprocess.run([sys.executable, "-c", FORKED, json.dumps(codes)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]


def test_each_public_module_imports_alone_in_a_fresh_interpreter():
    assert len(PUBLIC) > 20
    _run_all({m: f"import {m}" for m in PUBLIC})


ORDERS = [
    ("modelprivacy.solvers", "modelprivacy.attacks", "modelprivacy.defenses.optimal"),
    ("modelprivacy.defenses.optimal", "modelprivacy.solvers", "modelprivacy.attacks"),
    ("modelprivacy.attacks.classification", "modelprivacy.defenses.postprocess", "modelprivacy.metrics"),
    ("modelprivacy.metrics", "modelprivacy.defenses", "modelprivacy.attacks.classification"),
    ("modelprivacy.bounds", "modelprivacy.verify", "modelprivacy.threat"),
    ("modelprivacy.queries", "modelprivacy.attacks", "modelprivacy.targets"),
    ("modelprivacy.targets", "modelprivacy.features", "modelprivacy.queries"),
]


def test_imports_in_several_orders_register_everything():
    check = ("\nfrom modelprivacy.defenses import DEFENSES, POSTPROCESSORS\n"
             "assert {'order_disguise', 'kernel_confusion', 'misleading_variable_projection'} <= set(DEFENSES)\n"
             "assert 'reverse_sigmoid' in POSTPROCESSORS")
    codes = {" -> ".join(order): "\n".join(f"import {m}" for m in order) + check for order in ORDERS}
    _run_all(codes)
