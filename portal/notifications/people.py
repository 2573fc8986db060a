"""The index of who a notification is about, and by which provider reference: kept on save, read by pages.

A notification's person identifier and provider reference are answers like any other, stored in its
sections' JSON. Finding every notification about one person by reading that JSON would read every
notification, so each save of a section holding one of them writes its search key
(identifiers.search_key) to notification_identifiers too, in the same transaction and under the
notification's lock that the save already holds. The index is then never out of step with the answers
anyone can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, joinedload

from ..accounts.sessions import Auth
from ..models import Notification, NotificationIdentifier
from ..permissions import Permission
from .definitions import Question, Section
from .identifiers import search_key
from .locking import holds_lock
from .reading import type_of

PERSON = "person"
PROVIDER_REFERENCE = "provider_reference"
# The about_you section's question every type shares (tests/test_notification_definitions.py).
PROVIDER_REFERENCE_KEY = "provider_reference"
# A page lists this many; a person with more notifications than this has the newest shown.
OTHERS_SHOWN = 10


def _index_kind(question: Question) -> str | None:
    if question.kind == "person_identifier":
        return PERSON
    if question.key == PROVIDER_REFERENCE_KEY:
        return PROVIDER_REFERENCE
    return None


def indexed_questions(section: Section) -> dict[str, str]:
    """The section's indexed questions, follow-ups too: question key -> what the index calls it."""
    found = {}
    for question in section.questions:
        for each in (question, question.follow_up):
            if each is not None and (kind := _index_kind(each)) is not None:
                found[each.key] = kind
    return found


def index_section(db: Session, notification: Notification, section: Section, answers: dict[str, Any]) -> None:
    """Writes the index rows for one section's saved answers, replacing the ones it had.

    Called by the save, which holds the notification's lock: two saves of one section cannot interleave."""
    questions = indexed_questions(section)
    if not questions:
        return
    if not holds_lock(db, notification.id):
        # A bug, not a person's mistake: an index written outside the lock could lose a race with a save.
        raise RuntimeError("index_section needs the notification's lock (locking.changing)")
    db.execute(
        delete(NotificationIdentifier).where(
            NotificationIdentifier.notification_id == notification.id,
            NotificationIdentifier.question_key.in_(questions),
        )
    )
    rows = []
    for question_key, kind in questions.items():
        value = answers.get(question_key)
        key = search_key(value) if isinstance(value, str) else ""
        if key:
            rows.append(
                {
                    "notification_id": notification.id,
                    "organisation_id": notification.organisation_id,
                    "question_key": question_key,
                    "kind": kind,
                    "search_key": key,
                }
            )
    if rows:
        db.execute(insert(NotificationIdentifier), rows)


def reindex(db: Session, notification: Notification) -> None:
    """Every section's index rows again, from its saved answers: for anything that writes answers other
    than the section save (a prefill when a notification starts, a repair script). Needs the lock."""
    drafts = {draft.section_key: draft for draft in notification.sections}
    for section in type_of(notification).sections:
        if section.key in drafts:
            index_section(db, notification, section, drafts[section.key].answers or {})


def identifier_of(notification: Notification) -> str | None:
    """The person identifier as saved (not its search key), or None while it is not answered."""
    drafts = {draft.section_key: draft for draft in notification.sections}
    for section in type_of(notification).sections:
        for key, kind in indexed_questions(section).items():
            value = (drafts[section.key].answers or {}).get(key) if section.key in drafts else None
            if kind == PERSON and isinstance(value, str) and value:
                return value
    return None


@dataclass
class SamePerson:
    """The organisation's other notifications about the person this one is about, as one viewer may see them."""

    identifier: str
    notifications: list[Notification]
    more: bool

    @property
    def shown(self) -> bool:
        return bool(self.notifications)


def other_notifications_about_the_person(db: Session, auth: Auth, notification: Notification) -> SamePerson | None:
    """One statement, whatever the number of notifications: only the viewer's own organisation's, at the
    locations where they may view notifications. None when the notification names nobody yet."""
    identifier = identifier_of(notification)
    if identifier is None or auth.organisation is None or auth.organisation.id != notification.organisation_id:
        return None
    organisation_id = notification.organisation_id
    keys = select(NotificationIdentifier.search_key).where(
        NotificationIdentifier.notification_id == notification.id, NotificationIdentifier.kind == PERSON
    )
    about_them = select(NotificationIdentifier.notification_id).where(
        NotificationIdentifier.organisation_id == organisation_id,
        NotificationIdentifier.kind == PERSON,
        NotificationIdentifier.search_key.in_(keys),
    )
    query = (
        select(Notification)
        .options(joinedload(Notification.location))
        .where(
            Notification.organisation_id == organisation_id,
            Notification.id != notification.id,
            Notification.id.in_(about_them),
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(OTHERS_SHOWN + 1)
    )
    visible_at = auth.locations_with(Permission.NOTIFICATION_VIEW)
    if visible_at is not None:
        query = query.where(Notification.location_id.in_(visible_at or {-1}))
    found = list(db.scalars(query))
    return SamePerson(identifier=identifier, notifications=found[:OTHERS_SHOWN], more=len(found) > OTHERS_SHOWN)
