"""Emails before a notification's due date, to its drafter (the person it is assigned to) and to the
organisation's admins, sent by `portal worker`.

Each reminder goes once per person and due date: a DeadlineReminder row is written with the email, in one
transaction, and its unique key refuses a second. Two workers that find the same notification due at once
both try; on PostgreSQL the second's insert waits for the first and is refused, on SQLite the write lock
taken first makes them go one after the other. A changed answer that moves the due date earns a new one.

Whoever has turned reminders off in their account (User.deadline_reminders) gets none. A practice copy of an
organisation sends no email, so its notifications are never looked at.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from .. import links, outbox
from ..accounts.permission_holders import people_with_in_each
from ..db import transaction
from ..models import DeadlineReminder, Notification, Organisation, User
from ..permissions import Permission
from ..write_locks import take_sqlite_write_lock
from .deadlines import due_date
from .reading import answers_of
from .registry import definitions, sorted_types
from .states import OPEN_STATUSES

log = logging.getLogger("portal.reminders")

# How far ahead of the due date the reminder goes: two days leaves a working day to finish and submit, and
# a "without delay" notification (due the working day after its event) is reminded as soon as it is known.
REMIND_DAYS_BEFORE = 2


def send_due(factory: sessionmaker[Session], base_url: str, today: date) -> int:
    """One pass: reminds everyone due one and not yet reminded; returns how many emails it wrote."""
    with transaction(factory) as db:
        if db.get_bind().dialect.name == "sqlite":
            take_sqlite_write_lock(db)
        return _remind(db, base_url, today)


def _remind(db: Session, base_url: str, today: date) -> int:
    kinds = definitions()
    timed = [kind.key for kind in sorted_types() if kind.deadline_from is not None]
    open_ones = db.scalars(
        select(Notification)
        .join(Organisation, Organisation.id == Notification.organisation_id)
        .options(
            selectinload(Notification.sections),
            joinedload(Notification.location),
            joinedload(Notification.assigned_to),
        )
        .where(
            Organisation.practice_of_id.is_(None),
            Notification.type_key.in_(timed),
            Notification.status.in_(OPEN_STATUSES),
        )
        .order_by(Notification.id)
    ).all()
    due_soon = []
    for notification in open_ones:
        due = due_date(kinds[notification.type_key], answers_of(notification))  # timed: a known type
        if due is not None and today <= due <= today + timedelta(days=REMIND_DAYS_BEFORE):
            due_soon.append((notification, due))
    if not due_soon:
        return 0
    admins = people_with_in_each(db, Permission.ORGANISATION_MANAGE, {n.organisation_id for n, _ in due_soon})
    written = 0
    for notification, due in due_soon:
        people = {user.id: user for user in admins.get(notification.organisation_id, [])}
        if notification.assigned_to is not None and notification.assigned_to.active:
            people[notification.assigned_to.id] = notification.assigned_to
        for user in sorted(people.values(), key=lambda u: u.id):
            if user.deadline_reminders and _first_time(db, notification.id, user.id, due):
                _email(db, base_url, notification, user, due, today)
                written += 1
    return written


def _first_time(db: Session, notification_id: int, user_id: int, due: date) -> bool:
    try:
        with db.begin_nested():
            db.add(DeadlineReminder(notification_id=notification_id, user_id=user_id, due_on=due))
    except IntegrityError:
        return False
    return True


def _email(db: Session, base_url: str, notification: Notification, user: User, due: date, today: date) -> None:
    kind = definitions()[notification.type_key]
    outbox.enqueue_email(
        db,
        template="deadline_reminder",
        recipient=user.email,
        notification_type=kind.title,
        location_name=notification.location.name,
        deadline_wording=kind.deadline_wording,
        due=f"{due.day} {due:%B %Y}",
        due_today=due == today,
        link=links.notification(base_url, notification.id),
        settings_link=links.reminder_settings(base_url),
    )
