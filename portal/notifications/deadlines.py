"""When a notification is due: calendar days or working days from one of its answers."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from .definitions import NotificationType

HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "data" / "bank_holidays_england_and_wales.toml"


@lru_cache(maxsize=1)
def bank_holidays() -> frozenset[date]:
    return frozenset(tomllib.loads(HOLIDAYS_FILE.read_text())["dates"])


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays()


def add_working_days(start: date, days: int) -> date:
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def due_date(kind: NotificationType, answers_by_section: dict[str, dict]) -> date | None:
    """The last day to notify, where the type counts days from one of its answers."""
    if kind.deadline_from is None or kind.deadline_days is None:
        return None
    anchor = None
    for answers in answers_by_section.values():
        if kind.deadline_from in answers:
            anchor = answers[kind.deadline_from]
    if not anchor:
        return None
    try:
        start = date.fromisoformat(str(anchor)[:10])
    except ValueError:
        return None
    if kind.deadline_kind == "days_before":
        return start - timedelta(days=kind.deadline_days)
    if kind.deadline_kind == "working_days_after":
        return add_working_days(start, kind.deadline_days)
    if kind.deadline_kind == "days_after":
        return start + timedelta(days=kind.deadline_days)
    return None
