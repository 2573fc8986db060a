"""docs/notification-types.md keeps one row per notification type, in step with the definitions."""

from __future__ import annotations

import re
from pathlib import Path

from portal.notifications.definitions import load_definitions

DOC = Path(__file__).parent.parent / "docs" / "notification-types.md"
ROW = re.compile(
    r"^\| (?P<title>.+?) \(`(?P<key>[a-z0-9_]+)`\) \| (?P<basis>.+?) \| (?P<rule>.+?) \| (?P<clock>.+?) \|$"
)


def table(text: str) -> dict[str, dict[str, str]]:
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            assert match["key"] not in rows, f"{match['key']} has two rows"
            rows[match["key"]] = match.groupdict()
    return rows


def disagreements(rows: dict[str, dict[str, str]], definitions) -> list[str]:
    problems = [f"{key}: no row in docs/notification-types.md" for key in sorted(set(definitions) - set(rows))]
    problems += [f"{key}: a row for a type that does not exist" for key in sorted(set(rows) - set(definitions))]
    for key in sorted(set(rows) & set(definitions)):
        kind, row = definitions[key], rows[key]
        days = f", {kind.deadline_days} days" if kind.deadline_days else ""
        expected = {
            "title": kind.title,
            "basis": kind.legal_basis.split(", Care Quality Commission")[0],
            "rule": f"{kind.deadline_wording} ({kind.deadline_kind}{days})",
        }
        problems += [
            f"{key}: {name} is {row[name]!r}, not {want!r}" for name, want in expected.items() if row[name] != want
        ]
        # A counted deadline runs from a question: the row must name it, so the clock is the one the code uses.
        if kind.deadline_from and f"`{kind.deadline_from}`" not in row["clock"]:
            problems.append(f"{key}: what starts the clock must name `{kind.deadline_from}`")
    return problems


def test_the_table_has_one_row_per_type_and_agrees_with_the_definitions():
    assert disagreements(table(DOC.read_text(encoding="utf-8")), load_definitions()) == []


def test_a_type_without_a_row_or_with_a_stale_row_is_caught():
    text = DOC.read_text(encoding="utf-8")
    definitions = load_definitions()
    without_row = "\n".join(line for line in text.splitlines() if "(`insolvency`)" not in line)
    assert disagreements(table(without_row), definitions) == ["insolvency: no row in docs/notification-types.md"]
    stale = text.replace("| Regulation 12(3) |", "| Regulation 15 |")
    assert disagreements(table(stale), definitions) == [
        "statement_of_purpose_change: basis is 'Regulation 15', not 'Regulation 12(3)'"
    ]
