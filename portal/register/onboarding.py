"""The register at sign-up: what support sees before deciding a request, and the locations an approved
organisation starts with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Location, RegisterLocation, RegisterProvider
from .facts import same_words


@dataclass
class SignupMatch:
    provider: RegisterProvider | None
    locations: list[RegisterLocation]  # the provider's open registered locations
    differences: list[str] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # their IDs another organisation in the portal has


def open_locations_of(db: Session, provider_id: str) -> list[RegisterLocation]:
    return list(
        db.scalars(
            select(RegisterLocation)
            .where(RegisterLocation.provider_id == provider_id, RegisterLocation.closed_at.is_(None))
            .order_by(RegisterLocation.name, RegisterLocation.location_id)
        )
    )


def matches(db: Session, requests: Iterable[tuple[int, str, str]]) -> dict[int, SignupMatch]:
    """For each (request id, organisation name, provider ID): the register's provider, its open locations,
    and how the request differs. Two queries, whatever the number of requests."""
    requests = list(requests)
    provider_ids = {provider_id for _, _, provider_id in requests}
    providers = {
        row.provider_id: row
        for row in db.scalars(select(RegisterProvider).where(RegisterProvider.provider_id.in_(provider_ids)))
    }
    locations: dict[str, list[RegisterLocation]] = {}
    for row in db.scalars(
        select(RegisterLocation)
        .where(RegisterLocation.provider_id.in_(provider_ids), RegisterLocation.closed_at.is_(None))
        .order_by(RegisterLocation.name, RegisterLocation.location_id)
    ):
        locations.setdefault(row.provider_id, []).append(row)
    taken = _taken(db, [row.location_id for rows in locations.values() for row in rows])
    found = {}
    for request_id, name, provider_id in requests:
        provider = providers.get(provider_id)
        differences = []
        if provider is None:
            differences.append(f"The provider ID {provider_id} is not in the register")
        else:
            if not same_words(provider.name, name):
                differences.append(f"Name differs: the register has “{provider.name}”")
            if provider.is_closed:
                differences.append("The provider is no longer listed in the register")
            if not locations.get(provider_id):
                differences.append("The register lists no open locations for this provider")
        mine = locations.get(provider_id, [])
        elsewhere = {row.location_id for row in mine} & taken
        if elsewhere:
            differences.append(
                f"{len(elsewhere)} of its registered locations already belong to another organisation in the portal"
            )
        found[request_id] = SignupMatch(provider, mine, differences, elsewhere)
    return found


def _taken(db: Session, location_ids: list[str]) -> set[str]:
    if not location_ids:
        return set()
    return set(
        db.scalars(select(Location.regulator_location_id).where(Location.regulator_location_id.in_(location_ids)))
    )


def starting_locations(db: Session, provider_id: str) -> list[Location]:
    """New portal locations for an approved organisation: the provider's open registered locations, except
    any whose location ID another organisation already has (IDs are unique across the portal; support
    sorts out such a move by hand)."""
    registered = open_locations_of(db, provider_id)
    taken = _taken(db, [row.location_id for row in registered])
    return [portal_location(row) for row in registered if row.location_id not in taken]


def portal_location(row: RegisterLocation) -> Location:
    """A new portal location with a registered location's ID, name and address. The register's columns are
    wider than the portal's, so a longer value is cut to fit; a postcode that does not fit is left out."""
    return Location(
        name=row.name[:200],
        regulator_location_id=row.location_id,
        address_line_1=row.address_line_1[:200],
        address_line_2=row.address_line_2[:200],
        town=row.town[:100],
        postcode=row.postcode if len(row.postcode) <= 10 else "",
    )
