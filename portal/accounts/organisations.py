"""Organisation accounts: sign-up requests, members and roles (invitations are in invitations.py).

Every rule about people lives here, callable without HTTP: an organisation keeps at least one
organisation-wide admin, nobody takes away or narrows their own admin role, invitations are bound to
one verified email, and grants stay within the granter's own scope (grants.py says how far that is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import audit, outbox
from ..models import (
    Location,
    Membership,
    Organisation,
    RoleGrant,
    SignupRequest,
    User,
    UserSession,
    utcnow,
)
from ..permissions import PERMISSIONS, Permission
from ..register import onboarding
from ..roles import ROLES, permissions_at
from ..rules import RuleBroken
from ..write_locks import lock_members, take_named_lock
from .grants import Grant, Reach, check_within, reach_of

INVITATION_LIFETIME = timedelta(days=7)
ADMIN_ROLE = "organisation_admin"


def describe_grants(grants, locations: dict[int, str]) -> list[str]:
    words = []
    for grant in sorted(grants, key=lambda g: (g.role, g.location_id or 0)):
        title = ROLES[grant.role].title if grant.role in ROLES else grant.role
        where = "all locations" if grant.location_id is None else locations.get(grant.location_id, "a location")
        words.append(f"{title} ({where})")
    return words


def permissions_of(grants) -> set[tuple[Permission, int | None]]:
    return {
        (permission, grant.location_id)
        for grant in grants
        for permission in permissions_at(grant.role, grant.location_id)
    }


def lost_abilities(before, after, locations: dict[int, str]) -> list[str]:
    """What someone will no longer be able to do, in words, shown before they are demoted or removed."""
    after_permissions = permissions_of(after)
    lost = []
    for permission, where in sorted(permissions_of(before), key=lambda pair: (pair[0], pair[1] or 0)):
        still = (permission, None) in after_permissions or (permission, where) in after_permissions
        if not still:
            place = "anywhere in the organisation" if where is None else f"at {locations.get(where, 'a location')}"
            lost.append(f"{PERMISSIONS[permission].capitalize()} {place}")
    return lost


# Sign-up requests -------------------------------------------------------------------------------


class ProviderHasAccount(RuleBroken):
    """The provider ID already belongs to an organisation here: one provider, one organisation account."""

    def __init__(self, provider_id: str):
        super().__init__(
            f"The provider {provider_id} already has an organisation account. "
            "Ask one of its administrators to invite you."
        )


class AlreadyAsked(RuleBroken):
    def __init__(self, provider_id: str):
        super().__init__(
            f"You have already asked for an account for {provider_id}. The support team will email you when "
            "they have checked it."
        )


def _provider_lock(db: Session, provider_id: str) -> None:
    # Requests and approvals for one provider ID take turns, so two of them never both find it free.
    take_named_lock(db, f"provider:{provider_id}")


def _organisation_with(db: Session, provider_id: str) -> Organisation | None:
    return db.scalar(select(Organisation).where(Organisation.provider_id == provider_id).limit(1))


def request_signup(db: Session, user: User, *, name: str, provider_id: str, ip: str, user_agent: str) -> SignupRequest:
    _provider_lock(db, provider_id)
    if _organisation_with(db, provider_id) is not None:
        raise ProviderHasAccount(provider_id)
    asked = select(SignupRequest.id).where(
        SignupRequest.user_id == user.id, SignupRequest.provider_id == provider_id, SignupRequest.status == "pending"
    )
    if db.scalar(asked) is not None:
        raise AlreadyAsked(provider_id)
    request = SignupRequest(user_id=user.id, organisation_name=name, provider_id=provider_id)
    db.add(request)
    audit.record(
        db,
        "organisation:signup_requested",
        actor_id=user.id,
        subject_user_id=user.id,
        ip=ip,
        user_agent=user_agent,
        name=name,
        provider_id=provider_id,
    )
    return request


def signup_requests_of(db: Session, user_id: int) -> list[SignupRequest]:
    return list(db.scalars(select(SignupRequest).where(SignupRequest.user_id == user_id).order_by(SignupRequest.id)))


def pending_signups(db: Session) -> list[SignupRequest]:
    return list(
        db.scalars(
            select(SignupRequest)
            .options(joinedload(SignupRequest.user))
            .where(SignupRequest.status == "pending")
            .order_by(SignupRequest.created_at)
        )
    )


def _add_registered_locations(
    db: Session, organisation: Organisation, *, actor_id: int | None, ip: str, user_agent: str
):
    """A new organisation starts with the locations the register has for its provider ID, each one a
    location:added event in its history, so its admin need not type them and they match the register."""
    for location in onboarding.starting_locations(db, organisation.provider_id):
        location.organisation_id = organisation.id
        db.add(location)
        audit.record(
            db,
            "location:added",
            actor_id=actor_id,
            organisation_id=organisation.id,
            ip=ip,
            user_agent=user_agent,
            location=location.name,
            location_id=location.regulator_location_id,
            address=", ".join(location.address_lines) or "no address",
        )


def decide_signup(
    db: Session, request_id: int, *, approve: bool, actor_id: int | None, ip: str = "", user_agent: str = ""
) -> SignupRequest:
    """Approves or rejects a pending request, once: two support staff deciding it at the same moment get
    one decision, and the other is told it was already decided."""
    found = db.scalar(select(SignupRequest.provider_id).where(SignupRequest.id == request_id))
    if found is None:
        raise RuleBroken("That request has already been decided")
    _provider_lock(db, found)
    request = db.get(SignupRequest, request_id, populate_existing=True)
    if request is None or request.status != "pending":
        raise RuleBroken("That request has already been decided")
    if approve and _organisation_with(db, request.provider_id) is not None:
        raise ProviderHasAccount(request.provider_id)
    request.decided_at = utcnow()
    fields: dict[str, Any] = dict(
        name=request.organisation_name, provider_id=request.provider_id, requester=request.user.email
    )
    if approve:
        organisation = Organisation(name=request.organisation_name, provider_id=request.provider_id)
        db.add(organisation)
        db.flush()
        membership = Membership(user_id=request.user_id, organisation_id=organisation.id)
        membership.grants.append(RoleGrant(role=ADMIN_ROLE, location_id=None))
        db.add(membership)
        _add_registered_locations(db, organisation, actor_id=actor_id, ip=ip, user_agent=user_agent)
        request.status = "approved"
        request.organisation_id = organisation.id
        audit.record(
            db,
            "organisation:signup_approved",
            actor_id=actor_id,
            organisation_id=organisation.id,
            subject_user_id=request.user_id,
            ip=ip,
            user_agent=user_agent,
            **fields,
        )
        outbox.enqueue_email(
            db,
            template="signup_approved",
            recipient=request.user.email,
            organisation_name=request.organisation_name,
        )
    else:
        request.status = "rejected"
        audit.record(
            db,
            "organisation:signup_rejected",
            actor_id=actor_id,
            subject_user_id=request.user_id,
            ip=ip,
            user_agent=user_agent,
            **fields,
        )
    return request


# Members ----------------------------------------------------------------------------------------


def locations_of(db: Session, organisation_id: int) -> list[Location]:
    return list(db.scalars(select(Location).where(Location.organisation_id == organisation_id).order_by(Location.name)))


WHOLE_ORGANISATION = Reach(None)


def members_of(db: Session, organisation_id: int, *, within: Reach = WHOLE_ORGANISATION) -> list[Membership]:
    """The members, or with a reach limited to some locations, those holding a role at one of them."""
    statement = (
        select(Membership)
        .options(joinedload(Membership.user), selectinload(Membership.grants))
        .where(Membership.organisation_id == organisation_id)
        .join(User, User.id == Membership.user_id)
        .order_by(User.email)
    )
    if within.locations is not None:
        statement = statement.where(
            Membership.id.in_(
                select(RoleGrant.membership_id).where(RoleGrant.location_id.in_(within.locations or {-1}))
            )
        )
    return list(db.scalars(statement))


def member(
    db: Session, organisation_id: int, membership_id: int, *, within: Reach = WHOLE_ORGANISATION
) -> Membership | None:
    """Another organisation's member, or one beyond the reach, is simply not found."""
    found = db.scalar(
        select(Membership)
        .options(joinedload(Membership.user), selectinload(Membership.grants))
        .where(Membership.id == membership_id, Membership.organisation_id == organisation_id)
    )
    return found if found is not None and within.touches(found.grants) else None


