"""Reports for support leads, callable without HTTP: submissions per week by type, time to submit,
and open queries by age.

Each report is one SQL statement whatever the amount of data. Counts are grouped in SQL. Week and
age buckets are CASE expressions over boundaries computed here and bound as parameters, so the same
statement runs on SQLite and PostgreSQL without either's date functions. Medians are taken in SQL on
PostgreSQL (percentile_cont); SQLite has no percentile function, so there the durations are read and
the median taken here, a read bounded by the 12-week window rather than the whole history.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select, tuple_
from sqlalchemy.orm import Session

from ..models import OPEN_STATUSES, Notification, Submission, SupportQuery, utcnow
from ..notifications.registry import definition
from ..regulator_scope import for_regulator
from ..text import count_of

WEEKS = 12
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)
HOUR = 3600.0

# (label, lower bound in days inclusive). Each bucket ends where the next one starts.
AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("Under 1 day", 0),
    ("1 to 3 days", 1),
    ("3 to 7 days", 3),
    ("Over 7 days", 7),
)
# The support queue's words for whose turn it is, seen from support's side.
OPEN_STATUS_WORDS = {
    "new": "New",
    "waiting_on_support": "Waiting on support",
    "waiting_on_provider": "Waiting on provider",
}


# The window ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The last WEEKS weeks, each starting Monday 00:00 UTC; the last one is the current, unfinished week."""

    now: datetime
    starts: tuple[datetime, ...]

    @property
    def start(self) -> datetime:
        return self.starts[0]

    @property
    def end(self) -> datetime:
        return self.starts[-1] + WEEK


def window(now: datetime | None = None, weeks: int = WEEKS) -> Window:
    now = (now or utcnow()).astimezone(UTC)
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(), tzinfo=UTC)
    return Window(now=now, starts=tuple(monday - WEEK * (weeks - 1 - i) for i in range(weeks)))


def _in_window(span: Window):
    """Submissions in the window, by the submissions table's indexed submitted_at; never practice ones."""
    return (
        Submission.submitted_at >= span.start,
        Submission.submitted_at < span.end,
        for_regulator(Submission.organisation_id),
    )


def type_title(type_key: str) -> str:
    # A type taken out of the definitions still has submissions: show its key rather than hide them.
    kind = definition(type_key)
    return kind.title if kind is not None else type_key


# Submissions per week, by type ------------------------------------------------------------------


@dataclass(frozen=True)
class TypeColumn:
    key: str
    title: str


@dataclass
class WeekRow:
    start: date
    counts: list[int]  # in the order of WeeklyReport.types
    current: bool  # the week still running, so its count is so far

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class WeeklyReport:
    window: Window
    types: list[TypeColumn]
    rows: list[WeekRow]

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)

    def by_type(self, index: int) -> list[int]:
        return [row.counts[index] for row in self.rows]

    def busiest(self) -> WeekRow | None:
        # The earliest of equally busy weeks, so the sentence is stable.
        return max(self.rows, key=lambda row: (row.total, -row.start.toordinal())) if self.total else None


def _bucket(column, boundaries: list[datetime]):
    """0 for values before boundaries[0], 1 before boundaries[1], ... and len(boundaries) after the last."""
    return case(*[(column < boundary, index) for index, boundary in enumerate(boundaries)], else_=len(boundaries))


def submissions_per_week(db: Session, span: Window) -> WeeklyReport:
    """Counted from the submissions themselves: the frozen record of what reached the regulator."""
    week_of = _bucket(Submission.submitted_at, list(span.starts[1:]))
    counted = db.execute(
        select(week_of, Submission.type_key, func.count())
        .where(*_in_window(span))
        .group_by(week_of, Submission.type_key)
    ).all()
    types = sorted({TypeColumn(key, type_title(key)) for _, key, _ in counted}, key=lambda t: (t.title, t.key))
    position = {column.key: index for index, column in enumerate(types)}
    rows = [
        WeekRow(start=start.date(), counts=[0] * len(types), current=index == len(span.starts) - 1)
        for index, start in enumerate(span.starts)
    ]
    for week, key, count in counted:
        rows[week].counts[position[key]] = count
    return WeeklyReport(window=span, types=types, rows=rows)


