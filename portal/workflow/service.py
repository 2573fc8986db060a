"""Review, approval and submission. Separation of duties and idempotent submission live here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import audit, outbox
from ..accounts.sessions import Auth
from ..models import (
    AuditEvent,
    Comment,
    Membership,
    Notification,
    Organisation,
    ReviewRecord,
    SectionDraft,
    Submission,
    User,
    Watch,
    utcnow,
)
from ..notifications.service import attachments_of, type_of
from ..permissions import Permission
from ..roles import roles_granting
from . import states
from .content import content_hash, new_reference


class WorkflowError(Exception):
    """The message is written for the person to read; `field` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def answers_of(notification: Notification) -> dict[str, dict]:
    return {draft.section_key: dict(draft.answers) for draft in notification.sections}


def current_hash(db: Session, notification: Notification) -> str:
    return content_hash(answers_of(notification), [a.sha256 for a in attachments_of(db, notification.id)])


def _move(auth: Auth, notification: Notification, name: str) -> states.Move:
    move = states.MOVES.get(name)
    holds = move is not None and auth.has(move.permission, notification.location_id)
    try:
        return states.check(name, notification.status, holds)
    except states.MoveRefused as refused:
        raise WorkflowError(str(refused)) from None


def _record(db, event_type, auth, notification, ip, user_agent, **fields):
    audit.record(
        db,
        event_type,
        actor_id=auth.user.id,
        organisation_id=notification.organisation_id,
        notification_id=notification.id,
        ip=ip,
        user_agent=user_agent,
        **fields,
    )


def people_with(db: Session, notification: Notification, permission: Permission) -> list[User]:
    roles = roles_granting(permission)
    memberships = db.scalars(
        select(Membership)
        .options(joinedload(Membership.user), selectinload(Membership.grants))
        .where(Membership.organisation_id == notification.organisation_id)
    )
    return sorted(
        (
            m.user
            for m in memberships
            if m.user.active
            and any(g.role in roles and g.location_id in (None, notification.location_id) for g in m.grants)
        ),
        key=lambda user: user.email,
    )


def _email(db, recipients, *, template: str, subject: str, body: str) -> None:
    outbox.enqueue_each(
        db,
        [user.email if isinstance(user, User) else user for user in recipients],
        template=template,
        subject=subject,
        body=body,
    )


def _link(base_url: str, notification: Notification, suffix: str = "") -> str:
    return f"{base_url}/notifications/{notification.id}{suffix}"


def editors_of(db: Session, notification_id: int) -> set[int]:
    return set(
        db.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.notification_id == notification_id,
                AuditEvent.event_type.in_(("notification:section_saved", "notification:attachment_added")),
                AuditEvent.actor_id.is_not(None),
            )
        )
    )


# The moves ---------------------------------------------------------------------------------------


