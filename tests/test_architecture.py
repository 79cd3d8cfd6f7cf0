"""The house stands as drawn (DESIGN.md section 2): engines at the bottom, no package cycles.

Every module under intake/ is read with `ast`; its imports of intake modules are
resolved (relative ones too) and checked against the floors.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "intake"
ENGINES = ("intake.expressions", "intake.forms", "intake.workflow")
# The ground floor an engine may stand on, besides the engines themselves.
GROUND = {
    "intake",
    "intake.config",
    "intake.db",
    "intake.i18n",
    # Pure AES-GCM helpers with no rule of the house in them (forms/storage.py seals answers).
    "intake.security.field_crypto",
    # The safe YAML reader (positions for every problem) under the engines' loaders.
    "intake.yaml_source",
}
WEB = ("fastapi", "starlette")
# Package cycles that stand for now, each with the reason it is tolerated.
KNOWN_CYCLES = {
    frozenset({"accounts", "security"}): (
        "the session check (security.sessions) and the permission map (security.permissions) "
        "read the User model of accounts/models.py, and accounts' services use passwords and "
        "sessions; to be cut by moving the session check and the map into accounts (or the "
        "User model down to security), once the second-factor work in accounts/ has settled"
    ),
}
# The top floor: the routes of every domain (`views.py`, `*_views.py`) and the dependencies
# they declare (intake.deps) stand above all domains, as app.py does; no domain imports them.
ROUTES = "routes"


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


MODULES = dict(_modules())


def _resolve(base: str, name: str) -> str:
    """`base.name` if that is a module (from package import module), else `base`."""
    candidate = f"{base}.{name}"
    return candidate if candidate in MODULES else base


def imports_of(module: str, path: Path) -> set[str]:
    """Every module `module` imports, intake modules resolved to their full names."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found.update(_resolve(base, alias.name) for alias in node.names)
    return found


def is_route_module(module: str) -> bool:
    """A module of the top floor: routes (`views`, `*_views`) and intake.deps."""
    last = module.rpartition(".")[2]
    return module == "intake.deps" or last == "views" or last.endswith("_views")


def package_of(module: str) -> str:
    """The floor a module stands on: its package under intake (or the ground-floor module)."""
    if is_route_module(module):
        return ROUTES
    if module == "intake.security.field_crypto":
        return "field_crypto"  # a ground-floor module living in an upper package
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "intake"


def _is_engine(module: str) -> bool:
    return any(module == e or module.startswith(e + ".") for e in ENGINES)


def engine_breaks() -> list[str]:
    """Engine imports of anything but the engines, the ground floor and outside libraries."""
    breaks = []
    for module, path in MODULES.items():
        if not _is_engine(module):
            continue
        for imported in sorted(imports_of(module, path)):
            top = imported.split(".")[0]
            if top in WEB or (
                top == "intake" and not _is_engine(imported) and imported not in GROUND
            ):
                breaks.append(f"{module} imports {imported}")
    return breaks


def package_graph() -> dict[str, set[str]]:
    """Which intake packages each intake package imports."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        source = package_of(module)
        for imported in imports_of(module, path):
            if imported.split(".")[0] == "intake" and imported in MODULES:
                target = package_of(imported)
                if target not in (source, "intake"):
                    graph.setdefault(source, set()).add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_every_module_and_resolves_relative_imports() -> None:
    assert "intake.forms.validate" in MODULES
    assert "intake.cases.rules" in MODULES
    assert "intake.forms.definition" in imports_of(
        "intake.forms.validate", MODULES["intake.forms.validate"]
    )


def test_engines_import_only_engines_and_the_ground_floor() -> None:
    assert engine_breaks() == []


def test_an_engine_importing_a_domain_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from intake.cases import rules\nfrom intake import web\nimport fastapi\n")
    imported = imports_of("intake.forms.bad", bad)
    assert {"intake.cases.rules", "intake.web", "fastapi"} <= imported


def test_no_import_cycle_between_packages_but_the_known_ones() -> None:
    found = set(cycles(package_graph()))
    assert found - KNOWN_CYCLES.keys() == set()


def test_no_domain_imports_a_route_module() -> None:
    upward = [
        f"{module} imports {imported}"
        for module, path in MODULES.items()
        if not is_route_module(module) and module != "intake.app"
        for imported in imports_of(module, path)
        if imported in MODULES and is_route_module(imported)
    ]
    assert upward == []


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# Modules and functions over the limits, each with its reason (keep these short).
LONG_MODULES = {
    "intake.definitions.service": "versions, sync and the compile cache; split pending",
    "intake.admin.service": "the editor's check and publish steps; split pending",
    "intake.cli": "every subcommand's parser and runner; to move into each package's cli.py",
}
LONG_FUNCTIONS = {
    "intake.cli.build_parser": "a flat list of argparse declarations, no logic",
}


def long_modules() -> set[str]:
    """Modules of intake/ over MAX_MODULE_LINES lines."""
    return {
        module
        for module, path in MODULES.items()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES
    }


def long_functions() -> set[str]:
    """Functions of intake/ (migrations aside) over MAX_FUNCTION_LINES lines."""
    found = set()
    for module, path in MODULES.items():
        if module.startswith("intake.migrations"):
            continue  # a migration is a list of table declarations, read once
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    found.add(f"{module}.{node.name}")
    return found


def test_no_module_over_400_lines_but_the_named_ones() -> None:
    assert long_modules() - LONG_MODULES.keys() == set()


def test_no_function_over_60_lines_but_migrations_and_the_named_ones() -> None:
    assert long_functions() - LONG_FUNCTIONS.keys() == set()
