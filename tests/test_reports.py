"""Reports for support leads: submissions per week by type, time to submit, open queries by age."""

from __future__ import annotations

import csv
import gzip
import html
import io
import itertools
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from portal.db import transaction
from portal.models import Notification, Organisation, Submission, SupportQuery, utcnow
from portal.notifications.registry import definitions
from portal.reports import charts, service

from .conftest import count_queries
from .journey import submitted

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
BY_TYPE = "/support/reports/submissions-by-type"
REPORT_PATHS = [
    "/support/reports",
    BY_TYPE,
    "/support/reports/submissions-per-week.csv",
    "/support/reports/time-to-submit.csv",
    "/support/reports/open-queries-by-age.csv",
    "/support/reports/late-submissions",
    "/support/reports/late-submissions.csv",
]


@pytest.fixture
def submit(as_role, demo_org):
    """submit("serious_injury") -> the id of a notification drafted, reviewed, approved and submitted over HTTP."""
    people = [as_role("drafter"), as_role("reviewer"), as_role("submitter")]
    location = demo_org["locations"][0][0]
    return lambda type_key: submitted(*people, type_key, location)[0]


def set_times(
    db_factory,
    notification_id: int,
    *,
    submitted_at: datetime,
    created_at: datetime | None = None,
    review_requested_at: datetime | None = None,
    approved_at: datetime | None = None,
) -> None:
    """Moves a real submission's clock, so the durations the report measures are known."""
    values = {
        "submitted_at": submitted_at,
        "created_at": created_at or submitted_at - HOUR,
        "review_requested_at": review_requested_at or submitted_at - HOUR / 2,
        "approved_at": approved_at or submitted_at - HOUR / 4,
    }
    with transaction(db_factory) as db:
        db.execute(update(Notification).where(Notification.id == notification_id).values(**values))
        db.execute(
            update(Submission).where(Submission.notification_id == notification_id).values(submitted_at=submitted_at)
        )


_references = itertools.count(1)


def submission_rows(db_factory, type_keys: list[str], submitted_at: datetime) -> None:
    """Many submissions quickly, as rows, for tests about volume rather than the journey to them."""
    with transaction(db_factory) as db:
        organisation = db.scalar(select(Organisation).where(Organisation.provider_id == "1-101000001"))
        for type_key in type_keys:
            reference = f"R{next(_references):07d}"
            notification = Notification(
                organisation_id=organisation.id,
                location_id=organisation.locations[0].id,
                type_key=type_key,
                type_version=1,
                status="submitted",
                reference=reference,
                created_at=submitted_at - DAY,
                review_requested_at=submitted_at - 2 * HOUR,
                approved_at=submitted_at - HOUR,
                submitted_at=submitted_at,
            )
            db.add(notification)
            db.flush()
            db.add(
                Submission(
                    notification_id=notification.id,
                    organisation_id=organisation.id,
                    reference=reference,
                    type_key=type_key,
                    type_version=1,
                    snapshot={},
                    content_hash="0" * 64,
                    submitted_at=submitted_at,
                )
            )


def ask(db_factory, *, age: timedelta, status: str = "new", now: datetime | None = None) -> None:
    with transaction(db_factory) as db:
        organisation = db.scalar(select(Organisation).where(Organisation.provider_id == "1-101000001"))
        created = (now or utcnow()) - age
        db.add(
            SupportQuery(
                organisation_id=organisation.id,
                subject="Where is my receipt?",
                status=status,
                created_at=created,
                updated_at=created,
            )
        )


def table(page: str, caption: str) -> list[list[str]]:
    """The rows of the table with this caption, header first, as the text a reader sees in each cell."""
    found = re.search(rf"<caption[^>]*>\s*{re.escape(caption)}\s*</caption>(.*?)</table>", page, re.S)
    assert found, f"no table captioned {caption!r}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# Submissions per week ---------------------------------------------------------------------------


