from datetime import date, timedelta

from sqlalchemy import select, update

from portal.models import Notification, SectionDraft, utcnow
from portal.notifications import deadlines
from portal.notifications.deadlines import add_working_days, due_date, is_working_day
from portal.notifications.registry import definitions

from .conftest import count_queries
from .drafting import start_notification


def test_working_days_skip_weekends_and_bank_holidays():
    assert not is_working_day(date(2026, 12, 25)) and not is_working_day(date(2026, 12, 28))  # substitute day
    assert not is_working_day(date(2026, 11, 28))  # a Saturday
    assert add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)
    assert add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)


def test_a_planned_absence_counts_back_28_days_from_its_start():
    kind = definitions()["manager_absence_planned"]
    assert due_date(kind, {"absence": {"absence_start": "2027-03-01"}}) == date(2027, 2, 1)
    assert due_date(kind, {}) is None


def test_an_emergency_absence_is_due_within_5_working_days():
    kind = definitions()["manager_absence_emergency"]
    assert due_date(kind, {"absence": {"absence_start": "2026-04-02"}}) == date(2026, 4, 13)  # Easter


def test_the_task_list_shows_the_deadline_wording(as_role, demo_org):
    drafter = as_role("drafter")
    notification = start_notification(drafter, "manager_absence_planned", demo_org["locations"][0][0])
    page = drafter.get(f"/notifications/{notification}").text
    assert "Tell us no later than 28 days before the absence starts." in page
    assert "The date is worked out from your answer to" in page


# --- Every type's rule, counted from the event or from when the provider became aware -----------------

MONDAY = date(2026, 11, 23)
DUE_FROM_MONDAY = {
    # "Without delay" and "as soon as possible": the end of the next working day (deadlines.py's note).
    "abuse_or_allegation": date(2026, 11, 24),
    "death_of_detained_person": date(2026, 11, 24),
    "death_of_person_using_service": date(2026, 11, 24),
    "dols_outcome": date(2026, 11, 24),
    "event_stopping_service": date(2026, 11, 24),
    "police_incident": date(2026, 11, 24),
    "return_of_detained_person": date(2026, 11, 24),
    "serious_injury": date(2026, 11, 24),
    "unauthorised_absence_detained": date(2026, 11, 24),
    "manager_absence_emergency": date(2026, 11, 30),
    "manager_absence_planned": date(2026, 10, 26),
    "manager_return": date(2026, 11, 30),  # regulation 14(5): 7 days after the return
}


def _anchored(kind, day: date) -> dict[str, dict]:
    value = day.isoformat() + ("T09:30" if kind.question(kind.deadline_from).kind == "datetime" else "")
    return {_section_of(kind).key: {kind.deadline_from: value}}


def _section_of(kind):
    return next(s for s in kind.sections if any(q.key == kind.deadline_from for q in s.questions))


def test_every_shipped_type_has_a_clock_and_a_due_date_from_it():
    for key, expected in DUE_FROM_MONDAY.items():
        kind = definitions()[key]
        assert kind.deadline_from is not None, key
        assert due_date(kind, _anchored(kind, MONDAY)) == expected, key
        assert due_date(kind, {}) is None, key


def test_a_friday_event_due_without_delay_is_due_on_monday():
    kind = definitions()["serious_injury"]
    assert due_date(kind, {"injury": {"injury_date": "2026-11-27"}}) == date(2026, 11, 30)


def test_abuse_counts_from_when_the_provider_became_aware_not_from_when_it_happened():
    kind = definitions()["abuse_or_allegation"]
    answers = {"abuse": {"date_of_abuse": "2026-01-05", "date_aware": "2026-11-23"}}
    assert due_date(kind, answers) == date(2026, 11, 24)


def _answer(db_factory, notification_id: int, kind, day: date) -> None:
    section = _section_of(kind)
    with db_factory() as db, db.begin():
        draft = db.scalars(
            select(SectionDraft).where(
                SectionDraft.notification_id == notification_id, SectionDraft.section_key == section.key
            )
        ).one()
        draft.answers = {**draft.answers, **_anchored(kind, day)[section.key]}


