"""Drafting notifications: starting one, saving sections with optimistic locking, assigning, listing.

Every rule is here, callable without HTTP. Permissions are checked against the notification's
location: a person may hold a role at one location only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import audit
from ..accounts.sessions import Auth
from ..models import Attachment, AuditEvent, Location, Membership, Notification, SectionDraft, User, utcnow
from ..permissions import Permission
from .answers import validate_answer
from .definitions import NotificationType, Question, Section
from .registry import definition

# Approved stays editable: an edit then withdraws the approval (workflow.withdraw_approval_if_changed).
EDITABLE = ("draft", "changes_requested", "approved")
STATUS_WORDS = {
    "draft": "Draft",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "submitted": "Submitted",
    "withdrawn": "Withdrawn",
}
SECTION_WORDS = {
    "not_started": "Not yet started",
    "in_progress": "In progress",
    "completed": "Completed",
    "needs_attention": "Needs attention",
}


class NotAllowed(Exception):
    """The person may not do this; the message says why, in words for them."""


@dataclass
class SaveResult:
    errors: dict[str, str] = field(default_factory=dict)
    conflict: SectionDraft | None = None
    section: SectionDraft | None = None

    @property
    def saved(self) -> bool:
        return self.conflict is None


# Reading --------------------------------------------------------------------------------------


def drafting_locations(db: Session, auth: Auth) -> list[Location]:
    allowed = auth.locations_with(Permission.NOTIFICATION_DRAFT)
    query = select(Location).where(Location.organisation_id == auth.organisation.id).order_by(Location.name)
    if allowed is not None:
        query = query.where(Location.id.in_(allowed or {-1}))
    return list(db.scalars(query))


def visible(db: Session, auth: Auth, notification_id: int) -> Notification | None:
    """The notification if this person may see it; None (a 404) for anyone else's."""
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


def can_edit(auth: Auth, notification: Notification) -> bool:
    return notification.status in EDITABLE and auth.has(Permission.NOTIFICATION_DRAFT, notification.location_id)


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


def attachments_of(db: Session, notification_id: int) -> list[Attachment]:
    return list(
        db.scalars(
            select(Attachment)
            .where(Attachment.notification_id == notification_id, Attachment.removed_at.is_(None))
            .order_by(Attachment.id)
        )
    )


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


def colleagues_who_can_draft(db: Session, notification: Notification) -> list[User]:
    from ..roles import roles_granting

    drafting_roles = roles_granting(Permission.NOTIFICATION_DRAFT)
    members = db.scalars(
        select(Membership)
        .options(joinedload(Membership.user), selectinload(Membership.grants))
        .where(Membership.organisation_id == notification.organisation_id)
    )
    people = []
    for membership in members:
        if any(
            g.role in drafting_roles and g.location_id in (None, notification.location_id) for g in membership.grants
        ):
            people.append(membership.user)
    return sorted(people, key=lambda user: user.email)


# Changing ---------------------------------------------------------------------------------------


def start(
    db: Session,
    auth: Auth,
    *,
    type_key: str,
    location_id: int,
    ip: str = "",
    user_agent: str = "",
    parent: Notification | None = None,
) -> Notification:
    kind = definition(type_key)
    if kind is None:
        raise NotAllowed("Select the kind of event you are telling us about")
    if location_id not in {location.id for location in drafting_locations(db, auth)}:
        raise NotAllowed("Select a location where you can draft notifications")
    notification = Notification(
        organisation_id=auth.organisation.id,
        location_id=location_id,
        type_key=kind.key,
        type_version=kind.version,
        created_by_id=auth.user.id,
        updated_by_id=auth.user.id,
        assigned_to_id=auth.user.id,
        parent_id=parent.id if parent else None,
    )
    for section in kind.sections:
        notification.sections.append(SectionDraft(section_key=section.key))
    db.add(notification)
    db.flush()
    audit.record(
        db,
        "notification:started",
        actor_id=auth.user.id,
        organisation_id=auth.organisation.id,
        notification_id=notification.id,
        ip=ip,
        user_agent=user_agent,
        type=kind.title,
        location=_location_name(db, location_id),
    )
    return notification


def _location_name(db: Session, location_id: int) -> str:
    return db.scalar(select(Location.name).where(Location.id == location_id)) or ""


