"""The explorer's shape, read from its source with :mod:`ast`: packages by role whose imports point one way
(data → run → downscale → ui → app → main), no module importing another's private names, no UI library below the
views, and functions, modules and folders of a readable size. Import cycles of the whole project:
tests/test_startup.py."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

EXPLORER = Path(__file__).resolve().parent.parent / "explorer"
# each layer may import its own and those before it, never those after
LAYERS = ("explorer.data", "explorer.run", "explorer.downscale", "explorer.ui", "explorer.app", "explorer.main")
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400
MAX_FOLDER_MODULES = 20


def _name(path: Path) -> str:
    parts = list(path.relative_to(EXPLORER.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_name(p): ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in sorted(EXPLORER.rglob("*.py"))}


def _imports(tree: ast.Module, modules) -> list[tuple[str, list[str]]]:
    """(explorer module, names taken from it) of every import in ``tree`` (functions and TYPE_CHECKING included)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("explorer"):
            for a in node.names:  # ``from explorer.data import state`` imports the module explorer.data.state
                sub = f"{node.module}.{a.name}"
                out.append((sub, []) if sub in modules else (node.module, [a.name]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("explorer")]
    return out


def _layer(module: str) -> int:
    return next(i for i, top in enumerate(LAYERS) if module == top or module.startswith(top + "."))


def test_the_imports_point_one_way_through_the_layers():
    modules = _modules()
    wrong = []
    for name, tree in modules.items():
        if name == "explorer":
            continue
        for target, _ in _imports(tree, modules):
            if target != name and target != "explorer" and _layer(target) > _layer(name):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)
    users = {n for n, tree in modules.items() if any(t == "explorer.app" for t, _ in _imports(tree, modules))}
    assert users == {"explorer.main"}  # the app is the top: only main.py builds it


def test_the_import_reader_sees_imports_in_functions_and_private_names():
    """The checks below can fail: an import against the flow inside a function, and a private name."""
    tree = ast.parse("def f():\n    from explorer.ui.live import LiveMaps, _apply_order\n"
                     "    from explorer.data import feed\n")
    found = _imports(tree, {"explorer.ui.live": None, "explorer.data.feed": None})
    assert found == [("explorer.ui.live", ["LiveMaps"]), ("explorer.ui.live", ["_apply_order"]),
                     ("explorer.data.feed", [])]
    assert _layer("explorer.ui.live") > _layer("explorer.data.state")


def test_no_module_imports_another_modules_private_names():
    modules = _modules()
    private = [f"{name} imports {target}.{n}" for name, tree in modules.items()
               for target, names in _imports(tree, modules) for n in names if n.startswith("_")]
    assert not private, "\n".join(private)


def test_functions_modules_and_folders_stay_readable():
    long_functions, long_modules, folders = [], [], {}
    for path in sorted(EXPLORER.rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        if len(src.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{path.relative_to(EXPLORER.parent)}: {len(src.splitlines())} lines")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(EXPLORER.parent)}:{node.lineno} {node.name}: {n} lines")
        if path.name != "__init__.py":
            folders[path.parent.name] = folders.get(path.parent.name, 0) + 1
    assert not long_functions, "\n".join(long_functions)
    assert not long_modules, "\n".join(long_modules)
    assert max(folders.values()) <= MAX_FOLDER_MODULES, folders


def test_every_package_says_what_it_holds():
    for init in EXPLORER.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 100, f"{init.relative_to(EXPLORER.parent)} needs a docstring that says its role"


def test_the_state_and_the_sessions_import_no_ui_library():
    code = ("import sys, explorer.data.state, explorer.data.inspector, explorer.run.fit_session, "
            "explorer.run.sweep, explorer.downscale.session; "
            "print(sorted(m for m in ('panel', 'bokeh', 'holoviews', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
