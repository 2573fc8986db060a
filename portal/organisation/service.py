"""The organisation's own settings, each change recorded in its history."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import audit
from ..models import Organisation


def set_separation_of_duties(
    db: Session, organisation: Organisation, enabled: bool, *, actor_id: int, ip: str = "", user_agent: str = ""
) -> bool:
    """Switches it on or off; True when that changed anything."""
    if enabled == organisation.separation_of_duties:
        return False
    organisation.separation_of_duties = enabled
    audit.record(
        db,
        "organisation:separation_of_duties_changed",
        actor_id=actor_id,
        organisation_id=organisation.id,
        ip=ip,
        user_agent=user_agent,
        enabled="on" if enabled else "off",
    )
    return True
