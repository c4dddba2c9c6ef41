"""Start-up and shape of the code: ``ssh-dip --help`` loads nothing heavy and answers at once; no import cycle
between project modules; ``dipcore`` imports no UI library and nothing from the explorer.

The import graph is read from the source with :mod:`ast` (every ``import``, also those inside functions and
``if TYPE_CHECKING:`` blocks, which name the lazy imports of the packages' ``__init__``), so the tests see imports
that a run would only reach on some paths.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dipcore", "explorer")
MAX_MODULES_PER_FOLDER = 20
MAX_FUNCTION_LINES = 80  # a function fits on one screen
HEAVY = ("torch", "xarray", "pandas", "matplotlib", "scipy")
UI_LIBRARIES = ("panel", "bokeh", "holoviews")
HELP_BUDGET_S = 1.5


# ---------------------------------------------------------------------------------------------------------------
# The CLI starts light
# ---------------------------------------------------------------------------------------------------------------

_PROBE = """
import json, sys
{setup}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _heavy_loaded(setup: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after running ``setup`` in a fresh interpreter."""
    code = _PROBE.format(setup=setup, heavy=HEAVY)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         check=False)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


_HELP_EVERY_COMMAND = """
import contextlib, io
import dipcore.cli
parser = dipcore.cli.build_parser()
for argv in ([], ["samples"], ["inspect"], ["fit"], ["downscale"], ["experiment"]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            dipcore.cli.main([*argv, "--help"])
        except SystemExit as exc:
            assert exc.code == 0, (argv, exc.code)
"""


def test_building_the_parser_and_every_help_loads_no_heavy_library():
    assert _heavy_loaded(_HELP_EVERY_COMMAND) == []


def test_the_heavy_library_probe_sees_a_heavy_import():
    """The probe above can fail: importing the solver does load torch."""
    assert "torch" in _heavy_loaded("import dipcore.solver")


def test_help_answers_in_well_under_a_second():
    def once() -> float:
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "dipcore.cli", "--help"], capture_output=True, text=True,
                             timeout=60, cwd=ROOT, check=False)
        assert res.returncode == 0 and "usage: ssh-dip" in res.stdout, res.stderr
        return time.perf_counter() - t0

    best = min(once() for _ in range(3))  # the best of three: a busy machine slows single runs
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    assert best < HELP_BUDGET_S, (f"`python -m dipcore.cli --help` took {best:.2f} s (best of 3; budget "
                                  f"{HELP_BUDGET_S} s) with load average {load} on {os.cpu_count()} CPUs")


def test_the_cli_knows_the_generator_architectures_without_torch():
    from dipcore.constants import ARCHITECTURES
    from dipcore.generators import REGISTRY

    assert tuple(REGISTRY) == ARCHITECTURES


@pytest.mark.parametrize("package", ["dipcore", "dipcore.experiments", "dipcore.downscale", "dipcore.generators"])
def test_the_package_exports_resolve(package):
    import importlib

    mod = importlib.import_module(package)
    assert len(set(mod.__all__)) == len(mod.__all__) and set(mod.__all__) <= set(dir(mod))
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name


# ---------------------------------------------------------------------------------------------------------------
# The import graph
# ---------------------------------------------------------------------------------------------------------------

def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the project packages (a package is its ``__init__``)."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported project module, line) for every import in ``path``, wherever it sits in the file.

    ``from pkg import x`` names the module ``pkg.x`` when there is one, else ``pkg`` itself; an import of an
    outside library is left out.
    """
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]

    def known(dotted: str) -> str | None:
        parts = dotted.split(".")
        for k in range(len(parts), 0, -1):  # the longest prefix that is a project module
            if ".".join(parts[:k]) in modules:
                return ".".join(parts[:k])
        return None

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(known(a.name), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.append((sub if sub in modules else known(base), node.lineno))
    return [(m, line) for m, line in found if m is not None and m != name]


def _graph() -> dict[str, dict[str, int]]:
    """module -> {imported project module: first line}."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in _imports(name, path, modules):
            edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as one closed path through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            visit(v)

    def path_in(comp: list[str]) -> list[str]:
        """A shortest closed path from the component's first module back to it, inside the component (BFS)."""
        members, start = set(comp), comp[0]
        prev: dict[str, str] = {}
        queue = [start]
        while queue:
            v = queue.pop(0)
            for w in sorted(graph[v]):
                if w == start:  # closed: walk back from v
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return [*reversed(path), start]
                if w in members and w not in prev:
                    prev[w] = v
                    queue.append(w)
        raise AssertionError(f"no closed path in the component {comp}")  # Tarjan says there is one

    return [path_in(c) for c in comps]


def _describe(path: list[str], graph: dict[str, dict[str, int]]) -> str:
    modules = _modules()
    return " → ".join(f"{a} ({modules[a].relative_to(ROOT)}:{graph[a][b]})" for a, b in pairwise(path)) + \
        f" → {path[-1]}"


def test_the_graph_reader_sees_cycles_and_function_level_imports(tmp_path):
    """The cycle finder can fail: a made-up graph with a cycle hidden behind a function-level import."""
    graph = {"a": {"b": 1}, "b": {"c": 3}, "c": {"a": 7}, "d": {"a": 1}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b": 1}, "b": {}}) == []
    src = tmp_path / "mod.py"
    src.write_text("import os\n\ndef f():\n    from dipcore import solver\n    import explorer.app\n")
    found = _imports("dipcore.something", src, {"dipcore": src, "dipcore.solver": src, "explorer.app": src})
    assert found == [("dipcore.solver", 4), ("explorer.app", 5)]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_between_project_modules(package):
    graph = _graph()
    cycles = [c for c in _cycles(graph) if any(m == package or m.startswith(package + ".") for m in c)]
    assert not cycles, f"{len(cycles)} import cycle(s) through {package}:\n" + \
        "\n".join(_describe(c, graph) for c in cycles)


def test_dipcore_imports_no_ui_library_and_not_the_explorer():
    bad = []
    for path in sorted((ROOT / "dipcore").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            bad += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                    if n.split(".")[0] in (*UI_LIBRARIES, "explorer")]
    assert not bad, "\n".join(bad)


# ---------------------------------------------------------------------------------------------------------------
# The size and privacy of dipcore's pieces
# ---------------------------------------------------------------------------------------------------------------

def _dipcore_trees():
    for path in sorted((ROOT / "dipcore").rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_no_dipcore_module_imports_another_modules_private_names():
    bad = []
    for path, tree in _dipcore_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("dipcore")):
                bad += [f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name} from {node.module}"
                        for a in node.names if a.name.startswith("_")]
    assert not bad, "\n".join(bad)


def test_no_dipcore_function_is_longer_than_a_screen():
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path, tree in _dipcore_trees() for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, "\n".join(long)


def test_no_dipcore_folder_holds_more_than_twenty_modules():
    folders = {path.parent for path in (ROOT / "dipcore").rglob("*.py")}
    crowded = {f"{folder.relative_to(ROOT)}: {n}" for folder in folders
               if (n := len(list(folder.glob("*.py")))) > MAX_MODULES_PER_FOLDER}
    assert not crowded, crowded