def request_review(
    db: Session, auth: Auth, notification: Notification, *, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    move = _move(auth, notification, "request_review")
    unfinished = [s.title for s in type_of(notification).sections if _draft(notification, s.key).status != "completed"]
    if unfinished:
        raise WorkflowError("Complete every section before you send it for review: " + ", ".join(unfinished))
    notification.status = move.target
    notification.review_requested_at = utcnow()
    kind = type_of(notification)
    _record(db, "notification:review_requested", auth, notification, ip, user_agent, type=kind.title)
    _email(
        db,
        people_with(db, notification, Permission.NOTIFICATION_REVIEW),
        template="review_requested",
        subject=f"Review requested: {kind.title} at {notification.location.name}",
        body=f"{auth.user.email} has asked for a review of a {kind.title} notification.\n\n"
        f"Review it: {_link(base_url, notification, '/review')}",
    )


def request_changes(
    db: Session,
    auth: Auth,
    notification: Notification,
    *,
    summary: str,
    sections: list[str],
    base_url: str,
    ip: str = "",
    user_agent: str = "",
) -> None:
    move = _move(auth, notification, "request_changes")
    summary = (summary or "").replace("\x00", "").strip()
    keys = [s.key for s in type_of(notification).sections]
    chosen = [key for key in sections if key in keys]
    if not summary:
        raise WorkflowError("Enter a summary of the changes you need", field="summary")
    if not chosen:
        raise WorkflowError("Select the sections that need attention", field="sections")
    for key in chosen:
        _draft(notification, key).status = "needs_attention"
    notification.status = move.target
    _review_record(db, auth, notification, "changes_requested", summary=summary, sections=chosen)
    kind = type_of(notification)
    _record(
        db,
        "notification:changes_requested",
        auth,
        notification,
        ip,
        user_agent,
        summary=summary,
        sections=[s.title for s in kind.sections if s.key in chosen],
    )
    recipients = [u for u in (notification.assigned_to, notification.created_by) if u is not None]
    _email(
        db,
        recipients,
        template="changes_requested",
        subject=f"Changes requested: {kind.title}",
        body=f"{auth.user.email} has asked for changes:\n\n{summary}\n\n"
        f"Make the changes: {_link(base_url, notification)}",
    )


def approve(
    db: Session, auth: Auth, notification: Notification, *, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    move = _move(auth, notification, "approve")
    organisation = db.get(Organisation, notification.organisation_id)
    if organisation.separation_of_duties and editors_of(db, notification.id) == {auth.user.id}:
        raise WorkflowError(
            "You cannot approve a notification that only you have written. Ask another reviewer to approve it"
        )
    digest = current_hash(db, notification)
    notification.status = move.target
    notification.approved_hash = digest
    notification.approved_at = utcnow()
    notification.approved_by_id = auth.user.id
    _review_record(db, auth, notification, "approved")
    kind = type_of(notification)
    _record(db, "notification:approved", auth, notification, ip, user_agent, type=kind.title)
    _email(
        db,
        people_with(db, notification, Permission.NOTIFICATION_SUBMIT),
        template="approved",
        subject=f"Ready to submit: {kind.title} at {notification.location.name}",
        body=f"{auth.user.email} has approved a {kind.title} notification. It is ready to submit.\n\n"
        f"Submit it: {_link(base_url, notification, '/submit')}",
    )


def withdraw(db: Session, auth: Auth, notification: Notification, *, ip: str = "", user_agent: str = "") -> None:
    move = _move(auth, notification, "withdraw")
    notification.status = move.target
    _record(db, "notification:withdrawn", auth, notification, ip, user_agent, type=type_of(notification).title)


def withdraw_approval_if_changed(
    db: Session, auth: Auth, notification: Notification, *, ip: str = "", user_agent: str = ""
) -> bool:
    """Called after any edit: an approved notification whose content changed is back to draft."""
    if notification.status != "approved" or notification.approved_hash == current_hash(db, notification):
        return False
    notification.status = states.MOVES["edit_after_approval"].target
    notification.approved_hash = None
    _record(db, "notification:approval_withdrawn", auth, notification, ip, user_agent, reason="changed after approval")
    return True


def _draft(notification: Notification, key: str) -> SectionDraft:
    return next(d for d in notification.sections if d.section_key == key)


def _review_record(db, auth, notification, decision, *, summary: str = "", sections: list | None = None):
    db.add(
        ReviewRecord(
            notification_id=notification.id,
            reviewer_id=auth.user.id,
            decision=decision,
            summary=summary,
            sections=sections or [],
            answers=answers_of(notification),
            content_hash=current_hash(db, notification),
        )
    )


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
    if record is None:
        return set()
    changed = set()
    for draft in notification.sections:
        before = record.answers.get(draft.section_key, {})
        for key in set(before) | set(draft.answers):
            if before.get(key) != draft.answers.get(key):
                changed.add(key)
    return changed


# Submission --------------------------------------------------------------------------------------


@dataclass
class Submitted:
    submission: Submission
    first_time: bool


def submit(
    db: Session,
    auth: Auth,
    notification: Notification,
    *,
    declared: bool,
    base_url: str,
    ip: str = "",
    user_agent: str = "",
    webhook=None,
) -> Submitted:
    """Idempotent: a double click or a retried POST returns the one submission that exists."""
    existing = db.scalar(select(Submission).where(Submission.notification_id == notification.id))
    if existing is not None:
        return Submitted(existing, first_time=False)
    move = _move(auth, notification, "submit")
    if not declared:
        raise WorkflowError(
            "Confirm that the information is correct to the best of your knowledge", field="declaration"
        )
    digest = current_hash(db, notification)
    if digest != notification.approved_hash:
        raise WorkflowError("The notification changed after it was approved. It needs approving again")
    # Only one of any number of concurrent submits moves the row from approved to submitted.
    moved = db.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.status == "approved")
        .values(status=move.target, submitted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.rollback()
        existing = db.scalar(select(Submission).where(Submission.notification_id == notification.id))
        if existing is None:
            raise WorkflowError("This notification was changed by someone else. Try again")
        return Submitted(existing, first_time=False)
    db.refresh(notification)
    submission = _freeze(db, auth, notification, digest)
    if webhook is not None:
        webhook(db, submission)
    kind = type_of(notification)
    _record(db, "notification:submitted", auth, notification, ip, user_agent, reference=submission.reference)
    watchers = db.scalars(
        select(User).join(Watch, Watch.user_id == User.id).where(Watch.notification_id == notification.id)
    )
    _email(
        db,
        [auth.user, *watchers],
        template="submitted",
        subject=f"Submitted: {kind.title}, reference {submission.reference}",
        body=f"{kind.title} at {notification.location.name} was submitted to the regulator by "
        f"{auth.user.email}.\n\nReference: {submission.reference}\n\n"
        f"Your copy: {_link(base_url, notification, '/receipt')}",
    )
    return Submitted(submission, first_time=True)


def _freeze(db: Session, auth: Auth, notification: Notification, digest: str) -> Submission:
    kind = type_of(notification)
    attachments = attachments_of(db, notification.id)
    editors = editors_of(db, notification.id)
    people = {
        u.id: u.email
        for u in db.scalars(select(User).where(User.id.in_(editors | {notification.approved_by_id or 0, auth.user.id})))
    }
    parent = db.get(Notification, notification.parent_id) if notification.parent_id else None
    snapshot = {
        "type": {"key": kind.key, "version": notification.type_version, "title": kind.title},
        "organisation": {"name": notification.organisation.name, "provider_id": notification.organisation.provider_id},
        "location": {"name": notification.location.name, "location_id": notification.location.regulator_location_id},
        "answers": answers_of(notification),
        "attachments": [
            {
                "id": a.id,
                "question": a.question_key,
                "filename": a.filename,
                "size": a.size,
                "content_type": a.content_type,
                "sha256": a.sha256,
            }
            for a in attachments
        ],
        "drafted_by": sorted(people[i] for i in editors if i in people),
        "approved_by": people.get(notification.approved_by_id),
        "approved_at": notification.approved_at.isoformat() if notification.approved_at else None,
        "submitted_by": auth.user.email,
        "submitted_at": notification.submitted_at.isoformat(),
        "follow_up_of": parent.reference if parent else None,
    }
    for _ in range(10):
        reference = new_reference()
        try:
            with db.begin_nested():
                submission = Submission(
                    notification_id=notification.id,
                    organisation_id=notification.organisation_id,
                    reference=reference,
                    parent_reference=snapshot["follow_up_of"],
                    type_key=kind.key,
                    type_version=notification.type_version,
                    snapshot=snapshot,
                    content_hash=digest,
                    submitted_by_id=auth.user.id,
                    submitted_at=notification.submitted_at,
                )
                db.add(submission)
            notification.reference = reference
            return submission
        except IntegrityError:
            continue  # a reference already taken: 25^8 makes this rare, so try another
    raise WorkflowError("We could not give this notification a reference. Try again")


def submission_of(db: Session, notification_id: int) -> Submission | None:
    return db.scalar(select(Submission).where(Submission.notification_id == notification_id))


# Comments and watching --------------------------------------------------------------------------


def comments_of(db: Session, notification_id: int) -> list[Comment]:
    return list(
        db.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(Comment.notification_id == notification_id)
            .order_by(Comment.id)
        )
    )


def add_comment(
    db: Session,
    auth: Auth,
    notification: Notification,
    *,
    section_key: str,
    body: str,
    question_key: str | None = None,
    parent_id: int | None = None,
    ip: str = "",
    user_agent: str = "",
) -> Comment:
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise WorkflowError("Enter a comment")
    if len(body) > 10_000:
        raise WorkflowError("Comment must be 10,000 characters or fewer")
    kind = type_of(notification)
    section = next((s for s in kind.sections if s.key == section_key), None)
    if section is None:
        raise WorkflowError("Select a section to comment on")
    if question_key and question_key not in {q.key for q in section.questions}:
        question_key = None
    if parent_id is not None:
        parent = db.get(Comment, parent_id)
        if parent is None or parent.notification_id != notification.id:
            raise WorkflowError("That comment no longer exists")
        section_key, question_key = parent.section_key, parent.question_key
    comment = Comment(
        notification_id=notification.id,
        section_key=section_key,
        question_key=question_key,
        parent_id=parent_id,
        author_id=auth.user.id,
        body=body,
    )
    db.add(comment)
    _record(db, "notification:commented", auth, notification, ip, user_agent, section=section.title)
    return comment


def resolve_comment(db: Session, auth: Auth, notification: Notification, comment_id: int) -> None:
    comment = db.get(Comment, comment_id)
    if comment is None or comment.notification_id != notification.id:
        raise WorkflowError("That comment no longer exists")
    root = comment if comment.parent_id is None else db.get(Comment, comment.parent_id)
    root.resolved_at = utcnow()
    root.resolved_by_id = auth.user.id


def watch(db: Session, user_id: int, notification_id: int, on: bool) -> None:
    existing = db.scalar(select(Watch).where(Watch.notification_id == notification_id, Watch.user_id == user_id))
    if on and existing is None:
        db.add(Watch(notification_id=notification_id, user_id=user_id))
    elif not on and existing is not None:
        db.delete(existing)


def is_watching(db: Session, user_id: int, notification_id: int) -> bool:
    return (
        db.scalar(select(Watch.id).where(Watch.notification_id == notification_id, Watch.user_id == user_id))
        is not None
    )