def test_every_kind_of_deadline_is_flagged_on_the_dashboard_once_passed(as_role, demo_org, db_factory):
    drafter = as_role("drafter")
    location = demo_org["locations"][0][0]
    today = deadlines.today()
    late, in_time = {}, {}
    for key in DUE_FROM_MONDAY:
        kind = definitions()[key]
        late[key] = start_notification(drafter, key, location)
        in_time[key] = start_notification(drafter, key, location)
        if kind.deadline_kind == "days_before":
            _answer(db_factory, late[key], kind, today + timedelta(days=10))
            _answer(db_factory, in_time[key], kind, today + timedelta(days=60))
        else:
            _answer(db_factory, late[key], kind, today - timedelta(days=20))
            _answer(db_factory, in_time[key], kind, today)
    page = drafter.get("/dashboard").text
    assert f"{len(DUE_FROM_MONDAY)} notifications are past their deadline and not yet sent" in page
    for key in DUE_FROM_MONDAY:
        assert f'href="/notifications/{late[key]}"' in page, key
        assert f'href="/notifications/{in_time[key]}"' not in page, key
    assert "Overdue" not in drafter.get(f"/notifications/{in_time['serious_injury']}").text
    assert "This notification is overdue" in drafter.get(f"/notifications/{late['serious_injury']}").text


def test_a_draft_opened_long_ago_about_a_recent_event_is_not_overdue(as_role, demo_org, db_factory):
    drafter = as_role("drafter")
    kind = definitions()["serious_injury"]
    notification = start_notification(drafter, "serious_injury", demo_org["locations"][0][0])
    _answer(db_factory, notification, kind, deadlines.today())
    with db_factory() as db, db.begin():
        db.execute(
            update(Notification).values(created_at=utcnow() - timedelta(days=30)).where(Notification.id == notification)
        )
    assert "past its deadline" not in drafter.get("/dashboard").text


def test_the_start_page_and_the_dashboard_show_each_types_rule(as_role):
    dashboard = as_role("drafter").get("/dashboard").text
    for kind in definitions().values():
        expected = f"{kind.title}: tell us {kind.deadline_wording}"
        assert expected.replace("'", "&#39;") in dashboard, kind.key
    page = as_role("drafter").get("/notifications/new").text
    assert "Tell us within 7 days of the manager&#39;s return" in page
    assert "Tell us no later than 28 days before the absence starts" in page
    assert "Tell us the return must also be notified" not in page


def test_a_planned_absence_starting_within_28_days_warns_and_says_what_to_do(as_role, demo_org, db_factory):
    drafter = as_role("drafter")
    kind = definitions()["manager_absence_planned"]
    soon = start_notification(drafter, kind.key, demo_org["locations"][0][0])
    later = start_notification(drafter, kind.key, demo_org["locations"][0][0])
    _answer(db_factory, soon, kind, deadlines.today() + timedelta(days=10))
    _answer(db_factory, later, kind, deadlines.today() + timedelta(days=40))
    warning = "This starts in less than 28 days, so you cannot give 28 days\u2019 notice."
    for path in (f"/notifications/{soon}", f"/notifications/{soon}/sections/{_section_of(kind).key}"):
        page = drafter.get(path).text
        assert 'class="govuk-warning-text"' in page and warning in page, path
        assert "contact them to agree the shorter notice" in page
    assert warning not in drafter.get(f"/notifications/{later}").text


def test_the_dashboard_reads_overdue_notifications_in_the_same_statements_however_many(
    as_role, demo_org, db_factory, app
):
    drafter = as_role("drafter")
    kind = definitions()["serious_injury"]
    long_ago = deadlines.today() - timedelta(days=20)

    def statements_for_dashboard() -> int:
        statements, stop = count_queries(app.state.engine)
        assert drafter.get("/dashboard").status_code == 200
        stop()
        return len(statements)

    _answer(db_factory, start_notification(drafter, kind.key, demo_org["locations"][0][0]), kind, long_ago)
    few = statements_for_dashboard()
    for _ in range(6):
        _answer(db_factory, start_notification(drafter, kind.key, demo_org["locations"][0][0]), kind, long_ago)
    assert statements_for_dashboard() == few
    assert "7 notifications are past their deadline" in drafter.get("/dashboard").text
