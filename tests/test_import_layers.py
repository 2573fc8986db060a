"""The portal's packages import each other one way only, and the web layer knows no feature.

The graph is read from the source with ast, not by importing: every `import` and `from … import`,
also those inside functions and under TYPE_CHECKING, since an import deferred into a function is
still a dependency, only one that hides a cycle from Python until the function runs. Modules are
collapsed to their package below portal (portal.notifications, portal.web, …); a module at the top,
such as portal/outbox.py, is a node of its own.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from .conftest import ROOT

PORTAL = ROOT / "portal"
# Packages that serve one part of the service. portal/web is the frame every feature uses, so it may
# import none of them, or a change to a feature could break every page.
FEATURES = {
    "accounts",
    "api",
    "attachments",
    "dashboard",
    "members",
    "notifications",
    "queries",
    "reports",
    "support",
    "pages",
    "organisation",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def portal_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PORTAL.rglob("*.py"))}


def known_names(modules: dict[str, Path]) -> set[str]:
    """Modules and packages, folders without __init__.py too (portal/migrations is one)."""
    names = set(modules)
    for name in modules:
        parts = name.split(".")
        names.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return names


def imported_modules(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(module imported, line) for every import in one file, relative ones resolved."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                # `from portal import audit` imports the module portal.audit, not the package portal.
                candidate = f"{base}.{alias.name}"
                found.append((candidate if candidate in known else base, node.lineno))
    return found


def node_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def package_graph() -> dict[str, dict[str, list[str]]]:
    """node -> {node it imports -> ["portal/file.py:line", …]}"""
    modules = portal_modules()
    known = known_names(modules)
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, path in modules.items():
        for target, line in imported_modules(name, path, known):
            if target != "portal" and not target.startswith("portal."):
                continue
            source, destination = node_of(name), node_of(target)
            place = f"{path.relative_to(ROOT)}:{line}"
            if destination not in (source, "portal") and place not in graph[source][destination]:
                graph[source][destination].append(place)
    return graph


def strongly_connected(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Tarjan's algorithm: each group of nodes that can all reach each other, when it has more than one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for neighbour in sorted(graph.get(node, {})):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    nodes = sorted(set(graph) | {target for targets in graph.values() for target in targets})
    for node in nodes:
        if node not in index:
            visit(node)
    return groups


def shortest_cycle(graph: dict[str, dict[str, list[str]]], group: list[str], start: str) -> list[str]:
    """A shortest cycle from start back to it, within the group (breadth first)."""
    members = set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for neighbour in sorted(graph.get(node, {})):
            if neighbour == start:
                return paths[node] + [start]
            if neighbour in members and neighbour not in paths:
                paths[neighbour] = paths[node] + [neighbour]
                queue.append(neighbour)
    raise AssertionError(f"no cycle through {start}")


def describe(graph: dict[str, dict[str, list[str]]], group: list[str]) -> str:
    """A shortest cycle through each member, then every import inside the group: any one of them may be
    the one to turn around."""
    members = set(group)
    cycles = sorted({" -> ".join(shortest_cycle(graph, group, member)) for member in group}, key=len)
    edges = [
        f"    {source} -> {destination}: {', '.join(places)}"
        for source in group
        for destination, places in sorted(graph[source].items())
        if destination in members
    ]
    return "\n".join(["  cycles:", *(f"    {cycle}" for cycle in cycles), "  the imports inside them:", *edges])


def test_the_graph_sees_imports_inside_functions_and_relative_ones():
    """The reader itself: a deferred relative import in a function is found and resolved."""
    graph = package_graph()
    assert "portal.models" in graph["portal.audit"]
    assert "portal.web" in graph["portal.pages"]
    assert all(not target.startswith("portal.portal") for targets in graph.values() for target in targets)


def test_packages_import_each_other_without_cycles():
    graph = package_graph()
    groups = strongly_connected(graph)
    report = []
    for group in groups:
        report.append(f"{', '.join(group)} import each other:\n{describe(graph, group)}")
    assert not groups, "import cycles between packages:\n" + "\n".join(report)


def test_the_web_layer_imports_no_feature_package():
    graph = package_graph()
    imported = {
        destination: places
        for destination, places in graph.get("portal.web", {}).items()
        if destination.removeprefix("portal.") in FEATURES
    }
    assert not imported, "portal/web imports feature packages:\n" + "\n".join(
        f"  {destination}: {', '.join(places)}" for destination, places in sorted(imported.items())
    )


def route_modules(modules: dict[str, Path]) -> dict[str, Path]:
    return {name: path for name, path in modules.items() if path.stem == "routes" or path.stem.startswith("routes_")}


def test_a_routes_module_imports_services_and_presenters_never_another_routes_module():
    modules = portal_modules()
    known = known_names(modules)
    routes = route_modules(modules)
    assert len(routes) >= 10
    crossing = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in routes.items()
        for target, line in imported_modules(name, path, known)
        if target in routes and target != name
    ]
    assert crossing == []