# Time to submit ---------------------------------------------------------------------------------


@dataclass
class TimeRow:
    title: str
    submitted: int
    # Medians in seconds; None when nothing was measured.
    draft_to_submission: float | None
    review_to_approval: float | None


@dataclass
class TimeReport:
    window: Window
    overall: TimeRow
    by_type: list[TimeRow] = field(default_factory=list)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def time_to_submit(db: Session, span: Window) -> TimeReport:
    """Medians over the notifications submitted in the window.

    First draft to submission: from the notification's created_at (when the draft was started; a
    follow-up counts from when the follow-up was started) to its submission.
    Review request to approval: from the latest request for review to the approval that was submitted.
    A notification sent back for changes is asked for review again, and only that last round counts.
    Both are set on every submitted notification; a row with the approval before the request is left
    out of that median rather than counted as a negative time.
    """
    if db.get_bind().dialect.name == "postgresql":
        return _time_to_submit_in_sql(db, span)
    return _time_to_submit_here(db, span)


def _reviewed():
    return (Notification.review_requested_at.is_not(None)) & (
        Notification.approved_at >= Notification.review_requested_at
    )


def _time_to_submit_in_sql(db: Session, span: Window) -> TimeReport:
    # Measured with bench/reports.py's seed (9,000 submissions in the window): reading the rows to take
    # the medians in Python took about twice as long as percentile_cont (170 against 80 ms), and the
    # difference grows with the number of submissions. The tests run both and expect the same medians.
    drafting = func.extract("epoch", Submission.submitted_at - Notification.created_at)
    reviewing = func.extract("epoch", Notification.approved_at - Notification.review_requested_at)
    medians = db.execute(
        select(
            Submission.type_key,
            func.count(),
            func.percentile_cont(0.5).within_group(drafting),
            func.percentile_cont(0.5).within_group(reviewing).filter(_reviewed()),
        )
        .join(Notification, Notification.id == Submission.notification_id)
        .where(*_in_window(span))
        # One row per type, and one (type_key NULL) for all of them together.
        .group_by(func.grouping_sets(tuple_(Submission.type_key), tuple_()))
    ).all()
    rows = {
        key: TimeRow(type_title(key) if key is not None else "All types", count, _seconds(draft), _seconds(review))
        for key, count, draft, review in medians
    }
    overall = rows.pop(None, None) or TimeRow("All types", 0, None, None)
    return TimeReport(window=span, overall=overall, by_type=sorted(rows.values(), key=lambda row: row.title))


def _seconds(value) -> float | None:
    return float(value) if value is not None else None


def _time_to_submit_here(db: Session, span: Window) -> TimeReport:
    rows = db.execute(
        select(
            Submission.type_key,
            Notification.created_at,
            Notification.review_requested_at,
            Notification.approved_at,
            Submission.submitted_at,
        )
        .join(Notification, Notification.id == Submission.notification_id)
        .where(*_in_window(span))
    ).all()
    drafting: dict[str, list[float]] = {}
    reviewing: dict[str, list[float]] = {}
    for type_key, created, requested, approved, submitted in rows:
        drafting.setdefault(type_key, []).append((submitted - created).total_seconds())
        reviews = reviewing.setdefault(type_key, [])
        if requested is not None and approved is not None and approved >= requested:
            reviews.append((approved - requested).total_seconds())
    by_type = sorted(
        (
            TimeRow(type_title(key), len(drafting[key]), _median(drafting[key]), _median(reviewing[key]))
            for key in drafting
        ),
        key=lambda row: row.title,
    )
    overall = TimeRow(
        "All types",
        len(rows),
        _median([s for values in drafting.values() for s in values]),
        _median([s for values in reviewing.values() for s in values]),
    )
    return TimeReport(window=span, overall=overall, by_type=by_type)


