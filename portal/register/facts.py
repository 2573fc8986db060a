"""What the register says about an organisation and its locations, and where the portal differs from it.

Support reads these on the organisation page. Comparisons ignore case, repeated spaces and the spacing
of postcodes: "12  High St" and "12 high st" are the same address; "12 High Street" is not, since only a
person can tell whether it is the same place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..models import Location, Organisation, RegisterLocation, RegisterProvider
from ..models.register import DEREGISTERED, DORMANT, NOT_LISTED

STATUS_WORDS = {
    "registered": "Registered",
    DORMANT: "Dormant",
    DEREGISTERED: "Deregistered",
    NOT_LISTED: "No longer listed",
}


@dataclass
class LocationFacts:
    """One location, in the portal, in the register, or both, with how the two differ."""

    location_id: str
    portal: Location | None
    registered: RegisterLocation | None
    differences: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.portal.name if self.portal else self.registered.name if self.registered else ""


@dataclass
class OrganisationFacts:
    imported: bool  # whether any register has been imported at all
    provider: RegisterProvider | None
    differences: list[str]
    locations: list[LocationFacts]

    @property
    def location_differences(self) -> int:
        return sum(1 for place in self.locations if place.differences)


def same_words(first: str, second: str) -> bool:
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


def _same_postcode(first: str, second: str) -> bool:
    return "".join(first.split()).casefold() == "".join(second.split()).casefold()


def status_words(registered: RegisterLocation | RegisterProvider) -> str:
    return STATUS_WORDS.get(registered.status, registered.status)


def location_differences(portal: Location | None, registered: RegisterLocation | None, provider_id: str) -> list[str]:
    if portal is None and registered is not None:
        return ["In the register, but not one of the organisation’s locations in the portal"]
    if portal is None:
        return []
    if registered is None:
        return ["Not in the register: no registered location has this location ID"]
    found = []
    if registered.provider_id != provider_id:
        found.append(f"Registered to another provider, {registered.provider_id}")
    if not same_words(portal.name, registered.name):
        found.append(f"Name differs: the register has “{registered.name}”")
    portal_address = (portal.address_line_1, portal.address_line_2, portal.town)
    register_address = (registered.address_line_1, registered.address_line_2, registered.town)
    if not any(portal_address) and not portal.postcode:
        found.append("No address in the portal")
    elif not all(same_words(a, b) for a, b in zip(portal_address, register_address, strict=True)) or not _same_postcode(
        portal.postcode, registered.postcode
    ):
        found.append("Address differs from the register’s")
    if registered.is_closed and not portal.is_closed:
        found.append(f"Closed in the register ({status_words(registered).lower()}), open in the portal")
    if portal.is_closed and not registered.is_closed:
        found.append("Closed in the portal, still registered")
    return found


def for_organisation(db: Session, organisation: Organisation, locations: list[Location]) -> OrganisationFacts:
    """The register's facts for the organisation's provider ID and for each of its locations.

    The register's locations are those of the provider, and those whose IDs the organisation's locations
    carry (one may be registered to another provider): two queries, whatever the number of locations."""
    imported = bool(db.scalar(select(exists().where(RegisterProvider.id.is_not(None)))))
    provider_id = organisation.provider_id
    provider = (
        db.scalar(select(RegisterProvider).where(RegisterProvider.provider_id == provider_id)) if provider_id else None
    )
    ids = [location.regulator_location_id for location in locations]
    conditions: list[ColumnElement[bool]] = [RegisterLocation.location_id.in_(ids)] if ids else []
    if provider_id:
        conditions.append(RegisterLocation.provider_id == provider_id)
    registered = (
        {row.location_id: row for row in db.scalars(select(RegisterLocation).where(or_(*conditions)))}
        if conditions
        else {}
    )
    places = [
        LocationFacts(
            location.regulator_location_id,
            location,
            registered.get(location.regulator_location_id),
            location_differences(location, registered.get(location.regulator_location_id), provider_id),
        )
        for location in locations
    ]
    in_portal = set(ids)
    places += [
        LocationFacts(row.location_id, None, row, location_differences(None, row, provider_id))
        for row in sorted(registered.values(), key=lambda row: row.name.casefold())
        # A closed registered location the portal never had is history, not a difference.
        if row.location_id not in in_portal and not row.is_closed
    ]
    differences = []
    if imported and provider_id and provider is None:
        differences.append(f"The provider ID {provider_id} is not in the register")
    if provider is not None:
        if not same_words(provider.name, organisation.name):
            differences.append(f"Name differs: the register has “{provider.name}”")
        if provider.is_closed:
            differences.append("The provider is no longer listed in the register")
    return OrganisationFacts(imported, provider, differences, places)
