"""The organisation's locations: adding one, renaming it, changing its address and closing it.

Each change is a typed audit event in the organisation's history. Managing locations needs
locations:manage for all locations (permissions.ORGANISATION_WIDE): a new location lies outside every
grant for chosen locations, and closing one ends what everyone granted there may start, so an admin for
some locations manages none (docs/scope.md).

A location carries the regulator's location ID, in the format the regulator uses (PORTAL_LOCATION_ID_PATTERN)
and unique across the portal, closed locations included, since the regulator never gives one ID to two
places. The ID is fixed once added: it is how the regulator knows the location, and notifications sent
about it name it. A closed location keeps its notifications and history, and takes no new notifications
(notifications.reading.drafting_locations offers only open ones); drafts already started there can still
be finished and sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..models import AuditEvent, Location, Membership, Organisation, utcnow
from ..rules import RuleBroken

ID_FIELD = "regulator_location_id"
# A full UK postcode, once spaces are taken out and letters made capitals: outward code, then inward code.
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")


@dataclass(frozen=True)
class IdFormat:
    """The regulator's location ID format, from settings (location_id_pattern and location_id_example)."""

    pattern: str
    example: str

    @classmethod
    def of(cls, settings) -> IdFormat:
        return cls(settings.location_id_pattern, settings.location_id_example)

    def check(self, value: str) -> None:
        if not value:
            raise RuleBroken("Enter the location ID", field=ID_FIELD)
        if len(value) > 40 or re.fullmatch(self.pattern, value) is None:
            raise RuleBroken(f"Enter a location ID in the correct format, like {self.example}", field=ID_FIELD)


def normalise_id(value: str) -> str:
    """People copy IDs from letters and web pages: stray spaces around and inside are not part of one."""
    return "".join(value.split())


def normalise_postcode(value: str) -> str:
    """ "sw1a1aa" -> "SW1A 1AA"; anything that is not a full UK postcode is returned as typed, for the check."""
    squashed = "".join(value.split()).upper()
    match = POSTCODE.fullmatch(squashed)
    return f"{match.group(1)} {match.group(2)}" if match else value.strip()


def check_postcode(value: str | None) -> None:
    value = value if isinstance(value, str) else ""  # a form without the field
    if not value.strip():
        raise RuleBroken("Enter postcode", field="postcode")
    if POSTCODE.fullmatch("".join(value.split()).upper()) is None:
        raise RuleBroken("Enter a full UK postcode", field="postcode")


@dataclass(frozen=True)
class Address:
    line_1: str
    line_2: str
    town: str
    postcode: str

    @classmethod
    def of(cls, location: Location) -> Address:
        return cls(location.address_line_1, location.address_line_2, location.town, location.postcode)

    def words(self) -> str:
        """One line, as the history shows it."""
        parts = [part for part in (self.line_1, self.line_2, self.town, self.postcode) if part]
        return ", ".join(parts) if parts else "no address"

    def put_on(self, location: Location) -> None:
        location.address_line_1, location.address_line_2 = self.line_1, self.line_2
        location.town, location.postcode = self.town, normalise_postcode(self.postcode)


def locations_of(db: Session, organisation_id: int) -> list[Location]:
    """Open locations first, then closed ones, each by name: one query whatever their number."""
    return list(
        db.scalars(
            select(Location)
            # Each one's registered manager, if recorded, in one more query whatever their number.
            .options(selectinload(Location.registered_manager).joinedload(Membership.user))
            .where(Location.organisation_id == organisation_id)
            .order_by(Location.closed_at.is_not(None), Location.name, Location.id)
        )
    )


def location_in(db: Session, organisation_id: int, location_id: int) -> Location | None:
    """One of this organisation's locations; another organisation's is None, so its routes answer 404."""
    return db.scalar(select(Location).where(Location.id == location_id, Location.organisation_id == organisation_id))


def _refuse_taken(db: Session, organisation_id: int, regulator_location_id: str) -> None:
    holder = db.scalar(select(Location).where(Location.regulator_location_id == regulator_location_id))
    if holder is None:
        return
    if holder.organisation_id == organisation_id:
        raise RuleBroken(
            f"{holder.name} already has the location ID {regulator_location_id}"
            + (". It is closed, and a closed location keeps its ID" if holder.is_closed else ""),
            field=ID_FIELD,
        )
    # Another organisation's location: its name is theirs, so only the fact is said.
    raise RuleBroken(
        f"Another organisation's location has the location ID {regulator_location_id}. "
        "Check the ID on your registration certificate, or contact the support team",
        field=ID_FIELD,
    )


def add(
    db: Session,
    organisation: Organisation,
    *,
    name: str,
    regulator_location_id: str,
    address: Address,
    id_format: IdFormat,
    actor_id: int,
    ip: str = "",
    user_agent: str = "",
) -> Location:
    ident = normalise_id(regulator_location_id)
    id_format.check(ident)
    _refuse_taken(db, organisation.id, ident)
    location = Location(organisation_id=organisation.id, name=name.strip(), regulator_location_id=ident)
    address.put_on(location)
    try:
        # Two admins adding the same ID at once: the unique constraint refuses the second, said in words.
        with db.begin_nested():
            db.add(location)
            db.flush()
    except IntegrityError:
        _refuse_taken(db, organisation.id, ident)
        raise
    audit.record(
        db,
        "location:added",
        actor_id=actor_id,
        organisation_id=organisation.id,
        ip=ip,
        user_agent=user_agent,
        location=location.name,
        location_id=ident,
        address=Address.of(location).words(),
    )
    return location


def _refuse_closed(location: Location) -> None:
    if location.is_closed:
        raise RuleBroken(f"{location.name} is closed, so it cannot be changed")


def change(
    db: Session,
    location: Location,
    *,
    name: str,
    address: Address,
    actor_id: int,
    ip: str = "",
    user_agent: str = "",
) -> list[str]:
    """Renames it and changes its address, one event for each that changed; what changed ("name", "address")."""
    _refuse_closed(location)
    changed = []

    def record(event_type: str, **fields: Any) -> None:
        audit.record(
            db,
            event_type,
            actor_id=actor_id,
            organisation_id=location.organisation_id,
            ip=ip,
            user_agent=user_agent,
            **fields,
        )

    name = name.strip()
    if name != location.name:
        record(
            "location:renamed",
            before=location.name,
            after=name,
            location_id=location.regulator_location_id,
        )
        location.name = name
        changed.append("name")
    before = Address.of(location)
    address.put_on(location)
    after = Address.of(location)
    if after != before:
        record("location:address_changed", location=location.name, before=before.words(), after=after.words())
        changed.append("address")
    return changed


def close(
    db: Session,
    location: Location,
    *,
    actor_id: int | None,
    ip: str = "",
    user_agent: str = "",
    register_status: str = "",
) -> AuditEvent:
    """Closes it: it keeps its history and takes no new notifications. register_status is set when an import of
    the regulator's register closes it (the register's word for why), so its history names the register, not a
    person."""
    _refuse_closed(location)
    location.closed_at = utcnow()
    if register_status:
        return audit.record(
            db,
            "location:closed_from_register",
            actor_id=None,
            organisation_id=location.organisation_id,
            location=location.name,
            location_id=location.regulator_location_id,
            register_status=register_status,
        )
    return audit.record(
        db,
        "location:closed",
        actor_id=actor_id,
        organisation_id=location.organisation_id,
        ip=ip,
        user_agent=user_agent,
        location=location.name,
        location_id=location.regulator_location_id,
    )
