"""Each person's choice of emails before a notification's due date (portal/notifications/reminders.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import audit
from ..models import User


def set_deadline_reminders(db: Session, user: User, on: bool, *, ip: str = "", user_agent: str = "") -> bool:
    """Records the choice; says whether it changed anything (choosing what is already set writes no event)."""
    if user.deadline_reminders == on:
        return False
    user.deadline_reminders = on
    audit.record(
        db,
        "account:reminders_changed",
        actor_id=user.id,
        subject_user_id=user.id,
        ip=ip,
        user_agent=user_agent,
        turned="on" if on else "off",
    )
    return True
