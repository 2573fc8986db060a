"""Handlers only translate HTTP: no SQL and no audit records in a routes module.

Services hold the rules, so the command line, the worker and the tests reach the same ones. This reads
every routes module's source, so a handler that starts querying or auditing fails here, not in review.
"""

from __future__ import annotations

import ast

from .test_import_layers import ROOT, imported_modules, known_names, portal_modules, route_modules

# The session's methods that read or write rows. Passing ctx.db on to a service is the one use a handler has.
SESSION_WORK = {"add", "add_all", "delete", "execute", "scalar", "scalars", "get", "query", "merge", "flush"}


def audit_writes(tree: ast.AST) -> list[tuple[str, int]]:
    """Calls of audit.record(...): reading the history (audit.organisation_history) is a query service's job."""
    return [
        (ast.unparse(node.func), node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "record"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "audit"
    ]


def session_calls(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_WORK:
            owner = node.func.value
            if (
                isinstance(owner, ast.Attribute)
                and owner.attr == "db"
                or isinstance(owner, ast.Name)
                and owner.id == "db"
            ):
                found.append((ast.unparse(node.func), node.lineno))
    return found


def test_no_routes_module_runs_sql_or_writes_audit_records():
    modules = portal_modules()
    known = known_names(modules)
    problems = []
    for name, path in route_modules(modules).items():
        place = path.relative_to(ROOT)
        for target, line in imported_modules(name, path, known):
            if target == "sqlalchemy" or target.startswith("sqlalchemy.") or target == "portal.audit.record":
                problems.append(f"{place}:{line} imports {target}")
        tree = ast.parse(path.read_text())
        for call, line in session_calls(tree) + audit_writes(tree):
            problems.append(f"{place}:{line} calls {call}")
    assert problems == [], "handlers doing a service's work:\n" + "\n".join(problems)


def test_the_check_sees_a_handler_that_queries_or_audits():
    source = "def handler(ctx):\n    audit.record(ctx.db, 'x')\n    return ctx.db.scalar(select(User))\n"
    assert session_calls(ast.parse(source)) == [("ctx.db.scalar", 3)]
    assert audit_writes(ast.parse(source)) == [("audit.record", 2)]