def _admin_count(db: Session, organisation_id: int, *, excluding_membership: int | None = None) -> int:
    query = (
        select(func.count(func.distinct(Membership.id)))
        .join(RoleGrant, RoleGrant.membership_id == Membership.id)
        .where(
            Membership.organisation_id == organisation_id, RoleGrant.role == ADMIN_ROLE, RoleGrant.location_id.is_(None)
        )
    )
    if excluding_membership is not None:
        query = query.where(Membership.id != excluding_membership)
    return db.scalar(query) or 0


def _is_admin(grants) -> bool:
    """An organisation-wide admin: the kind an organisation must keep one of."""
    return any(grant.role == ADMIN_ROLE and grant.location_id is None for grant in grants)


def check_location_ids(db: Session, organisation_id: int, grants: list[Grant]) -> None:
    valid = {location.id for location in locations_of(db, organisation_id)}
    for grant in grants:
        if grant.location_id is not None and grant.location_id not in valid:
            raise RuleBroken("Choose locations from this organisation", field="grants")


def check_grantable(db: Session, organisation_id: int, grants: list[Grant], *, actor: User) -> Reach:
    """Each grant names one of the organisation's locations, within where the actor manages members.

    Returns that reach: the actor's own grants as stored, not what any page offered them.
    """
    check_location_ids(db, organisation_id, grants)
    reach = reach_of(db, organisation_id, actor.id, Permission.MEMBERS_MANAGE)
    check_within(reach, grants, location_names(db, organisation_id))
    return reach


