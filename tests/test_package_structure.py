"""The package's structure: no import cycle between tinct's subpackages; no file I/O in models.

Layers only work if they point one way: colour science and quantisation at the bottom, models
and weights above them, the pipeline above those, the API, CLI and server at the edge. A cycle
between two subpackages means neither can be understood, tested or replaced without the other.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import tinct

PACKAGE = Path(tinct.__file__).parent
ROOT = "tinct"


def module_name(path: Path) -> str:
    """``tinct.models.registry`` for ``.../tinct/models/registry.py``; packages by their folder."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str | None:
    """The subpackage (or top-level module, e.g. ``api``) a module belongs to; None for the root
    package ``tinct`` itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def absolute_target(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".")[: len(module.split(".")) - node.level + is_package]
    return ".".join(base + ([node.module] if node.module else []))


def root_facade() -> dict[str, str]:
    """Names the root package hands out lazily (its ``__getattr__``) -> the module defining them,
    e.g. ``load`` -> ``tinct.api``."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    facade = {}
    for function in tree.body:
        if isinstance(function, ast.FunctionDef) and function.name == "__getattr__":
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module:
                    facade.update({alias.name: node.module for alias in node.names})
    return facade


def resolve_root_name(name: str, facade: dict[str, str]) -> str | None:
    """The unit that ``tinct.<name>`` comes from: a subpackage or top-level module of that name,
    a name of the root's lazy facade (``load`` -> ``api``), or None (``__version__``, defined in
    the root itself)."""
    if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file():
        return name
    return unit_of(facade[name]) if name in facade else None


def imported_units(path: Path, facade: dict[str, str]) -> dict[str, int]:
    """Every tinct unit the file imports -> the line of the first such import, at any depth
    (module level, inside functions, under ``TYPE_CHECKING``)."""
    module, tree = module_name(path), ast.parse(path.read_text())
    found: dict[str, int] = {}

    def add(unit: str | None, line: int) -> None:
        if unit is not None:
            found.setdefault(unit, line)

    imports_root = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ROOT:
                    imports_root = True
                elif alias.name.startswith(ROOT + "."):
                    add(unit_of(alias.name), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = absolute_target(node, module, path.name == "__init__.py")
            if target == ROOT:
                for alias in node.names:
                    add(resolve_root_name(alias.name, facade), node.lineno)
            elif target.startswith(ROOT + "."):
                add(unit_of(target), node.lineno)
    if imports_root:  # `import tinct` then `tinct.load(...)`: the attribute says which unit
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == ROOT
            ):
                add(resolve_root_name(node.attr, facade), node.lineno)
    return found


def unit_graph() -> dict[str, dict[str, str]]:
    """unit -> {unit it imports: where (``file:line``, the first such import found)}."""
    facade = root_facade()
    graph: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(module_name(path))
        if source is None:  # the root's own lazy re-exports are resolved where they are used
            continue
        for target, line in imported_units(path, facade).items():
            if target != source:
                where = f"{path.relative_to(PACKAGE.parent).as_posix()}:{line}"
                graph[source].setdefault(target, where)
    return graph


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]`` of the graph, or None (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once finished
    path: list[str] = []

    def visit(unit: str) -> list[str] | None:
        state[unit] = "open"
        path.append(unit)
        for target in sorted(graph.get(unit, {})):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[unit] = "done"
        return None

    for unit in sorted(graph):
        if unit not in state and (cycle := visit(unit)) is not None:
            return cycle
    return None


def test_no_import_cycle_between_subpackages() -> None:
    """Subpackages of tinct (and its top-level modules such as ``api``) import one another
    without a cycle.

    How imports are counted:

    - Every import counts, also those inside functions and under ``TYPE_CHECKING``. A lazy
      import is still a dependency: it runs the first time the function is called and ties the
      two packages together as much as a top-level one; it only hides a cycle from Python's
      import machinery (no ImportError), which is how the cycles this test was written for went
      unnoticed. Lazy imports stay useful for keeping ``import tinct`` cheap, not for
      dependencies that point back up.
    - The root package ``tinct/__init__.py`` is a facade, not a layer: ``from tinct import
      load`` or ``tinct.load`` after ``import tinct`` count as an import of ``tinct.api``, where
      ``load`` lives (read from the root's ``__getattr__``), and ``tinct.__version__`` as no
      import at all.
    - Imports within one subpackage are not edges; imports by name (``importlib``) of tinct's
      own modules are not seen (there are none).
    """
    graph = unit_graph()
    cycle = find_cycle(graph)
    if cycle is not None:
        steps = [f"{a} -> {b} ({graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
        raise AssertionError("import cycle between subpackages:\n  " + "\n  ".join(steps))


def test_the_cycle_finder_reports_a_cycle_and_accepts_layers() -> None:
    assert find_cycle({"a": {"b": "a.py:1"}, "b": {"c": "b.py:1"}, "c": {}}) is None
    cycle = find_cycle({"a": {"b": "a.py:1"}, "b": {"c": "b.py:2"}, "c": {"a": "c.py:3"}})
    assert cycle == ["a", "b", "c", "a"]


def test_the_graph_sees_lazy_imports_and_resolves_the_root_facade() -> None:
    graph = unit_graph()
    assert "export" in graph["api"]  # tinct.load imports the ONNX backend inside the function
    facade = root_facade()
    assert resolve_root_name("load", facade) == "api"  # `import tinct; tinct.load(...)`
    assert resolve_root_name("models", facade) == "models"
    assert resolve_root_name("__version__", facade) is None


# Modules and calls that read or write files; models get their tensors from tinct.weights.
FILE_MODULES = {"io", "os", "shutil", "tempfile", "hashlib", "importlib", "urllib", "safetensors"}
FILE_CALLS = {"open", "load", "save", "safe_open", "load_file", "save_file", "sha256_of_file"}
FILE_METHODS = {"read_bytes", "read_text", "write_bytes", "write_text", "is_file", "exists"}


def file_io_in(path: Path) -> list[str]:
    """``line: what`` for each import of a file module and each file call in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        found += [f"{node.lineno}: import {n}" for n in names if n.split(".")[0] in FILE_MODULES]
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            method = isinstance(node.func, ast.Attribute) and name in FILE_METHODS
            if name in FILE_CALLS or method:
                found.append(f"{node.lineno}: {name}()")
    return found


def test_models_open_no_files() -> None:
    """No module of :mod:`tinct.models` opens, hashes or parses a file, or imports what would:
    builders ask :mod:`tinct.weights` for verified tensors (its ``load_weights`` and friends)."""
    found = {
        path.relative_to(PACKAGE).as_posix(): io
        for path in sorted((PACKAGE / "models").rglob("*.py"))
        if (io := file_io_in(path))
    }
    assert found == {}