def validate_section(
    db: Session, notification: Notification, section: Section, raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(typed answers, raw input that failed, errors) for one section's submitted input."""
    answers: dict[str, Any] = {}
    failed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    location_ids = None
    attachment_questions = None

    def check(question: Question) -> Any:
        nonlocal location_ids, attachment_questions
        if question.kind == "file":
            if attachment_questions is None:
                attachment_questions = {a.question_key for a in attachments_of(db, notification.id)}
            if question.required and question.key not in attachment_questions:
                errors[question.key] = (
                    question.rules.get("required_message") or f"Upload {question.label[0].lower()}{question.label[1:]}"
                )
            return None
        value, error = validate_answer(question, raw.get(question.key))
        if error is None and question.kind == "location" and value:
            if location_ids is None:
                location_ids = set(
                    db.scalars(
                        select(Location.regulator_location_id).where(
                            Location.organisation_id == notification.organisation_id
                        )
                    )
                )
            if value not in location_ids:
                error = "Select a location from the list"
        if error is not None:
            errors[question.key] = error
            if raw.get(question.key) not in (None, "", [], {}):
                failed[question.key] = raw.get(question.key)
            return None
        if value not in (None, [], ""):
            answers[question.key] = value
        return value

    for question in section.questions:
        value = check(question)
        if question.follow_up is not None and question.shows_follow_up(value):
            check(question.follow_up)
    return answers, failed, errors


def save_section(
    db: Session,
    auth: Auth,
    notification: Notification,
    section_key: str,
    raw: dict[str, Any],
    *,
    expected_version: int,
    ip: str = "",
    user_agent: str = "",
) -> SaveResult:
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    found = section_of(notification, section_key)
    if found is None:
        raise NotAllowed("That section is not part of this notification")
    section, draft = found
    answers, failed, errors = validate_section(db, notification, section, raw)
    status = "completed" if not errors else "in_progress"
    now = utcnow()
    # The version check and the write are one statement: of two saves from the same version, one wins.
    changed = db.execute(
        update(SectionDraft)
        .where(SectionDraft.id == draft.id, SectionDraft.version == expected_version)
        .values(
            answers=answers,
            raw=failed,
            status=status,
            version=SectionDraft.version + 1,
            updated_by_id=auth.user.id,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.refresh(draft)
    if changed != 1:
        return SaveResult(errors=errors, conflict=draft, section=draft)
    notification.updated_at = now
    notification.updated_by_id = auth.user.id
    audit.record(
        db,
        "notification:section_saved",
        actor_id=auth.user.id,
        organisation_id=notification.organisation_id,
        notification_id=notification.id,
        ip=ip,
        user_agent=user_agent,
        section=section.title,
    )
    from ..workflow.service import withdraw_approval_if_changed

    withdraw_approval_if_changed(db, auth, notification, ip=ip, user_agent=user_agent)
    return SaveResult(errors=errors, section=draft)


def assign(
    db: Session, auth: Auth, notification: Notification, user_id: int | None, *, ip: str = "", user_agent: str = ""
) -> None:
    if not can_edit(auth, notification):
        raise NotAllowed("You cannot change this notification")
    people = {user.id: user for user in colleagues_who_can_draft(db, notification)}
    if user_id is not None and user_id not in people:
        raise NotAllowed("Select a colleague who can draft at this location")
    notification.assigned_to_id = user_id
    audit.record(
        db,
        "notification:assigned",
        actor_id=auth.user.id,
        organisation_id=notification.organisation_id,
        notification_id=notification.id,
        ip=ip,
        user_agent=user_agent,
        assignee=people[user_id].email if user_id else "nobody",
    )


# Listing ----------------------------------------------------------------------------------------

PAGE_SIZE = 25


@dataclass
class ListFilters:
    status: str = ""
    type_key: str = ""
    location_id: int | None = None
    assignee_id: int | None = None
    mine: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, query) -> ListFilters:
        def number(name):
            try:
                return int(query.get(name, ""))
            except ValueError:
                return None

        status = query.get("status", "")
        return cls(
            status=status if status in STATUS_WORDS else "",
            type_key=query.get("type", "") if definition(query.get("type", "")) else "",
            location_id=number("location"),
            assignee_id=number("assignee"),
            mine=query.get("view") == "mine",
            page=max(1, min(number("page") or 1, 10_000)),
        )


def list_notifications(db: Session, auth: Auth, filters: ListFilters) -> tuple[list[Notification], int]:
    """One query for the page and one for the count, however many notifications there are."""
    conditions = [Notification.organisation_id == auth.organisation.id]
    visible_at = auth.locations_with(Permission.NOTIFICATION_VIEW)
    if visible_at is not None:
        conditions.append(Notification.location_id.in_(visible_at or {-1}))
    if filters.status:
        conditions.append(Notification.status == filters.status)
    if filters.type_key:
        conditions.append(Notification.type_key == filters.type_key)
    if filters.location_id:
        conditions.append(Notification.location_id == filters.location_id)
    if filters.assignee_id:
        conditions.append(Notification.assigned_to_id == filters.assignee_id)
    if filters.mine:
        conditions.append(_needs_attention_of(auth))
    total = db.scalar(select(func.count()).select_from(Notification).where(*conditions))
    rows = db.scalars(
        select(Notification)
        .options(
            joinedload(Notification.location), joinedload(Notification.assigned_to), joinedload(Notification.updated_by)
        )
        .where(*conditions)
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    return list(rows), total or 0


def _needs_attention_of(auth: Auth):
    """Drafts assigned to you; for reviewers, anything in review; for submitters, anything approved."""
    from sqlalchemy import and_, or_

    clauses = [
        and_(Notification.assigned_to_id == auth.user.id, Notification.status.in_(("draft", "changes_requested")))
    ]
    for permission, status in (
        (Permission.NOTIFICATION_REVIEW, "in_review"),
        (Permission.NOTIFICATION_SUBMIT, "approved"),
    ):
        places = auth.locations_with(permission)
        if places is None:
            clauses.append(Notification.status == status)
        elif places:
            clauses.append(and_(Notification.status == status, Notification.location_id.in_(places)))
    return or_(*clauses)


def organisation_people(db: Session, organisation_id: int) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id)
            .order_by(User.email)
        )
    )
