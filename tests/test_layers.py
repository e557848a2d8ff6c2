"""The import direction between the layers, and the installed package layout.

    connectors/  reads the outside world: imports no DuckDB, no warehouse, no flows, no stand-ins
    warehouse/   owns DuckDB: imports nothing from connectors, flows or stand-ins (loaders go by column name)
    standins/    stand-ins for the outside world: may use connectors' contracts, never flows or warehouse
    flows/       orchestrates: imports any layer; stand-ins only lazily (inside a function), so plain
                 commands do not load emulators and synthetic seasons

Everything is imported as ``runlift.<layer>`` (the installed namespace); a bare ``import flows`` would
work by accident from the repository's root and load a second copy of the module. Imports between
runlift modules form no cycle, not even through an import inside a function.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("flows", "warehouse", "connectors", "standins")
# layer -> (imported module prefix, why it is forbidden)
FORBIDDEN = {
    "connectors": [("duckdb", "connectors never touch DuckDB"),
                   ("runlift.warehouse", "connectors produce rows; the warehouse loads them"),
                   ("runlift.flows", "connectors do not orchestrate"),
                   ("runlift.standins", "real connectors do not depend on stand-ins")],
    "warehouse": [("runlift.connectors", "loaders insert by column name and know no wire format"),
                  ("runlift.flows", "the warehouse does not orchestrate"),
                  ("runlift.standins", "the warehouse does not depend on stand-ins")],
    "standins": [("runlift.flows", "stand-ins are used by flows, not the other way round"),
                 ("runlift.warehouse", "stand-ins play the outside world, which has no warehouse")],
    "flows": [],
}
LAZY_ONLY = {"flows": [("runlift.standins", "plain commands must not load the stand-ins")]}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str          # absolute module name imported
    top_level: bool      # at module level (not inside a function)


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["runlift", *parts])


def imports_of(path: Path, root: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # annotations only: no import at run time
            if isinstance(child, ast.Import):
                found.extend(Import(path, child.lineno, a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                found.append(Import(path, child.lineno, base, top))
                for a in child.names:  # `from runlift.warehouse import db` imports runlift.warehouse.db
                    found.append(Import(path, child.lineno, f"{base}.{a.name}", top))
            visit(child, inner)

    visit(tree, True)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_violations(root: Path) -> list[str]:
    """Every import in the wrong direction under ``root`` (folders named as LAYERS), as messages."""
    out = []
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            for imp in imports_of(path, root):
                for prefix, why in FORBIDDEN[layer]:
                    if _under(imp.module, prefix):
                        out.append(f"{path.relative_to(root)}:{imp.line}: {layer}/ imports {imp.module} ({why})")
                for prefix, why in LAZY_ONLY.get(layer, []):
                    if imp.top_level and _under(imp.module, prefix):
                        out.append(f"{path.relative_to(root)}:{imp.line}: {layer}/ imports {imp.module} at "
                                   f"module level ({why}; import it inside the function that needs it)")
    return sorted(set(out))


def bare_imports(root: Path, folders: list[str]) -> list[str]:
    """Imports of a layer by its folder name (``import flows``) instead of ``runlift.flows``."""
    out = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            if "__pycache__" in path.parts or ".venv" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                for name in names:
                    if name.split(".")[0] in LAYERS:
                        out.append(f"{path.relative_to(root)}:{node.lineno}: import {name} "
                                   f"(write runlift.{name})")
    return out


def import_cycles(root: Path) -> list[list[str]]:
    """Cycles among imports of runlift modules, lazy ones included (Tarjan's strongly connected components)."""
    modules = {module_name(p, root): p for layer in LAYERS for p in (root / layer).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for m, path in modules.items():
        for imp in imports_of(path, root):
            if imp.module in modules and imp.module != m:
                graph[m].add(imp.module)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return cycles


def _package_folders(root: Path) -> set[str]:
    """Folders that are packages (an ``__init__.py``); data folders such as warehouse/seeds are not."""
    return {".".join(["runlift", *path.parent.relative_to(root).parts])
            for layer in LAYERS for path in (root / layer).rglob("__init__.py") if "__pycache__" not in path.parts}


# --- the repository ------------------------------------------------------------------------------

def test_no_import_goes_in_the_wrong_direction():
    assert layer_violations(ROOT) == []


def test_every_import_uses_the_runlift_namespace():
    folders = [*LAYERS, "tests", "bench"]
    assert bare_imports(ROOT, [f for f in folders if (ROOT / f).is_dir()]) == []


def test_no_cycles_between_modules():
    assert import_cycles(ROOT) == []


def test_every_package_folder_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert set(config["packages"]) == _package_folders(ROOT)
    for package, folder in config["package-dir"].items():
        assert package == f"runlift.{folder}" and (ROOT / folder).is_dir()
    assert set(config["package-dir"]) == {f"runlift.{layer}" for layer in LAYERS if (ROOT / layer).is_dir()}


# --- the checks themselves catch what they are for (a tiny tree in a temporary folder) ---------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.mark.parametrize("rel, text, expected", [
    ("warehouse/loader.py", "from runlift.connectors.fit.decode import SET_COLUMNS\n",
     r"warehouse/loader.py:1: warehouse/ imports runlift.connectors"),
    ("warehouse/loader.py", "def f():\n    import runlift.connectors.strava.client\n",
     r"warehouse/loader.py:2: warehouse/ imports runlift.connectors.strava.client"),
    ("connectors/fit/x.py", "import duckdb\n", r"connectors/fit/x.py:1: connectors/ imports duckdb"),
    ("connectors/strava/y.py", "from ... import warehouse\n", r"connectors/ imports runlift.warehouse"),
    ("standins/emu.py", "from runlift.flows import settings\n", r"standins/ imports runlift.flows"),
    ("flows/demo.py", "from runlift.standins import season\n", r"flows/demo.py:1: .* at module level"),
])
def test_a_wrong_import_is_reported(tmp_path, rel, text, expected):
    root = _tree(tmp_path, {rel: text})
    found = layer_violations(root)
    assert len(found) >= 1 and any(re.search(expected, f) for f in found), found


def test_right_imports_are_not_reported(tmp_path):
    root = _tree(tmp_path, {
        "flows/cli.py": "from runlift.warehouse import db\nfrom runlift.connectors.fit import decode\n"
                        "def demo():\n    from runlift.standins import season\n",
        "standins/emu.py": "from runlift.connectors.fit import fields\n",
        "warehouse/db.py": "import duckdb\nfrom typing import TYPE_CHECKING\n"
                           "if TYPE_CHECKING:\n    from runlift.flows.settings import Settings\n",
    })
    assert layer_violations(root) == []


def test_a_bare_import_and_a_cycle_are_reported(tmp_path):
    root = _tree(tmp_path, {
        "connectors/fit/columnar.py": "from runlift.connectors.fit.decode import X\n",
        "connectors/fit/decode.py": "from runlift.connectors.fit import columnar\n",
        "flows/cli.py": "import warehouse.db\n",
    })
    assert bare_imports(root, ["flows"]) == ["flows/cli.py:1: import warehouse.db (write runlift.warehouse.db)"]
    assert import_cycles(root) == [["runlift.connectors.fit.columnar", "runlift.connectors.fit.decode"]]
