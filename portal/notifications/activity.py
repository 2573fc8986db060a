"""What a change to a notification leaves behind: its audit event, and the emails it sends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from .. import audit, outbox
from ..accounts.sessions import Auth
from ..models import Notification, User


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


def email(db: Session, recipients: Iterable[User], *, template: str, subject: str, body: str) -> None:
    outbox.enqueue_each(db, [user.email for user in recipients], template=template, subject=subject, body=body)


def link(base_url: str, notification: Notification, suffix: str = "") -> str:
    """An emailed link: written out here because an email has no request to build it from."""
    return f"{base_url}/notifications/{notification.id}{suffix}"
