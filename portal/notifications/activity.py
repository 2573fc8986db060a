"""What a change to a notification leaves behind: its audit event, and the emails it sends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from .. import audit, outbox
from ..accounts.sessions import Auth
from ..models import Notification, User
from ..regulator_scope import is_practice


def record(
    db: Session, event_type: str, auth: Auth, notification: Notification, ip: str, user_agent: str, **fields: Any
) -> None:
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


def email(
    db: Session, notification: Notification, recipients: Iterable[User], *, template: str, **context: Any
) -> None:
    """The email templates/emails/<template>.txt to each of the people, once each.

    None about a practice notification: in an inbox, "sent for review" or "submitted" reads as real work.
    """
    if is_practice(notification.organisation):
        return
    outbox.enqueue_email_each(db, [user.email for user in recipients], template=template, **context)
