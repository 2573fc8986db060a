from datetime import date, timedelta

from sqlalchemy import update

from portal.models import Notification, utcnow
from portal.notifications.deadlines import add_working_days, due_date, is_working_day
from portal.notifications.registry import definitions

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
    assert "Tell us no later than 28 days before" in drafter.get(f"/notifications/{notification}").text


def test_without_delay_drafts_open_too_long_are_flagged_on_the_dashboard(as_role, demo_org, db_factory):
    drafter = as_role("drafter")
    old = start_notification(drafter, "serious_injury", demo_org["locations"][0][0])
    start_notification(drafter, "serious_injury", demo_org["locations"][0][0])
    start_notification(drafter, "manager_absence_planned", demo_org["locations"][0][0])
    with db_factory() as db, db.begin():
        db.execute(
            update(Notification).values(created_at=utcnow() - timedelta(hours=30)).where(Notification.id != old + 1)
        )
    page = drafter.get("/dashboard").text
    assert "1 notification that must be sent without delay has been open for more than 24 hours" in page
    assert f'href="/notifications/{old}"' in page