def test_the_weekly_table_counts_each_type_in_its_week(lead, submit, db_factory):
    weeks = service.window().starts
    injury, dols, too_old = submit("serious_injury"), submit("dols_outcome"), submit("serious_injury")
    set_times(db_factory, injury, submitted_at=weeks[9] + 3 * DAY + 5 * HOUR)
    set_times(db_factory, dols, submitted_at=weeks[11])  # the first moment of this week
    set_times(db_factory, too_old, submitted_at=weeks[0] - timedelta(seconds=1))

    overview = lead.get("/support/reports").text
    rows = table(overview, "Notifications submitted per week, by type")
    assert rows[0] == ["Week starting", "Deprivation of Liberty Safeguards outcome", "Serious injury", "Total"]
    assert len(rows) == 1 + 12
    counts = {row[0]: row[1:] for row in rows[1:]}
    assert counts[f"{weeks[9]:%-d %b %Y}"] == ["0", "1", "1"]
    assert counts[f"{weeks[11]:%-d %b %Y} (so far)"] == ["1", "0", "1"]
    assert sum(int(row[-1]) for row in rows[1:]) == 2  # the one before the window is left out
    assert "2 notifications submitted in the 12 weeks" in overview
    by_type = lead.get(BY_TYPE).text
    assert re.findall(r'<h2 class="govuk-heading-s[^"]*">([^<]+)</h2>', by_type) == [
        "Deprivation of Liberty Safeguards outcome",
        "Serious injury",
    ]


def test_weeks_start_on_monday_at_midnight_utc():
    # 02:00 on Monday 24 March in UTC+5 is still Sunday 23 March in UTC.
    span = service.window(datetime(2025, 3, 24, 2, 0, tzinfo=timezone(timedelta(hours=5))))
    assert span.starts[-1] == datetime(2025, 3, 17, tzinfo=UTC)
    assert span.starts[0] == datetime(2024, 12, 30, tzinfo=UTC)
    assert len(span.starts) == 12 and all(start.weekday() == 0 for start in span.starts)
    assert service.window(datetime(2025, 3, 24, tzinfo=UTC)).starts[-1] == datetime(2025, 3, 24, tzinfo=UTC)


# Time to submit ---------------------------------------------------------------------------------


def test_medians_come_from_known_timestamps(lead, submit, db_factory, db):
    now = utcnow()
    # (type, hours from first draft to submission, hours from review request to approval)
    known = [("serious_injury", 2, 1), ("serious_injury", 10, 3), ("dols_outcome", 30, 5)]
    for type_key, drafting, reviewing in known:
        notification = submit(type_key)
        approved = now - DAY - HOUR
        set_times(
            db_factory,
            notification,
            submitted_at=now - DAY,
            created_at=now - DAY - drafting * HOUR,
            approved_at=approved,
            review_requested_at=approved - reviewing * HOUR,
        )

    span = service.window()
    report = service.time_to_submit(db, span)
    # PostgreSQL takes medians in SQL, SQLite in Python: on either database the Python way agrees.
    assert service._time_to_submit_here(db, span) == report
    assert report.overall.submitted == 3
    assert report.overall.draft_to_submission == 10 * 3600 and report.overall.review_to_approval == 3 * 3600
    by_type = {row.title: row for row in report.by_type}
    assert by_type["Serious injury"].draft_to_submission == 6 * 3600  # the middle of two: (2 + 10) / 2

    page = lead.get("/support/reports").text
    assert table(page, "Median time to submit, by type")[1:] == [
        ["Deprivation of Liberty Safeguards outcome", "1", "1 day 6 hours", "5 hours"],
        ["Serious injury", "2", "6 hours", "2 hours"],
        ["All types", "3", "10 hours", "3 hours"],
    ]
    assert "the latest request for review to the approval" in page


def test_durations_read_as_words():
    assert service.duration_words(None) == "Not measured"
    assert service.duration_words(20) == "Under a minute"
    assert service.duration_words(45 * 60) == "45 minutes"
    assert service.duration_words(3600) == "1 hour"
    assert service.duration_words(5.5 * 3600) == "5 hours 30 minutes"
    assert service.duration_words(2 * 86400 + 4 * 3600 + 59) == "2 days 4 hours"


# Open queries -----------------------------------------------------------------------------------


