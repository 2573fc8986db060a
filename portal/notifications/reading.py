"""Reading one notification and what hangs off it: sections, files, reviews, comments, history.

visible() is the one place that decides whether a person may see a notification: their
organisation's, at a location where they may view notifications. Everything else here trusts it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..accounts.permission_holders import people_with
from ..accounts.sessions import Auth
from ..models import (
    Attachment,
    AuditEvent,
    Comment,
    Location,
    Membership,
    Notification,
    ReviewRecord,
    SectionDraft,
    Submission,
    User,
    Watch,
)
from ..permissions import Permission
from .content import content_hash
from .definitions import NotificationType, Section
from .registry import definition


def visible(db: Session, auth: Auth, notification_id: int) -> Notification | None:
    """The notification if this person may see it; None (a 404) for anyone else's."""
    if auth.organisation is None:
        return None
    notification = db.scalar(
        select(Notification)
        .options(
            joinedload(Notification.location),
            selectinload(Notification.sections).joinedload(SectionDraft.updated_by),
            joinedload(Notification.assigned_to),
        )
        .where(Notification.id == notification_id, Notification.organisation_id == auth.organisation.id)
    )
    if notification is None or not auth.has(Permission.NOTIFICATION_VIEW, notification.location_id):
        return None
    return notification


def type_of(notification: Notification) -> NotificationType:
    kind = definition(notification.type_key)
    if kind is None:
        raise LookupError(f"no definition for {notification.type_key}")
    return kind


def section_of(notification: Notification, key: str) -> tuple[Section, SectionDraft] | None:
    kind = type_of(notification)
    drafts = {draft.section_key: draft for draft in notification.sections}
    for section in kind.sections:
        if section.key == key and key in drafts:
            return section, drafts[key]
    return None


def answers_of(notification: Notification) -> dict[str, dict]:
    return {draft.section_key: dict(draft.answers) for draft in notification.sections}


def attachments_of(db: Session, notification_id: int) -> list[Attachment]:
    return list(
        db.scalars(
            select(Attachment)
            .where(Attachment.notification_id == notification_id, Attachment.removed_at.is_(None))
            .order_by(Attachment.id)
        )
    )


def current_hash(db: Session, notification: Notification) -> str:
    return content_hash(answers_of(notification), [a.sha256 for a in attachments_of(db, notification.id)])


def drafting_locations(db: Session, auth: Auth, *, closed_too: bool = False) -> list[Location]:
    """Where this person may start a notification. A closed location takes no new notifications: it is never
    offered, and drafting.start refuses it. closed_too is for follow-ups, which report more about an event
    that happened while it was open."""
    if auth.organisation is None:
        return []
    allowed = auth.locations_with(Permission.NOTIFICATION_DRAFT)
    query = select(Location).where(Location.organisation_id == auth.organisation.id).order_by(Location.name)
    if not closed_too:
        query = query.where(Location.closed_at.is_(None))
    if allowed is not None:
        query = query.where(Location.id.in_(allowed or {-1}))
    return list(db.scalars(query))


def colleagues_who_can_draft(db: Session, notification: Notification) -> list[User]:
    return people_with(
        db,
        Permission.NOTIFICATION_DRAFT,
        organisation_id=notification.organisation_id,
        location_id=notification.location_id,
    )


def organisation_people(db: Session, organisation_id: int) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id)
            .order_by(User.email)
        )
    )


def editors_of(db: Session, notification_id: int) -> set[int]:
    """Everyone who has changed its answers or files: the people who may not be its only approver."""
    return {
        actor
        for actor in db.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.notification_id == notification_id,
                AuditEvent.event_type.in_(("notification:section_saved", "notification:attachment_added")),
                AuditEvent.actor_id.is_not(None),
            )
        )
        if actor is not None
    }


def timeline(db: Session, notification_id: int, limit: int = 50) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.notification_id == notification_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def latest_change(db: Session, notification_id: int) -> AuditEvent | None:
    """The last thing anyone did to it: what a person whose button lost a race is told about."""
    found = timeline(db, notification_id, limit=1)
    return found[0] if found else None


def last_review_by(db: Session, notification_id: int, reviewer_id: int) -> ReviewRecord | None:
    return db.scalar(
        select(ReviewRecord)
        .where(ReviewRecord.notification_id == notification_id, ReviewRecord.reviewer_id == reviewer_id)
        .order_by(ReviewRecord.id.desc())
        .limit(1)
    )


def latest_review(db: Session, notification_id: int) -> ReviewRecord | None:
    return db.scalar(
        select(ReviewRecord)
        .options(joinedload(ReviewRecord.reviewer))
        .where(ReviewRecord.notification_id == notification_id)
        .order_by(ReviewRecord.id.desc())
        .limit(1)
    )


def changed_questions(notification: Notification, record: ReviewRecord | None) -> set[str]:
    """The questions answered differently since that review."""
    if record is None:
        return set()
    changed = set()
    for draft in notification.sections:
        before = record.answers.get(draft.section_key, {})
        for key in set(before) | set(draft.answers):
            if before.get(key) != draft.answers.get(key):
                changed.add(key)
    return changed


def submission_of(db: Session, notification_id: int) -> Submission | None:
    return db.scalar(select(Submission).where(Submission.notification_id == notification_id))


def comments_of(db: Session, notification_id: int) -> list[Comment]:
    return list(
        db.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(Comment.notification_id == notification_id)
            .order_by(Comment.id)
        )
    )


def is_watching(db: Session, user_id: int, notification_id: int) -> bool:
    return (
        db.scalar(select(Watch.id).where(Watch.notification_id == notification_id, Watch.user_id == user_id))
        is not None
    )


def watchers_of(db: Session, notification_id: int) -> list[User]:
    return list(
        db.scalars(select(User).join(Watch, Watch.user_id == User.id).where(Watch.notification_id == notification_id))
    )
