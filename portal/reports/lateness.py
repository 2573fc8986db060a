"""Notifications submitted after their due date, by type and by location, for support leads.

Lateness is judged on what reached the regulator: each submission's frozen answers give its due date
(notifications/deadlines.py: counted from the event or from when the provider became aware), and it is late
when it was submitted on a later day in England. A submission whose type has no clock, or whose answers give
no date, is counted as "no due date" rather than as on time.

The due date lives in the answers, so it cannot be grouped in SQL: one statement reads the submissions of the
window (never a practice organisation's), bounded by the window as the SQLite medians are in service.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Submission
from ..notifications.answers import LOCAL_TIME
from ..notifications.deadlines import due_date
from ..notifications.registry import definition
from .service import Window, _in_window, type_title


@dataclass
class LateRow:
    title: str
    submitted: int = 0
    with_due_date: int = 0
    late: int = 0

    @property
    def late_percent(self) -> str:
        return f"{round(100 * self.late / self.with_due_date)}%" if self.with_due_date else "–"


@dataclass
class LatenessReport:
    window: Window
    by_type: list[LateRow]
    by_location: list[LateRow]
    overall: LateRow


def late_submissions(db: Session, span: Window) -> LatenessReport:
    rows = db.execute(
        select(Submission.type_key, Submission.submitted_at, Submission.snapshot).where(*_in_window(span))
    ).all()
    by_type: dict[str, LateRow] = {}
    by_location: dict[str, LateRow] = defaultdict(lambda: LateRow(""))
    overall = LateRow("All notifications")
    for type_key, submitted_at, snapshot in rows:
        kind = definition(type_key)
        due = due_date(kind, snapshot.get("answers", {})) if kind is not None else None
        submitted_on = submitted_at.astimezone(LOCAL_TIME).date()
        place = snapshot.get("location", {})
        organisation = snapshot.get("organisation", {})
        location = f"{place.get('name', '')} ({place.get('location_id', '')}), {organisation.get('name', '')}"
        type_row = by_type.setdefault(type_key, LateRow(type_title(type_key)))
        location_row = by_location[location]
        location_row.title = location
        for row in (type_row, location_row, overall):
            row.submitted += 1
            if due is not None:
                row.with_due_date += 1
                row.late += submitted_on > due
    return LatenessReport(
        window=span,
        # Most late first, so the table starts where support leads would look; then by name, for a stable order.
        by_type=sorted(by_type.values(), key=lambda r: (-r.late, r.title)),
        by_location=sorted(by_location.values(), key=lambda r: (-r.late, r.title)),
        overall=overall,
    )


def table(report: LatenessReport) -> list[list]:
    header = ["Group", "Name", "Submitted", "With a due date", "Submitted late"]
    return [
        header,
        *(["Type", r.title, r.submitted, r.with_due_date, r.late] for r in report.by_type),
        *(["Location", r.title, r.submitted, r.with_due_date, r.late] for r in report.by_location),
        ["All", report.overall.title, report.overall.submitted, report.overall.with_due_date, report.overall.late],
    ]


def rows(report_rows: list[LateRow]) -> list[list[str]]:
    return [[r.title, f"{r.submitted:,}", f"{r.with_due_date:,}", f"{r.late:,}", r.late_percent] for r in report_rows]