def test_open_queries_land_in_their_age_bucket(lead, db_factory, demo_org):
    ask(db_factory, age=2 * HOUR)
    ask(db_factory, age=2 * DAY, status="waiting_on_support")
    ask(db_factory, age=5 * DAY, status="waiting_on_provider")
    ask(db_factory, age=5 * DAY, status="waiting_on_support")
    ask(db_factory, age=10 * DAY)
    ask(db_factory, age=30 * DAY, status="resolved")

    page = lead.get("/support/reports").text
    assert table(page, "Open queries by age and status") == [
        ["Open for", "New", "Waiting on support", "Waiting on provider", "Total"],
        ["Under 1 day", "1", "0", "0", "1"],
        ["1 to 3 days", "0", "1", "0", "1"],
        ["3 to 7 days", "0", "1", "1", "2"],
        ["Over 7 days", "1", "0", "0", "1"],
    ]
    assert "5 queries open. 1 has been open for over 7 days." in page


def test_a_query_on_a_bucket_boundary_counts_in_the_older_bucket(db_factory, db, demo_org):
    now = datetime(2025, 3, 26, 12, 0, tzinfo=UTC)
    for days in (1, 3, 7):
        ask(db_factory, age=days * DAY, now=now)
    ask(db_factory, age=DAY - timedelta(seconds=1), now=now)
    report = service.open_queries_by_age(db, now)
    assert [row.total for row in report.rows] == [1, 1, 1, 1]


# Charts -----------------------------------------------------------------------------------------


def test_charts_are_named_described_and_labelled_with_their_values(lead, submit, db_factory, demo_org):
    set_times(db_factory, submit("serious_injury"), submitted_at=utcnow() - HOUR)
    ask(db_factory, age=4 * DAY)
    overview, by_type = lead.get("/support/reports").text, lead.get(BY_TYPE).text
    found = {}
    for page in (overview, by_type):
        assert "<script" not in page.split('id="main-content"')[1].split("</main>")[0]
        for svg in re.findall(r'<svg role="img".*?</svg>\n</svg>', page, re.S):
            title_id = re.search(r'aria-labelledby="([^"]+)"', svg).group(1)
            summary_id = re.search(r'aria-describedby="([^"]+)"', svg).group(1)
            title = re.search(rf'<title id="{title_id}">([^<]+)</title>', svg).group(1)
            summary = re.search(rf'<p class="[^"]+" id="{summary_id}">([^<]+)</p>', page).group(1)
            found[title] = (summary, re.findall(r"<text[^>]*>([^<]+)</text>", svg))
    assert [title.split(",")[0].split(":")[0] for title in found] == [
        "Notifications submitted per week",
        "Open queries by age",
        "Serious injury",
    ]
    summary, texts = found["Open queries by age"]
    assert summary == "1 query open. None has been open for over 7 days."
    assert texts == ["Under 1 day", "1 to 3 days", "3 to 7 days", "Over 7 days", "0", "0", "1", "0"]
    summary, texts = found["Serious injury: submitted per week"]
    assert summary.startswith("1 notification in these weeks. The most in one week was 1, in the week starting ")
    assert texts[-1] == "1" and texts.count("0") == 11


def test_the_longest_bar_leaves_room_for_its_value_on_the_narrowest_screen():
    chart = charts.bar_chart("c", "A chart", [("Under 1 day", 1234), ("1 to 3 days", 617), ("Over 7 days", 0)])
    longest, half, empty = chart.bars
    used = (
        chart.label_width
        + longest.percent / 100 * charts.NARROWEST_EM
        + charts.GAP_EM
        + len(longest.value_text) * charts.CHAR_EM
    )
    assert used <= charts.NARROWEST_EM + 0.01
    assert half.percent == pytest.approx(longest.percent / 2, abs=0.1) and empty.percent == 0
    assert [bar.value_text for bar in chart.bars] == ["1,234", "617", "0"]


# Downloads --------------------------------------------------------------------------------------