def duration_words(seconds: float | None) -> str:
    """Two units at most: '2 days 4 hours', '5 hours 30 minutes', '45 minutes'."""
    if seconds is None:
        return "Not measured"
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)

    if days:
        return count_of(days, "day") + (f" {count_of(hours, 'hour')}" if hours else "")
    if hours:
        return count_of(hours, "hour") + (f" {count_of(minutes, 'minute')}" if minutes else "")
    return count_of(minutes, "minute") if minutes else "Under a minute"


def hours(seconds: float | None) -> float | str:
    return round(seconds / HOUR, 1) if seconds is not None else ""


# Open queries by age ----------------------------------------------------------------------------


@dataclass
class AgeRow:
    label: str
    counts: list[int]  # in the order of OPEN_STATUSES

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class AgeReport:
    now: datetime
    rows: list[AgeRow]

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)

    @property
    def statuses(self) -> list[str]:
        # A status added later still gets a column, in plain words, rather than breaking the report.
        return [OPEN_STATUS_WORDS.get(status, status.replace("_", " ").capitalize()) for status in OPEN_STATUSES]


def open_queries_by_age(db: Session, now: datetime) -> AgeReport:
    """Age is the time since the query was asked; a query exactly 1, 3 or 7 days old is in the older bucket."""
    age = case(
        *[
            (SupportQuery.created_at <= now - DAY * days, index)
            for index, (_, days) in reversed(list(enumerate(AGE_BUCKETS)))
            if days
        ],
        else_=0,
    )
    counted = db.execute(
        select(age, SupportQuery.status, func.count())
        .where(SupportQuery.status.in_(OPEN_STATUSES), for_regulator(SupportQuery.organisation_id))
        .group_by(age, SupportQuery.status)
    ).all()
    rows = [AgeRow(label, [0] * len(OPEN_STATUSES)) for label, _ in AGE_BUCKETS]
    for bucket, status, count in counted:
        rows[bucket].counts[OPEN_STATUSES.index(status)] = count
    return AgeReport(now=now, rows=rows)


# All three, and their CSV tables ------------------------------------------------------------------


@dataclass
class Reports:
    weekly: WeeklyReport
    times: TimeReport
    queries: AgeReport


def all_reports(db: Session, now: datetime | None = None) -> Reports:
    span = window(now)
    return Reports(submissions_per_week(db, span), time_to_submit(db, span), open_queries_by_age(db, span.now))


def weekly_table(report: WeeklyReport) -> list[list]:
    header = ["Week starting", *(column.title for column in report.types), "Total"]
    return [header, *([row.start.isoformat(), *row.counts, row.total] for row in report.rows)]


def times_table(report: TimeReport) -> list[list]:
    header = [
        "Type",
        "Submitted",
        "Median hours from first draft to submission",
        "Median hours from latest review request to approval",
    ]
    return [
        header,
        *(
            [row.title, row.submitted, hours(row.draft_to_submission), hours(row.review_to_approval)]
            for row in [*report.by_type, report.overall]
        ),
    ]


def queries_table(report: AgeReport) -> list[list]:
    header = ["Open for", *report.statuses, "Total"]
    return [header, *([row.label, *row.counts, row.total] for row in report.rows)]


# Each download by its file name stem, and how to build its table.
DOWNLOADS = {
    "submissions-per-week": (lambda db, now: weekly_table(submissions_per_week(db, window(now)))),
    "time-to-submit": (lambda db, now: times_table(time_to_submit(db, window(now)))),
    "open-queries-by-age": (lambda db, now: queries_table(open_queries_by_age(db, window(now).now))),
    "late-submissions": (lambda db, now: _late_table(db, window(now))),
}


def _late_table(db: Session, span: Window) -> list[list]:
    from . import lateness  # it builds on this module's window

    return lateness.table(lateness.late_submissions(db, span))


# Characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A text cell that a spreadsheet would run as a formula gets a leading quote, so it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(table: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
