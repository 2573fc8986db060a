"""When a notification is due: calendar days or working days from one of its answers.

The clock starts at an answer (`deadline_from`): the event, or the day the provider became aware of it,
never the day someone opened a draft, which says nothing about how late the notification is.

"Without delay" (regulations 16, 17 and 18 of the Care Quality Commission (Registration) Regulations
2009) and "as soon as possible" name no number of days. The regulator's guidance says only that it
states "the timescales within which we must be notified ... on the webpage for each individual
notification" (cqc.org.uk/guidance-regulation/providers/registration/guidance) and those pages say
"without delay". To flag lateness we need a concrete reading, and we take the strictest one a provider
can act on: a notification that must go without delay is overdue once the working day after its clock
started has ended (WITHOUT_DELAY_WORKING_DAYS). That is a prompt, not a legal limit: docs/deadlines.md.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from .answers import LOCAL_TIME
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


# "Without delay" is flagged as overdue after the end of the next working day (see the module's note).
WITHOUT_DELAY_WORKING_DAYS = 1
UNCOUNTED_DEADLINES = ("without_delay", "as_soon_as_possible")


def due_date(kind: NotificationType, answers_by_section: dict[str, dict]) -> date | None:
    """The last day to notify, counted from the answer that starts the type's clock."""
    if kind.deadline_from is None:
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
    if kind.deadline_kind in UNCOUNTED_DEADLINES:
        return add_working_days(start, WITHOUT_DELAY_WORKING_DAYS)
    if kind.deadline_days is None:
        return None
    if kind.deadline_kind == "days_before":
        return start - timedelta(days=kind.deadline_days)
    if kind.deadline_kind == "working_days_after":
        return add_working_days(start, kind.deadline_days)
    if kind.deadline_kind == "days_after":
        return start + timedelta(days=kind.deadline_days)
    return None


def is_overdue(due: date | None, today: date) -> bool:
    return due is not None and today > due


def clock_label(kind: NotificationType) -> str:
    """What starts the clock, in the words of the question that asks it."""
    if kind.deadline_from is None:
        return ""
    for section in kind.sections:
        for question in section.questions:
            if question.key == kind.deadline_from:
                return question.label
    return ""


def days_until(due: date, today: date) -> int:
    return (due - today).days


def today() -> date:
    """Deadlines are English days: the date in London, not in UTC."""
    return datetime.now(LOCAL_TIME).date()


def deadline_sentence(kind: NotificationType, due: date | None) -> str:
    """The type's rule, then the date it gives for this notification or what will give one."""
    rule = f"Tell us {kind.deadline_wording}"
    if due is not None:
        return f"{rule}: by {due.day} {due:%B %Y}"
    clock = clock_label(kind)
    if clock:
        return f"{rule}. The date is worked out from your answer to \u201c{clock}\u201d"
    return rule


def short_notice_warning(kind: NotificationType, due: date | None, today: date, regulator: str) -> str:
    """A planned absence starting sooner than the notice the regulation asks for (regulation 14(2): "no later
    than 28 days before ... or within such shorter period as may be agreed with the Commission"), and what the
    regulator asks then: its page on absences says to contact it when 28 days' notice is not possible."""
    if kind.deadline_kind != "days_before" or due is None or today <= due:
        return ""
    return (
        f"This starts in less than {kind.deadline_days} days, so you cannot give {kind.deadline_days} days\u2019 "
        f"notice. {regulator} asks you to send this notification now, without waiting, and to contact them to "
        "agree the shorter notice. Say in your answers why more notice was not possible."
    )