def location_names(db: Session, organisation_id: int) -> dict[int, str]:
    return {location.id: location.name for location in locations_of(db, organisation_id)}


@dataclass(frozen=True)
class RoleChange:
    """What a member's roles become when the actor chooses `chosen`, and what the member will lose."""

    after: list[Grant]
    lost: list[str]


def plan_role_change(
    db: Session, organisation_id: int, membership: Membership, chosen: list[Grant], *, actor: User
) -> RoleChange:
    """Checks a change of roles without making it: every rule, so a refusal comes before any confirmation.

    `chosen` replaces the roles within the actor's reach; the member's roles beyond it stay as they are.
    """
    reach = check_grantable(db, organisation_id, chosen, actor=actor)
    kept = reach.outside(membership.grants)
    after = kept + [grant for grant in chosen if grant not in kept]
    if not after:
        raise RuleBroken("Choose at least one role, or remove the member instead", field="grants")
    current = [Grant(g.role, g.location_id) for g in membership.grants]
    managing = Permission.MEMBERS_MANAGE
    if membership.user_id == actor.id and not Reach.of_grants(after, managing).includes(
        Reach.of_grants(current, managing)
    ):
        raise RuleBroken("You cannot remove your own admin role. Ask another admin to do it", field="grants")
    narrowed_admin = _is_admin(current) and not _is_admin(after)
    if narrowed_admin and _admin_count(db, organisation_id, excluding_membership=membership.id) == 0:
        raise RuleBroken("The organisation must keep at least one admin for all locations", field="grants")
    return RoleChange(after=after, lost=lost_abilities(current, after, location_names(db, organisation_id)))


