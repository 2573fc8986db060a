"""Reminder emails before a due date: to the drafter and the admins, once each, unless they turned them off."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.cli import run_worker
from portal.db import transaction
from portal.models import AuditEvent, DeadlineReminder, Notification, OutboxMessage, SectionDraft, User
from portal.notifications import deadlines, reminders
from portal.notifications.registry import definitions

from .conftest import post_form
from .drafting import start_notification
from .live_server import wait_for

BASE = "https://notifications.regulator.example"
# A Monday: an injury on it is due "without delay", read as by the end of Tuesday (deadlines.py).
MONDAY = date(2026, 11, 23)


def _answer(db_factory, notification_id: int, key: str, value: str) -> None:
    kind = definitions()[key]
    section = next(s for s in kind.sections if any(q.key == kind.deadline_from for q in s.questions))
    with transaction(db_factory) as db:
        draft = db.scalars(
            select(SectionDraft).where(
                SectionDraft.notification_id == notification_id, SectionDraft.section_key == section.key
            )
        ).one()
        draft.answers = {**draft.answers, kind.deadline_from: value}


def _reminders(db_factory) -> list[tuple[str, str]]:
    with db_factory() as db:
        return sorted(
            (m.recipient, m.subject)
            for m in db.scalars(select(OutboxMessage).where(OutboxMessage.template == "deadline_reminder"))
        )


def _injury_on_monday(drafter, demo_org, db_factory) -> int:
    notification = start_notification(drafter, "serious_injury", demo_org["locations"][0][0])
    _answer(db_factory, notification, "serious_injury", MONDAY.isoformat())
    return notification


def test_the_drafter_and_the_admins_are_reminded_once_each(as_role, demo_org, db_factory):
    notification = _injury_on_monday(as_role("drafter"), demo_org, db_factory)
    today = MONDAY
    assert reminders.send_due(db_factory, BASE, today) == 2
    assert reminders.send_due(db_factory, BASE, today) == 0
    sent = _reminders(db_factory)
    assert [recipient for recipient, _ in sent] == ["admin@riverside.example", "drafter@riverside.example"]
    assert all(subject.endswith("Serious injury at Riverside House") for _, subject in sent)
    with db_factory() as db:
        body = db.scalars(select(OutboxMessage.body).where(OutboxMessage.template == "deadline_reminder")).first()
    assert f"{BASE}/notifications/{notification}" in body and f"{BASE}/account/reminders" in body


def test_two_workers_at_once_still_send_each_reminder_once(as_role, demo_org, db_factory):
    drafter = as_role("drafter")
    for _ in range(3):
        _injury_on_monday(drafter, demo_org, db_factory)
    today = MONDAY
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def one_worker():
        barrier.wait()
        counts.append(reminders.send_due(db_factory, BASE, today))

    workers = [threading.Thread(target=one_worker) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sum(counts) == 6
    assert len(_reminders(db_factory)) == 6
    with db_factory() as db:
        assert db.scalar(select(func.count(DeadlineReminder.id))) == 6


def test_nobody_is_reminded_far_ahead_after_submission_or_when_the_date_is_unknown(as_role, demo_org, db_factory):
    drafter = as_role("drafter")
    location = demo_org["locations"][0][0]
    far = start_notification(drafter, "manager_absence_planned", location)
    _answer(db_factory, far, "manager_absence_planned", (MONDAY + timedelta(days=60)).isoformat())
    start_notification(drafter, "serious_injury", location)  # no date yet: no due date
    sent = _injury_on_monday(drafter, demo_org, db_factory)
    with transaction(db_factory) as db:
        db.get(Notification, sent).status = "submitted"
    assert reminders.send_due(db_factory, BASE, MONDAY) == 0


def test_a_changed_due_date_earns_a_new_reminder(as_role, demo_org, db_factory):
    notification = _injury_on_monday(as_role("drafter"), demo_org, db_factory)
    today = MONDAY
    assert reminders.send_due(db_factory, BASE, today) == 2
    _answer(db_factory, notification, "serious_injury", "2026-11-24")  # now due on Wednesday
    assert reminders.send_due(db_factory, BASE, today) == 2
    assert reminders.send_due(db_factory, BASE, today + timedelta(days=3)) == 0  # past due: the dashboard says so


def test_someone_who_turned_reminders_off_gets_none_and_the_change_is_audited(as_role, demo_org, db_factory):
    admin = as_role("organisation_admin")
    page = admin.get("/account/reminders")
    assert page.status_code == 200 and "Do you want reminder emails" in page.text
    refused = post_form(admin, "/account/reminders", {}, from_page="/account/reminders")
    assert refused.status_code == 400 and "Select whether you want reminder emails" in refused.text
    done = post_form(admin, "/account/reminders", {"reminders": "off"}, from_page="/account/reminders")
    assert done.status_code == 303
    account = admin.get("/account").text
    assert re.search(r"Reminder emails\s*</dt>\s*<dd[^>]*>\s*Off\s*<", account), account
    _injury_on_monday(as_role("drafter"), demo_org, db_factory)
    assert reminders.send_due(db_factory, BASE, MONDAY) == 1
    assert [r for r, _ in _reminders(db_factory)] == ["drafter@riverside.example"]
    with db_factory() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.event_type == "account:reminders_changed")).all()
        assert [e.data for e in events] == [{"turned": "off"}]
        assert db.scalar(select(User.deadline_reminders).where(User.email == "admin@riverside.example")) is False
    post_form(admin, "/account/reminders", {"reminders": "on"}, from_page="/account/reminders")
    with db_factory() as db:
        assert (
            db.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.event_type == "account:reminders_changed"))
            == 2
        )


def test_portal_worker_sends_reminders(settings, as_role, demo_org, db_factory):
    # The worker counts from the real today: a planned absence starting in 28 days is due today.
    notification = start_notification(as_role("drafter"), "manager_absence_planned", demo_org["locations"][0][0])
    start = deadlines.today() + timedelta(days=28)
    _answer(db_factory, notification, "manager_absence_planned", start.isoformat())
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(settings,), kwargs={"stop": stop, "interval": 0.05})
    worker.start()
    try:
        wait_for(lambda: len(_reminders(db_factory)) == 2, "the worker's reminders")
    finally:
        stop.set()
        worker.join(timeout=30)
