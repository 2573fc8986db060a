"""Demo data: one provider with two locations, a person for each provider role, and a support agent.

Idempotent: running it again changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import REGULATOR, Location, Membership, Organisation, RoleGrant, User

DEMO_PROVIDER = ("Riverside Care Ltd", "1-101000001")
DEMO_LOCATIONS = [("Riverside House", "1-201000001"), ("Meadow View", "1-201000002")]
REGULATOR_ORG = ("The Care Regulator support team", "")
DEMO_PEOPLE = [
    ("drafter@riverside.example", "Dana Drafter", "drafter"),
    ("reviewer@riverside.example", "Rui Reviewer", "reviewer"),
    ("submitter@riverside.example", "Sam Submitter", "submitter"),
    ("admin@riverside.example", "Ada Admin", "organisation_admin"),
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
    for name, location_id in DEMO_LOCATIONS:
        if location_id not in existing:
            provider.locations.append(Location(name=name, regulator_location_id=location_id))
    for email, name, role in DEMO_PEOPLE:
        _member(db, provider, email, name, role)
    regulator = _organisation(db, *REGULATOR_ORG, kind=REGULATOR)
    for email, name, role in DEMO_SUPPORT:
        _member(db, regulator, email, name, role)
    db.flush()
    return provider