def test_each_csv_is_the_table_on_the_page(lead, submit, db_factory, demo_org):
    now = utcnow()
    set_times(db_factory, submit("serious_injury"), submitted_at=now - HOUR, created_at=now - 3 * DAY)
    ask(db_factory, age=2 * DAY, status="waiting_on_provider")
    page = lead.get("/support/reports").text

    weekly = lead.get("/support/reports/submissions-per-week.csv")
    assert weekly.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        weekly.headers["content-disposition"]
        == f'attachment; filename="submissions-per-week-{now.date().isoformat()}.csv"'
    )
    on_page = table(page, "Notifications submitted per week, by type")
    in_file = csv_rows(weekly)
    assert in_file[0] == on_page[0]
    assert [row[1:] for row in in_file[1:]] == [row[1:] for row in on_page[1:]]
    assert [row[0] for row in in_file[1:]] == [start.date().isoformat() for start in service.window().starts]

    queries = csv_rows(lead.get("/support/reports/open-queries-by-age.csv"))
    assert queries == table(page, "Open queries by age and status")

    times = csv_rows(lead.get("/support/reports/time-to-submit.csv"))
    assert [row[:2] for row in times] == [["Type", "Submitted"], ["Serious injury", "1"], ["All types", "1"]]
    assert times[1][2] == "71.0"  # hours from first draft to submission
    assert [row[:2] for row in table(page, "Median time to submit, by type")[1:]] == [row[:2] for row in times[1:]]


def test_a_csv_cell_that_a_spreadsheet_would_run_stays_text(lead, submit, db_factory):
    text = service.csv_text([['=HYPERLINK("http://evil")', "+1", "-1", "@SUM(A1)", "\tx", "plain", 5, -2]])
    assert next(csv.reader(io.StringIO(text))) == [
        """'=HYPERLINK("http://evil")""",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "5",
        "-2",
    ]
    # A type no longer in the definitions is shown by its key, which the CSV must not let run either.
    notification = submit("serious_injury")
    with transaction(db_factory) as db:
        db.execute(update(Submission).where(Submission.notification_id == notification).values(type_key="=1+2"))
    header = csv_rows(lead.get("/support/reports/submissions-per-week.csv"))[0]
    assert header == ["Week starting", "'=1+2", "Total"]
    assert "=1+2" in table(lead.get("/support/reports").text, "Notifications submitted per week, by type")[0]


# Who may see them -------------------------------------------------------------------------------


def test_only_support_leads_see_reports(lead, as_role, client, demo_org):
    agent, drafter, admin = as_role("support_agent"), as_role("drafter"), as_role("organisation_admin")
    for path in REPORT_PATHS:
        assert lead.get(path).status_code == 200, path
        assert agent.get(path).status_code == 403, path
        assert drafter.get(path).status_code == 403, path
        assert admin.get(path).status_code == 403, path
        assert client.get(path).headers["location"].startswith("/sign-in"), path
    assert 'href="/support/reports"' in lead.get("/support").text
    assert 'href="/support/reports"' not in agent.get("/support").text


# Bounds -----------------------------------------------------------------------------------------


def test_the_reports_use_the_same_number_of_queries_with_more_data(lead, app, db_factory, demo_org):
    now = utcnow()
    submission_rows(db_factory, ["serious_injury"], now - HOUR)
    ask(db_factory, age=HOUR)

    def counts() -> list[int]:
        found = []
        for path in REPORT_PATHS:
            statements, stop = count_queries(app.state.engine)
            assert lead.get(path).status_code == 200
            stop()
            found.append(len(statements))
        return found

    few = counts()
    keys = sorted(definitions())
    for week in range(12):
        submission_rows(db_factory, keys, now - week * 7 * DAY)
    for age in (2 * HOUR, 2 * DAY, 5 * DAY, 9 * DAY, 40 * DAY):
        ask(db_factory, age=age, status="waiting_on_support")
    many = counts()
    assert few == many, f"statements per path for 1 submission, then {1 + 12 * len(keys)}: {few}, {many}"


def test_the_pages_stay_light_with_every_type_in_every_week(lead, db_factory, demo_org):
    now = utcnow()
    for week in range(12):
        submission_rows(db_factory, sorted(definitions()), now - week * 7 * DAY)
    for path, charts_on_page in [("/support/reports", 2), (BY_TYPE, len(definitions()))]:
        page = lead.get(path)
        assert page.status_code == 200
        assert page.text.count('<svg role="img"') == charts_on_page
        # The limits tests/test_page_weight.py sets for every page, set when there were 12 types; the weekly
        # table has a column per type, so each type beyond them may add a kilobyte of raw HTML, no more.
        raw_limit = (40 + max(0, len(definitions()) - 12)) * 1024
        assert len(page.content) < raw_limit, f"{path}: {len(page.content) / 1024:.1f} KB raw"
        assert len(gzip.compress(page.content)) < 10 * 1024, path


