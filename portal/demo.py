"""Demo data: one provider with two locations, a person for each provider role, a support agent, and the
register's entries for the provider, which differ from the portal's in the ways support meets.

Idempotent: running it again changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import REGULATOR, Location, Membership, Organisation, RoleGrant, User

DEMO_PROVIDER = ("Riverside Care Ltd", "1-101000001")
# Name, the regulator's location ID, and an address: (line 1, town, postcode).
DEMO_LOCATIONS = [
    ("Riverside House", "1-201000001", ("1 River Walk", "Riverside", "RV1 1AA")),
    ("Meadow View", "1-201000002", ("22 Meadow Lane", "Riverside", "RV3 4BB")),
]
REGULATOR_ORG = ("The Care Regulator support team", "")
DEMO_PEOPLE = [
    ("drafter@riverside.example", "Dana Drafter", "drafter"),
    ("reviewer@riverside.example", "Rui Reviewer", "reviewer"),
    ("submitter@riverside.example", "Sam Submitter", "submitter"),
    ("admin@riverside.example", "Ada Admin", "organisation_admin"),
]
# The register's view of the demo provider: Riverside House as the portal has it; Meadow View under another
# name and address, and dormant; Willow Lodge registered but not in the portal. Then a registered provider
# with no account yet, for trying sign-up: asking for 1-102000002 shows support the register's match.
_REGISTER_COLUMNS = (
    "Location ID",
    "Location Name",
    "Dormant (Y/N)",
    "Registered manager",
    "Location Street Address",
    "Location Address Line 2",
    "Location City",
    "Location County",
    "Location Postal Code",
    "Provider ID",
    "Provider Name",
    "Provider Nominated Individual Name",
    "Service type - Care home service without nursing",
    "Service type - Domiciliary care service",
)
DEMO_UNSIGNED_PROVIDER = ("Hillcrest Homes Ltd", "1-102000002")
DEMO_REGISTER = [
    (DEMO_PROVIDER, "1-201000001", "Riverside House", "N", "Morgan Manager", "1 River Walk", "Riverside", "RV1 1AA"),
    (DEMO_PROVIDER, "1-201000002", "Meadow View Care Home", "Y", "", "24 Meadow Lane", "Riverside", "RV3 4BB"),
    (DEMO_PROVIDER, "1-201000003", "Willow Lodge", "N", "Wren Manager", "5 Willow Road", "Riverside", "RV2 2CC"),
    (DEMO_UNSIGNED_PROVIDER, "1-202000001", "Hillcrest", "N", "Hal Manager", "1 Hill Road", "Hilltown", "HT1 1AA"),
    (DEMO_UNSIGNED_PROVIDER, "1-202000002", "Hillcrest Annexe", "N", "", "3 Hill Road", "Hilltown", "HT1 1AB"),
]
DEMO_SUPPORT = [
    ("support@regulator.example", "Suki Support", "support_agent"),
    ("lead@regulator.example", "Lee Lead", "support_lead"),
]


def _organisation(db: Session, name: str, provider_id: str, kind: str = "provider") -> Organisation:
    organisation = db.scalar(select(Organisation).where(Organisation.name == name, Organisation.kind == kind))
    if organisation is None:
        organisation = Organisation(name=name, provider_id=provider_id, kind=kind)
        db.add(organisation)
        db.flush()
    return organisation


def _member(db: Session, organisation: Organisation, email: str, name: str, role: str) -> None:
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name=name)
        db.add(user)
        db.flush()
    membership = db.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    )
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=organisation.id)
        membership.grants.append(RoleGrant(role=role, location_id=None))
        db.add(membership)


def seed(db: Session) -> Organisation:
    provider = _organisation(db, *DEMO_PROVIDER)
    existing = {location.regulator_location_id for location in provider.locations}
    for name, location_id, (line_1, town, postcode) in DEMO_LOCATIONS:
        if location_id not in existing:
            provider.locations.append(
                Location(
                    name=name, regulator_location_id=location_id, address_line_1=line_1, town=town, postcode=postcode
                )
            )
    for email, name, role in DEMO_PEOPLE:
        _member(db, provider, email, name, role)
    regulator = _organisation(db, *REGULATOR_ORG, kind=REGULATOR)
    for email, name, role in DEMO_SUPPORT:
        _member(db, regulator, email, name, role)
    db.flush()
    _register(db)
    return provider


def _register(db: Session) -> None:
    from .register.importing import import_rows
    from .register.reading import rows

    lines = [",".join(_REGISTER_COLUMNS)]
    for (provider_name, provider_id), location_id, name, dormant, manager, street, town, postcode in DEMO_REGISTER:
        home_care = "Y" if name == "Willow Lodge" else ""
        location = [location_id, name, dormant, manager, street, "", town, "", postcode]
        lines.append(",".join([*location, provider_id, provider_name, "Nia Nominated", "Y", home_care]))
    # Partial: the demo lists two providers' locations, and must not close anyone else's.
    report = import_rows(db, rows(lines, r"1-[0-9]+"), full=False)
    if not report.imported:
        raise RuntimeError("the demo register does not read: " + " ".join(report.lines()))
