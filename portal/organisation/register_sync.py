"""After an import of the regulator's register: the portal's own locations follow it, and admins are told.

For each organisation whose provider ID the register has:

- a location the register lists as open for the provider, and that no organisation in the portal has, is added
  (a location ID another organisation holds is left for support to settle, as at sign-up);
- an open portal location whose registered location is closed (dormant, deregistered, no longer listed) is
  closed through locations.close, so it keeps its history and takes no new notifications;
- anything else stays: a location the admins added by hand, one they closed, their names and addresses.

The rules compare states, not what the file changed, so a second import of the same file finds nothing to do
and writes nothing. Each change is an audit event made by no person; all of one import's events carry the
import's moment, which is how the locations page finds the latest import's changes to show. Each organisation
admin who manages locations gets one email listing them, through the outbox, in the import's transaction.

Two statements find the work whatever the register's size: both start from the portal's side (its
organisations with a provider ID, its open locations) and reach the register through its indexed IDs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from .. import audit, links, outbox
from ..accounts.permission_holders import people_with_in_each
from ..models import PROVIDER, AuditEvent, Location, Organisation, RegisterLocation, utcnow
from ..models.register import DEREGISTERED, DORMANT, NOT_LISTED
from ..permissions import Permission
from ..register.onboarding import portal_location
from . import locations

ADDED = "location:added_from_register"
CLOSED = "location:closed_from_register"
# The register's reasons for a closed location, in the words the history and the email use.
STATUS_WORDS = {DORMANT: "dormant", DEREGISTERED: "deregistered", NOT_LISTED: "no longer listed"}
# How long the locations page shows an import's changes. The regulator publishes its directory monthly, so the
# next import normally replaces them within this time; an organisation the next import does not change stops
# seeing them once it has passed, since by then every admin has had the email and the history keeps them.
SHOWN_FOR = timedelta(days=35)


@dataclass
class PortalChanges:
    """What an import changed in the portal's own organisations."""

    organisations: int = 0
    added: int = 0
    closed: int = 0
    # Open portal locations the register lists, open, under another provider: left as they are, since only
    # support can tell a transfer from a mistake, but named so the operator passes them on.
    registered_elsewhere: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.organisations} organisation(s) changed: {self.added} location(s) added, {self.closed} closed"

    def lines(self, shown: int = 20) -> list[str]:
        lines = [f"Portal: {self}."]
        if self.registered_elsewhere:
            lines.append(
                f"Registered to another provider, for support to settle: {len(self.registered_elsewhere)} location(s)."
            )
            lines += [f"  {each}" for each in self.registered_elsewhere[:shown]]
            if len(self.registered_elsewhere) > shown:
                lines.append(f"  and {len(self.registered_elsewhere) - shown} more")
        return lines