# Late submissions -------------------------------------------------------------------------------

LATE = "/support/reports/late-submissions"


def late_row(db_factory, organisation_id, type_key, answers, location, submitted_at) -> None:
    """A submission as the regulator received it: its frozen answers give its due date."""
    with transaction(db_factory) as db:
        organisation = db.get(Organisation, organisation_id)
        reference = f"L{next(_references):07d}"
        notification = Notification(
            organisation_id=organisation.id,
            # A practice copy's own locations are not made here: the real one's stands in.
            location_id=db.scalar(select(Organisation).where(Organisation.provider_id == "1-101000001"))
            .locations[0]
            .id,
            type_key=type_key,
            type_version=1,
            status="submitted",
            reference=reference,
            submitted_at=submitted_at,
        )
        db.add(notification)
        db.flush()
        db.add(
            Submission(
                notification_id=notification.id,
                organisation_id=organisation.id,
                reference=reference,
                type_key=type_key,
                type_version=1,
                snapshot={
                    "organisation": {"name": organisation.name},
                    "location": {"name": location, "location_id": "1-1"},
                    "answers": answers,
                },
                content_hash="0" * 64,
                submitted_at=submitted_at,
            )
        )


def test_late_submissions_are_counted_by_type_and_by_location(lead, db_factory, demo_org):
    # Noon UTC on a Wednesday of this week or last: inside the report's window, on a known weekday.
    now = utcnow()
    wednesday = datetime.combine(now.date() - timedelta(days=now.weekday()) + 2 * DAY, datetime.min.time(), UTC)
    if wednesday > now:
        wednesday -= 7 * DAY
    noon = wednesday + 12 * HOUR
    monday, tuesday = (noon - 2 * DAY).date(), (noon - DAY).date()
    org = demo_org["id"]
    # An injury on Monday is due by the end of Tuesday: late on Wednesday. One on Tuesday is on time.
    late_row(db_factory, org, "serious_injury", {"injury": {"injury_date": monday.isoformat()}}, "House", noon)
    late_row(db_factory, org, "serious_injury", {"injury": {"injury_date": tuesday.isoformat()}}, "House", noon)
    # Abuse counts from when the provider became aware (Tuesday), not from when it happened: on time.
    abuse = {"abuse": {"date_of_abuse": "2020-01-01", "date_aware": tuesday.isoformat()}}
    late_row(db_factory, org, "abuse_or_allegation", abuse, "Lodge", noon)
    # A return notified 10 days after it happened: late (7 days). One with no date: counted as neither.
    back = {"return": {"return_date": (noon - 10 * DAY).date().isoformat()}}
    late_row(db_factory, org, "manager_return", back, "Lodge", noon)
    late_row(db_factory, org, "police_incident", {}, "Lodge", noon)
    # A practice organisation's late submission is never the regulator's to count.
    with transaction(db_factory) as db:
        practice = Organisation(name="Riverside (practice)", provider_id="", practice_of_id=org)
        db.add(practice)
        db.flush()
        practice_id = practice.id
    late_row(db_factory, practice_id, "serious_injury", {"injury": {"injury_date": "2020-01-01"}}, "House", noon)

    page = lead.get(LATE).text
    assert table(page, "Notifications submitted late, by type") == [
        ["Type", "Submitted", "With a due date", "Submitted late", "Late"],
        ["Return of the registered manager", "1", "1", "1", "100%"],
        ["Serious injury", "2", "2", "1", "50%"],
        ["Abuse or allegation of abuse", "1", "1", "0", "0%"],
        ["Incident reported to or investigated by the police", "1", "0", "0", "–"],
        ["All notifications", "5", "4", "2", "50%"],
    ]
    assert table(page, "Notifications submitted late, by location") == [
        ["Location", "Submitted", "With a due date", "Submitted late", "Late"],
        ["House (1-1), Riverside Care Ltd", "2", "2", "1", "50%"],
        ["Lodge (1-1), Riverside Care Ltd", "3", "2", "1", "50%"],
    ]
    assert "2 of the 4 notifications with a due date were submitted late." in page
    assert csv_rows(lead.get(LATE + ".csv"))[-1] == ["All", "All notifications", "5", "4", "2"]
    assert 'href="/support/reports/late-submissions"' in lead.get("/support/reports").text
