"""Review: sending for review, asking for changes, approving, withdrawing. Separation of duties lives here.

Each move checks the state machine first and raises before it writes anything, so a refused move
leaves nothing behind for the request's transaction to commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import links
from ..accounts.permission_holders import people_with
from ..accounts.sessions import Auth
from ..models import Notification, Organisation, ReviewRecord, User, utcnow
from ..permissions import Permission
from .activity import email, record
from .errors import WorkflowError
from .locking import changing
from .reading import answers_of, current_hash, editors_of, type_of
from .states import require_move


def _people_at(db: Session, notification: Notification, permission: Permission) -> list[User]:
    return people_with(
        db, permission, organisation_id=notification.organisation_id, location_id=notification.location_id
    )


def request_review(
    db: Session, auth: Auth, notification: Notification, *, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    changing(db, notification)
    move = require_move(auth, notification, "request_review")
    kind = type_of(notification)
    drafts = {draft.section_key: draft for draft in notification.sections}
    unfinished = [s.title for s in kind.sections if drafts[s.key].status != "completed"]
    if unfinished:
        raise WorkflowError("Complete every section before you send it for review: " + ", ".join(unfinished))
    notification.status = move.target
    notification.review_requested_at = utcnow()
    record(db, "notification:review_requested", auth, notification, ip, user_agent, type=kind.title)
    email(
        db,
        notification,
        _people_at(db, notification, Permission.NOTIFICATION_REVIEW),
        template="review_requested",
        notification_type=kind.title,
        location_name=notification.location.name,
        location_id=notification.location.regulator_location_id,
        requested_by=auth.user.email,
        link=links.notification_review(base_url, notification.id),
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
    changing(db, notification)
    move = require_move(auth, notification, "request_changes")
    kind = type_of(notification)
    summary = (summary or "").replace("\x00", "").strip()
    chosen = [key for key in sections if key in {s.key for s in kind.sections}]
    if not summary:
        raise WorkflowError("Enter a summary of the changes you need", field="summary")
    if not chosen:
        raise WorkflowError("Select the sections that need attention", field="sections")
    for draft in notification.sections:
        if draft.section_key in chosen:
            draft.status = "needs_attention"
    notification.status = move.target
    _review_record(db, auth, notification, "changes_requested", summary=summary, sections=chosen)
    record(
        db,
        "notification:changes_requested",
        auth,
        notification,
        ip,
        user_agent,
        summary=summary,
        sections=[s.title for s in kind.sections if s.key in chosen],
    )
    email(
        db,
        notification,
        [u for u in (notification.assigned_to, notification.created_by) if u is not None],
        template="changes_requested",
        notification_type=kind.title,
        requested_by=auth.user.email,
        summary=summary,
        link=links.notification(base_url, notification.id),
    )


def approve(
    db: Session, auth: Auth, notification: Notification, *, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    changing(db, notification)
    move = require_move(auth, notification, "approve")
    organisation = db.get(Organisation, notification.organisation_id)
    if (
        organisation is not None
        and organisation.separation_of_duties
        and editors_of(db, notification.id) == {auth.user.id}
    ):
        raise WorkflowError(
            "You cannot approve a notification that only you have written. Ask another reviewer to approve it"
        )
    notification.approved_hash = current_hash(db, notification)
    notification.status = move.target
    notification.approved_at = utcnow()
    notification.approved_by_id = auth.user.id
    _review_record(db, auth, notification, "approved")
    kind = type_of(notification)
    record(db, "notification:approved", auth, notification, ip, user_agent, type=kind.title)
    email(
        db,
        notification,
        _people_at(db, notification, Permission.NOTIFICATION_SUBMIT),
        template="approved",
        notification_type=kind.title,
        location_name=notification.location.name,
        location_id=notification.location.regulator_location_id,
        approved_by=auth.user.email,
        link=links.notification_submit(base_url, notification.id),
    )


def withdraw(db: Session, auth: Auth, notification: Notification, *, ip: str = "", user_agent: str = "") -> None:
    changing(db, notification)
    move = require_move(auth, notification, "withdraw")
    notification.status = move.target
    record(db, "notification:withdrawn", auth, notification, ip, user_agent, type=type_of(notification).title)


def _review_record(
    db: Session,
    auth: Auth,
    notification: Notification,
    decision: str,
    *,
    summary: str = "",
    sections: list[str] | None = None,
) -> None:
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