@dataclass
class _Changes:
    added: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def follow_the_register(db: Session, *, base_url: str, now: datetime | None = None) -> PortalChanges:
    """Adds and closes the portal's locations as the register now has them, and tells each organisation's
    admins. Run in the import's transaction, after the register tables have been merged."""
    now = now or utcnow()
    changes: dict[int, _Changes] = defaultdict(_Changes)
    events: list[AuditEvent] = []
    claimed: set[str] = set()
    to_add = db.execute(
        select(RegisterLocation, Organisation.id)
        .join(
            Organisation, and_(Organisation.provider_id == RegisterLocation.provider_id, Organisation.kind == PROVIDER)
        )
        .where(
            RegisterLocation.closed_at.is_(None),
            ~exists().where(Location.regulator_location_id == RegisterLocation.location_id),
        )
        .order_by(Organisation.id, RegisterLocation.name, RegisterLocation.location_id)
    ).all()
    for registered, organisation_id in to_add:
        if registered.location_id in claimed:
            continue  # two organisations with one provider ID: the first has it, as IDs are unique
        claimed.add(registered.location_id)
        location = portal_location(registered)
        location.organisation_id = organisation_id
        db.add(location)
        events.append(
            audit.record(
                db,
                ADDED,
                actor_id=None,
                organisation_id=organisation_id,
                location=location.name,
                location_id=location.regulator_location_id,
                address=locations.Address.of(location).words(),
            )
        )
        changes[organisation_id].added.append(f"{location.name} ({location.regulator_location_id})")
    to_close = db.execute(
        select(Location, RegisterLocation.status)
        .join(Organisation, Organisation.id == Location.organisation_id)
        .join(RegisterLocation, RegisterLocation.location_id == Location.regulator_location_id)
        .where(
            Location.closed_at.is_(None),
            RegisterLocation.closed_at.is_not(None),
            RegisterLocation.provider_id == Organisation.provider_id,
        )
        .order_by(Location.organisation_id, Location.name, Location.id)
    ).all()
    for location, status in to_close:
        words = STATUS_WORDS.get(status, "closed")
        events.append(locations.close(db, location, actor_id=None, register_status=words))
        changes[location.organisation_id].closed.append(f"{location.name} ({location.regulator_location_id}), {words}")
    for event in events:
        event.occurred_at = now
    if changes:
        db.flush()
        _tell_the_admins(db, changes, base_url, now)
    return PortalChanges(
        organisations=len(changes),
        added=sum(len(change.added) for change in changes.values()),
        closed=sum(len(change.closed) for change in changes.values()),
        registered_elsewhere=_registered_elsewhere(db),
    )


def _registered_elsewhere(db: Session) -> list[str]:
    """Open portal locations whose open register entry names another provider than their organisation's."""
    rows = db.execute(
        select(Location.name, Location.regulator_location_id, Organisation.name, Organisation.provider_id)
        .add_columns(RegisterLocation.provider_id)
        .join(Organisation, Organisation.id == Location.organisation_id)
        .join(RegisterLocation, RegisterLocation.location_id == Location.regulator_location_id)
        .where(
            Location.closed_at.is_(None),
            RegisterLocation.closed_at.is_(None),
            Organisation.provider_id != "",
            RegisterLocation.provider_id != Organisation.provider_id,
        )
        .order_by(Location.regulator_location_id)
    ).all()
    return [
        f"{name} ({location_id}) is held by {organisation} ({held_by}), registered to {registered_to}"
        for name, location_id, organisation, held_by, registered_to in rows
    ]


def _tell_the_admins(db: Session, changes: dict[int, _Changes], base_url: str, now: datetime) -> None:
    names = dict(db.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(changes))).all())
    admins = people_with_in_each(db, Permission.LOCATIONS_MANAGE, changes)
    for organisation_id, change in sorted(changes.items()):
        outbox.enqueue_email_each(
            db,
            [admin.email for admin in admins.get(organisation_id, [])],
            template="register_changes",
            organisation_name=names[organisation_id],
            date=now.strftime("%-d %B %Y"),
            added=change.added,
            closed=change.closed,
            link=links.locations(base_url),
        )


@dataclass
class LatestChanges:
    """The latest import's changes to one organisation's locations, for its locations page."""

    on: datetime
    added: list[AuditEvent]
    closed: list[AuditEvent]


def latest_changes(db: Session, organisation_id: int, *, now: datetime | None = None) -> LatestChanges | None:
    """The changes of the latest import that changed this organisation, if within SHOWN_FOR: one statement, read
    through the history's (organisation, time) index."""
    since = (now or utcnow()) - SHOWN_FOR
    mine = and_(AuditEvent.organisation_id == organisation_id, AuditEvent.event_type.in_((ADDED, CLOSED)))
    latest = select(func.max(AuditEvent.occurred_at)).where(mine, AuditEvent.occurred_at >= since).scalar_subquery()
    events = list(db.scalars(select(AuditEvent).where(mine, AuditEvent.occurred_at == latest).order_by(AuditEvent.id)))
    if not events:
        return None
    return LatestChanges(
        on=events[0].occurred_at,
        added=[event for event in events if event.event_type == ADDED],
        closed=[event for event in events if event.event_type == CLOSED],
    )
