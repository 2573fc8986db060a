"""What the members templates show, built in Python: checkbox items for roles, rows of history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .. import audit
from ..models import AuditEvent
from ..web.templating import format_datetime


def role_items(choices: Sequence[tuple[str, str]], selected: Iterable[str], first: bool) -> list[dict[str, Any]]:
    """One role's checkboxes (all locations, then each location), ticked as chosen."""
    chosen = set(selected)
    items: list[dict[str, Any]] = [
        {"value": value, "text": label, "checked": value in chosen} for value, label in choices
    ]
    if first and items:
        # The error summary links to #grants, so the first box of the first role carries that id.
        items[0]["id"] = "grants"
    return items


def history_rows(events: Iterable[AuditEvent]) -> list[list[dict[str, str]]]:
    return [
        [
            {"text": format_datetime(event.occurred_at)},
            {"text": audit.made_by(event, nobody="The support team")},
            {"text": audit.describe(event)},
            {"text": event.ip_address},
        ]
        for event in events
    ]


TEMPLATE_GLOBALS = {"role_items": role_items, "history_rows": history_rows}
