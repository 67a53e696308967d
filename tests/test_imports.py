"""tether's modules import one way: no module imports one that imports it back, even
through others, even lazily (an import inside a function is an edge too).

The graph is read from the source with `ast`, so it sees every import a module could
run, not only those one test run happens to take. `if TYPE_CHECKING:` imports are left
out: they never run, and annotations may name a type whichever way the layers go.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tether
from tether.domains import names

SOURCE = Path(tether.__file__).resolve().parent
NAMES = names()
MAX_LINES = 400


def module_name(path: Path, root: Path = SOURCE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str, modules: set[str], domains: list[str]) -> set[str]:
    """The tether modules a module's code imports, wherever the import statement is,
    and the domain parts it imports through the registry: `domain.module("rules")`
    reaches tether.<domain>.rules for each domain."""
    found: set[str] = set()

    def known(name: str) -> str | None:
        # `from tether import domains` names a module; `from tether.errors import X` a
        # name in one: the longest prefix that is a module is what gets imported.
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(m for alias in node.names if (m := known(alias.name)))
        elif (part := _registry_part(node)) is not None:
            found.update(m for d in domains if (m := f"tether.{d}.{part}") in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *filter(None, [base])])
            for alias in node.names:
                if (m := known(f"{base}.{alias.name}")) is not None:
                    found.add(m)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _registry_part(node: ast.AST) -> str | None:
    """The part `X.module("part")` (tether.domains' accessor) imports, given literally
    and within tether."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return None
    within = next((k.value for k in node.keywords if k.arg == "within"), None)
    if within is not None and not (isinstance(within, ast.Constant) and within.value == "tether"):
        return None
    return node.args[0].value


def import_graph(root: Path = SOURCE) -> dict[str, set[str]]:
    """Each module of the package under `root`, and the modules of it that it imports
    (a package's `__init__` is the package's own name)."""
    paths = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    modules = set(paths)
    domains = [path.parent.name for path in root.glob("*/rules.py")]
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = _imports(tree, package, modules, domains) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports, as the modules along it (the first repeated at the end)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for imported in sorted(graph.get(module, ())):
            if imported in on_path:
                return [*path[path.index(imported) :], imported]
            if imported not in done and (cycle := visit(imported)) is not None:
                return cycle
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done and (cycle := visit(module)) is not None:
            return cycle
    return None


def test_imports_run_one_way() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "modules import each other: " + " -> ".join(cycle or [])


def test_the_layers_the_split_made_stay_apart() -> None:
    """tether.errors is the bottom (records and every domain import it), translation
    sits above the queries and the registry, and the registry and the stories' shared
    tables reach no story (tether.stories plays them)."""
    graph = import_graph()
    assert graph["tether.errors"] == set()
    assert {"tether.errors", "tether.queries", "tether.domains"} <= graph["tether.translate"]
    assert graph["tether.domains"] == {"tether.resources", *(f"tether.{d}.rules" for d in NAMES)}
    assert not any(module.endswith(".story") for module in graph["tether.demo"])
    assert {f"tether.{d}.story" for d in NAMES} <= graph["tether.stories"]


def test_the_graph_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "tether"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tether import high\n"
        "def later():\n    from tether.sub import leaf\n"
    )
    (package / "high.py").write_text("from tether.low import later\n")
    (package / "sub" / "__init__.py").write_text("from . import leaf\n")
    (package / "sub" / "leaf.py").write_text("from .. import high\n")
    (package / "sub" / "rules.py").write_text("")  # sub is a domain: its parts are reached
    (package / "registry.py").write_text(
        "def rules(domain):\n    return domain.module('rules')\n"
        "def bench(domain):\n    return domain.module('rules', within='benchmarks')\n"
    )
    graph = import_graph(package)
    assert graph["tether.low"] == {"tether.sub.leaf"}  # the lazy one; not the TYPE_CHECKING one
    assert graph["tether.high"] == {"tether.low"}
    assert graph["tether.sub"] == {"tether.sub.leaf"}
    assert graph["tether.sub.leaf"] == {"tether.high"}
    assert graph["tether.registry"] == {"tether.sub.rules"}
    assert find_cycle(graph) == ["tether.high", "tether.low", "tether.sub.leaf", "tether.high"]
    del graph["tether.low"]
    assert find_cycle(graph) is None


@pytest.mark.parametrize("path", sorted(SOURCE.rglob("*.py")), ids=lambda path: module_name(path))
def test_no_module_is_long(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines (at most {MAX_LINES})"