def change_roles(
    db: Session,
    organisation_id: int,
    membership: Membership,
    chosen: list[Grant],
    *,
    actor: User,
    ip: str = "",
    user_agent: str = "",
) -> None:
    """Gives the member `chosen` where the actor manages members (see plan_role_change)."""
    change = plan_role_change(db, organisation_id, membership, chosen, actor=actor)
    current = [Grant(g.role, g.location_id) for g in membership.grants]
    locations = location_names(db, organisation_id)
    membership.grants.clear()
    db.flush()
    for grant in change.after:
        membership.grants.append(RoleGrant(role=grant.role, location_id=grant.location_id))
    if set(current) != set(change.after):
        _leave_practice_copy(db, organisation_id, membership.user_id)
    audit.record(
        db,
        "member:roles_changed",
        actor_id=actor.id,
        organisation_id=organisation_id,
        subject_user_id=membership.user_id,
        ip=ip,
        user_agent=user_agent,
        member=membership.user.email,
        before=describe_grants(current, locations),
        after=describe_grants(change.after, locations),
    )


def _leave_practice_copy(db: Session, organisation_id: int, user_id: int) -> int | None:
    """A member's place in the organisation's practice copy follows their roles here: it goes when they go or
    their roles change (they enter practice again to get the new ones), and so does any session in it, so no
    practice page stays open on roles they no longer have. Returns the copy's id, if there is one."""
    practice = db.scalar(select(Organisation.id).where(Organisation.practice_of_id == organisation_id))
    if practice is None:
        return None
    for place in db.scalars(
        select(Membership).where(Membership.user_id == user_id, Membership.organisation_id == practice)
    ):
        db.delete(place)
    for row in db.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.organisation_id == practice)
    ):
        row.organisation_id = None
    return practice


def removable_by(db: Session, organisation_id: int, membership: Membership, *, actor: User) -> bool:
    """Whether the actor's reach covers every role the member holds (leaving is always one's own to do)."""
    if membership.user_id == actor.id:
        return True
    return reach_of(db, organisation_id, actor.id, Permission.MEMBERS_MANAGE).covers_all(membership.grants)


def remove_member(
    db: Session, organisation_id: int, membership: Membership, *, actor: User, ip: str = "", user_agent: str = ""
) -> None:
    lock_members(db, organisation_id)
    leaving = membership.user_id == actor.id
    if not removable_by(db, organisation_id, membership, actor=actor):
        raise RuleBroken(
            f"{membership.user.email} also has roles beyond the locations where you manage members, so only an "
            "admin for all locations can remove them. You can take away their roles at your locations instead"
        )
    if _is_admin(membership.grants) and _admin_count(db, organisation_id, excluding_membership=membership.id) == 0:
        raise RuleBroken(
            "You are the only admin. Make someone else an admin before you leave"
            if leaving
            else "The organisation must keep at least one admin"
        )
    locations = {location.id: location.name for location in locations_of(db, organisation_id)}
    roles = describe_grants(membership.grants, locations)
    email = membership.user.email
    user_id = membership.user_id
    db.delete(membership)
    practice = _leave_practice_copy(db, organisation_id, user_id)
    # Their sessions in this organisation lose it at once (those in its practice copy have already).
    for row in db.scalars(
        select(UserSession).where(
            UserSession.user_id == user_id, UserSession.organisation_id.in_([organisation_id, practice or -1])
        )
    ):
        row.organisation_id = None
    if leaving:
        audit.record(
            db,
            "member:left",
            actor_id=actor.id,
            organisation_id=organisation_id,
            subject_user_id=user_id,
            ip=ip,
            user_agent=user_agent,
            member=email,
        )
    else:
        audit.record(
            db,
            "member:removed",
            actor_id=actor.id,
            organisation_id=organisation_id,
            subject_user_id=user_id,
            ip=ip,
            user_agent=user_agent,
            member=email,
            roles=roles,
        )


def active_sessions(db: Session, user_id: int) -> list[UserSession]:
    return list(
        db.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .order_by(UserSession.last_seen_at.desc())
        )
    )
