"""Comments on sections, in threads that can be resolved, and watching a notification."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.sessions import Auth
from ..models import Comment, Notification, Watch, utcnow
from .activity import record
from .answers import has_visible_character
from .errors import WorkflowError
from .reading import type_of
from .states import require

MAX_COMMENT = 10_000


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
    require(auth, notification, "comment")
    body = (body or "").replace("\x00", "").strip()
    if not has_visible_character(body):
        raise WorkflowError("Enter a comment")
    if len(body) > MAX_COMMENT:
        raise WorkflowError(f"Comment must be {MAX_COMMENT:,} characters or fewer")
    kind = type_of(notification)
    if parent_id is not None:
        parent = db.get(Comment, parent_id)
        if parent is None or parent.notification_id != notification.id:
            raise WorkflowError("That comment no longer exists")
        # Threads are one level deep, as the document shows them: a reply to a reply joins the thread's
        # top, rather than being stored where no page would ever show it.
        if parent.parent_id is not None:
            parent_id = parent.parent_id
        # A reply belongs to its thread, whatever the form said.
        section_key, question_key = parent.section_key, parent.question_key
    section = next((s for s in kind.sections if s.key == section_key), None)
    if section is None:
        raise WorkflowError("Select a section to comment on")
    if question_key and question_key not in {q.key for q in section.questions}:
        question_key = None
    comment = Comment(
        notification_id=notification.id,
        section_key=section.key,
        question_key=question_key,
        parent_id=parent_id,
        author_id=auth.user.id,
        body=body,
    )
    db.add(comment)
    record(db, "notification:commented", auth, notification, ip, user_agent, section=section.title)
    return comment


def resolve_comment(db: Session, auth: Auth, notification: Notification, comment_id: int) -> None:
    require(auth, notification, "comment")
    comment = db.get(Comment, comment_id)
    if comment is None or comment.notification_id != notification.id:
        raise WorkflowError("That comment no longer exists")
    root = comment if comment.parent_id is None else db.get(Comment, comment.parent_id)
    if root is None:
        raise WorkflowError("That comment no longer exists")
    root.resolved_at = utcnow()
    root.resolved_by_id = auth.user.id


def watch(db: Session, user_id: int, notification_id: int, on: bool) -> None:
    existing = db.scalar(select(Watch).where(Watch.notification_id == notification_id, Watch.user_id == user_id))
    if on and existing is None:
        db.add(Watch(notification_id=notification_id, user_id=user_id))
    elif not on and existing is not None:
        db.delete(existing)
