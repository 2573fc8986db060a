"""Registered people: who a location's registered manager and the organisation's nominated individual are here.

The register names them (register_locations.registered_manager, register_providers.nominated_individual); an
organisation admin records which of the organisation's members each one is, or that they are not a member of
this portal. Names are never matched to people automatically: a name says nothing certain about who signed in
(accounts are matched by verified email only), so it is an admin's statement, audited like any other change.

What is recorded prefills the questions that ask about the registered manager when a notification is started
(portal/notifications/drafting.py): the member's name in the portal when one is linked, else the register's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from .. import audit
from ..models import Location, Membership, Organisation, RegisterLocation, RegisterProvider
from ..rules import RuleBroken
from ..write_locks import lock_members

NOT_A_MEMBER = "none"
NOT_A_MEMBER_WORDS = "not a member of this portal"
MANAGER_FIELD = "registered_manager"
NOMINATED_FIELD = "nominated_individual"


def members_of(db: Session, organisation_id: int) -> list[Membership]:
    """The organisation's members with their accounts, by name then email: one query."""
    return sorted(
        db.scalars(
            select(Membership).options(joinedload(Membership.user)).where(Membership.organisation_id == organisation_id)
        ),
        key=lambda member: (member.user.label.casefold(), member.user.email),
    )


def member_words(member: Membership | None) -> str:
    if member is None:
        return NOT_A_MEMBER_WORDS
    user = member.user
    return f"{user.display_name} ({user.email})" if user.display_name else user.email


def registered_manager_in_register(db: Session, location: Location) -> str:
    """The registered manager's name as the register has it, or '' (not in the register, or none there)."""
    return (
        db.scalar(
            select(RegisterLocation.registered_manager).where(
                RegisterLocation.location_id == location.regulator_location_id
            )
        )
        or ""
    )


def nominated_individual_in_register(db: Session, organisation: Organisation) -> str:
    if not organisation.provider_id:
        return ""
    return (
        db.scalar(
            select(RegisterProvider.nominated_individual).where(
                RegisterProvider.provider_id == organisation.provider_id
            )
        )
        or ""
    )


def nominated_individual(db: Session, organisation_id: int) -> Membership | None:
    return db.scalar(
        select(Membership)
        .options(joinedload(Membership.user))
        .where(Membership.organisation_id == organisation_id, Membership.nominated_individual.is_(True))
        .order_by(Membership.id)
        .limit(1)
    )


def _member_of(db: Session, organisation_id: int, choice: str, field: str) -> Membership | None:
    """The member a form's choice names, None for "not a member"; anything else (another organisation's member,
    a member removed since the page was drawn) is refused in words."""
    if choice == NOT_A_MEMBER:
        return None
    lock_members(db, organisation_id)
    member = None
    if choice.isdigit():
        member = db.scalar(
            select(Membership)
            .options(joinedload(Membership.user))
            .where(Membership.id == int(choice), Membership.organisation_id == organisation_id)
        )
    if member is None:
        raise RuleBroken("Select one of your organisation’s members, or that they are not a member", field=field)
    return member


def record_registered_manager(
    db: Session, location: Location, choice: str, *, actor_id: int, ip: str = "", user_agent: str = ""
) -> bool:
    """Records which member is the location's registered manager (or none); True when that changed anything."""
    if location.is_closed:
        raise RuleBroken(f"{location.name} is closed, so it cannot be changed")
    member = _member_of(db, location.organisation_id, choice, MANAGER_FIELD)
    before = location.registered_manager
    if (member.id if member else None) == location.registered_manager_id:
        return False
    location.registered_manager_id = member.id if member else None
    location.registered_manager = member
    audit.record(
        db,
        "location:registered_manager_recorded",
        actor_id=actor_id,
        organisation_id=location.organisation_id,
        ip=ip,
        user_agent=user_agent,
        location=location.name,
        location_id=location.regulator_location_id,
        before=member_words(before),
        after=member_words(member),
    )
    return True


def record_nominated_individual(
    db: Session, organisation: Organisation, choice: str, *, actor_id: int, ip: str = "", user_agent: str = ""
) -> bool:
    """Records which member is the nominated individual (or none); True when that changed anything."""
    member = _member_of(db, organisation.id, choice, NOMINATED_FIELD)
    before = nominated_individual(db, organisation.id)
    if (member.id if member else None) == (before.id if before else None):
        return False
    # One statement clears whoever was: at most one member of an organisation is its nominated individual.
    db.execute(
        update(Membership)
        .where(Membership.organisation_id == organisation.id, Membership.nominated_individual.is_(True))
        .values(nominated_individual=False)
        .execution_options(synchronize_session="fetch")
    )
    if member is not None:
        member.nominated_individual = True
    audit.record(
        db,
        "organisation:nominated_individual_recorded",
        actor_id=actor_id,
        organisation_id=organisation.id,
        ip=ip,
        user_agent=user_agent,
        before=member_words(before),
        after=member_words(member),
    )
    return True


@dataclass(frozen=True)
class Prefill:
    """What the registered-people questions of a new notification start with: '' where nothing is known."""

    registered_manager: str = ""
    nominated_individual: str = ""

    def of(self, source: str) -> str:
        return getattr(self, source, "")


def prefill_for(db: Session, location: Location) -> Prefill:
    """The location's registered manager and its organisation's nominated individual, by name: the linked member's
    name in the portal when they have one, else the register's."""
    manager = location.registered_manager
    manager_name = manager.user.display_name if manager is not None else ""
    nominated = nominated_individual(db, location.organisation_id)
    nominated_name = nominated.user.display_name if nominated is not None else ""
    return Prefill(
        registered_manager=manager_name or registered_manager_in_register(db, location),
        nominated_individual=nominated_name or nominated_individual_in_register(db, location.organisation),
    )
