"""Organisation accounts: sign-up requests, members and roles (invitations are in invitations.py).

Every rule about people lives here, callable without HTTP: an organisation keeps at least one
admin, nobody removes their own last admin role, invitations are bound to one verified email.
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
from ..roles import ROLES
from ..rules import RuleBroken

INVITATION_LIFETIME = timedelta(days=7)
ADMIN_ROLE = "organisation_admin"


@dataclass(frozen=True)
class Grant:
    role: str
    location_id: int | None

    @classmethod
    def parse(cls, value: str) -> Grant:
        role, _, where = value.partition(":")
        if role not in ROLES or ROLES[role].scope != "provider":
            raise ValueError(value)
        return cls(role, None if where in ("", "all") else int(where))

    @property
    def value(self) -> str:
        return f"{self.role}:{'all' if self.location_id is None else self.location_id}"


def describe_grants(grants, locations: dict[int, str]) -> list[str]:
    words = []
    for grant in sorted(grants, key=lambda g: (g.role, g.location_id or 0)):
        title = ROLES[grant.role].title if grant.role in ROLES else grant.role
        where = "all locations" if grant.location_id is None else locations.get(grant.location_id, "a location")
        words.append(f"{title} ({where})")
    return words


def permissions_of(grants) -> set[tuple[Permission, int | None]]:
    return {(permission, grant.location_id) for grant in grants for permission in ROLES[grant.role].permissions}


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


def request_signup(db: Session, user: User, *, name: str, provider_id: str, ip: str, user_agent: str) -> SignupRequest:
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


def decide_signup(
    db: Session, request_id: int, *, approve: bool, actor_id: int | None, ip: str = "", user_agent: str = ""
) -> SignupRequest:
    request = db.get(SignupRequest, request_id)
    if request is None or request.status != "pending":
        raise RuleBroken("That request has already been decided")
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


def members_of(db: Session, organisation_id: int) -> list[Membership]:
    return list(
        db.scalars(
            select(Membership)
            .options(joinedload(Membership.user), selectinload(Membership.grants))
            .where(Membership.organisation_id == organisation_id)
            .join(User, User.id == Membership.user_id)
            .order_by(User.email)
        )
    )


def member(db: Session, organisation_id: int, membership_id: int) -> Membership | None:
    """Another organisation's member is simply not found."""
    return db.scalar(
        select(Membership)
        .options(joinedload(Membership.user), selectinload(Membership.grants))
        .where(Membership.id == membership_id, Membership.organisation_id == organisation_id)
    )


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
    return any(grant.role == ADMIN_ROLE and grant.location_id is None for grant in grants)


def check_location_ids(db: Session, organisation_id: int, grants: list[Grant]) -> None:
    valid = {location.id for location in locations_of(db, organisation_id)}
    for grant in grants:
        if grant.location_id is not None and grant.location_id not in valid:
            raise RuleBroken("Choose locations from this organisation", field="grants")


def change_roles(
    db: Session,
    organisation_id: int,
    membership: Membership,
    new: list[Grant],
    *,
    actor: User,
    ip: str = "",
    user_agent: str = "",
) -> None:
    if not new:
        raise RuleBroken("Choose at least one role, or remove the member instead", field="grants")
    check_location_ids(db, organisation_id, new)
    current = [Grant(g.role, g.location_id) for g in membership.grants]
    if _is_admin(current) and not _is_admin(new):
        if membership.user_id == actor.id:
            raise RuleBroken("You cannot remove your own admin role. Ask another admin to do it", field="grants")
        if _admin_count(db, organisation_id, excluding_membership=membership.id) == 0:
            raise RuleBroken("The organisation must keep at least one admin", field="grants")
    locations = {location.id: location.name for location in locations_of(db, organisation_id)}
    membership.grants.clear()
    db.flush()
    for grant in new:
        membership.grants.append(RoleGrant(role=grant.role, location_id=grant.location_id))
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
        after=describe_grants(new, locations),
    )


def remove_member(
    db: Session, organisation_id: int, membership: Membership, *, actor: User, ip: str = "", user_agent: str = ""
) -> None:
    leaving = membership.user_id == actor.id
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
    # Their sessions in this organisation lose it at once.
    for row in db.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.organisation_id == organisation_id)
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
