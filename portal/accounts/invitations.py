"""Invitations: bound to one verified email, expiring, resent or revoked by an organisation admin.

An invitation grants only within the inviter's own reach, and an admin for some locations sees, resends
and revokes only the invitations whose every role lies within their locations (grants.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from .. import audit, links, outbox
from ..models import (
    Invitation,
    Membership,
    RoleGrant,
    User,
    utcnow,
)
from ..roles import ROLES
from ..rules import RuleBroken
from ..tokens import new_token, token_hash
from .email_link import normalise_email
from .grants import Reach
from .organisations import (
    INVITATION_LIFETIME,
    WHOLE_ORGANISATION,
    Grant,
    check_grantable,
    describe_grants,
    locations_of,
)


def grants_of(invitation: Invitation) -> list[Grant]:
    return [Grant(item["role"], item["location_id"]) for item in invitation.grants]


def invitations_of(db: Session, organisation_id: int, *, within: Reach = WHOLE_ORGANISATION) -> list[Invitation]:
    """Pending invitations; with a reach limited to some locations, those whose every role lies there."""
    pending = db.scalars(
        select(Invitation)
        .where(Invitation.organisation_id == organisation_id, Invitation.status == "pending")
        .order_by(Invitation.created_at.desc())
    )
    return [found for found in pending if within.covers_all(grants_of(found))]


def invitation(
    db: Session, organisation_id: int, invitation_id: int, *, within: Reach = WHOLE_ORGANISATION
) -> Invitation | None:
    found = db.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.organisation_id == organisation_id)
    )
    return found if found is not None and within.covers_all(grants_of(found)) else None


def _send_invitation(db: Session, invitation: Invitation, token: str, base_url: str) -> None:
    outbox.enqueue_email(
        db,
        template="invitation",
        recipient=invitation.email,
        organisation_name=invitation.organisation.name,
        link=links.invitation(base_url, token),
    )


def invite(
    db: Session,
    organisation_id: int,
    *,
    email: str,
    grants: list[Grant],
    actor: User,
    base_url: str,
    ip: str = "",
    user_agent: str = "",
) -> Invitation:
    email = normalise_email(email)
    if not grants:
        raise RuleBroken("Choose at least one role", field="grants")
    check_grantable(db, organisation_id, grants, actor=actor)
    already = db.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation_id, User.email == email)
    )
    if already is not None:
        raise RuleBroken(f"{email} is already a member of this organisation", field="email")
    for old in db.scalars(
        select(Invitation).where(
            Invitation.organisation_id == organisation_id, Invitation.email == email, Invitation.status == "pending"
        )
    ):
        old.status = "replaced"
    token = new_token()
    invitation = Invitation(
        organisation_id=organisation_id,
        email=email,
        grants=[{"role": g.role, "location_id": g.location_id} for g in grants],
        token_hash=token_hash(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.add(invitation)
    db.flush()
    _send_invitation(db, invitation, token, base_url)
    locations = {location.id: location.name for location in locations_of(db, organisation_id)}
    audit.record(
        db,
        "member:invited",
        actor_id=actor.id,
        organisation_id=organisation_id,
        ip=ip,
        user_agent=user_agent,
        invitee=email,
        roles=describe_grants(grants, locations),
    )
    return invitation


def resend_invitation(
    db: Session, invitation: Invitation, *, actor_id: int | None, base_url: str, ip: str = "", user_agent: str = ""
) -> None:
    if invitation.status != "pending":
        raise RuleBroken("Only a pending invitation can be resent")
    token = new_token()
    invitation.token_hash = token_hash(token)
    invitation.expires_at = utcnow() + INVITATION_LIFETIME
    _send_invitation(db, invitation, token, base_url)
    audit.record(
        db,
        "member:invitation_resent",
        actor_id=actor_id,
        organisation_id=invitation.organisation_id,
        ip=ip,
        user_agent=user_agent,
        invitee=invitation.email,
    )


def revoke_invitation(
    db: Session, invitation: Invitation, *, actor_id: int | None, ip: str = "", user_agent: str = ""
) -> None:
    if invitation.status != "pending":
        raise RuleBroken("Only a pending invitation can be revoked")
    invitation.status = "revoked"
    invitation.decided_at = utcnow()
    audit.record(
        db,
        "member:invitation_revoked",
        actor_id=actor_id,
        organisation_id=invitation.organisation_id,
        ip=ip,
        user_agent=user_agent,
        invitee=invitation.email,
    )


def invitation_for(db: Session, user: User, invitation_id: int) -> Invitation | None:
    """An invitation as the person it was sent to sees it: None when there is none, or it is someone else's."""
    found = db.get(Invitation, invitation_id)
    return None if invitation_problem(found, user) in ("unknown", "other_email") else found


def invitation_by_token(db: Session, token: str) -> Invitation | None:
    return db.scalar(
        select(Invitation)
        .options(joinedload(Invitation.organisation))
        .where(Invitation.token_hash == token_hash(token))
    )


def invitation_problem(invitation: Invitation | None, user: User | None) -> str:
    """'' when the invitation can be answered by this person, else why not."""
    if invitation is None:
        return "unknown"
    if invitation.status != "pending":
        return "used"
    if invitation.expires_at < utcnow():
        return "expired"
    if user is not None and normalise_email(user.email) != invitation.email:
        return "other_email"
    return ""


def accept_invitation(
    db: Session, invitation: Invitation, user: User, *, ip: str = "", user_agent: str = ""
) -> Membership:
    problem = invitation_problem(invitation, user)
    if problem:
        raise RuleBroken(problem)
    invitation.status = "accepted"
    invitation.decided_at = utcnow()
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == invitation.organisation_id
        )
    )
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=invitation.organisation_id)
        db.add(membership)
    existing = {(g.role, g.location_id) for g in membership.grants}
    grants = [Grant(item["role"], item["location_id"]) for item in invitation.grants if item["role"] in ROLES]
    for grant in grants:
        if (grant.role, grant.location_id) not in existing:
            membership.grants.append(RoleGrant(role=grant.role, location_id=grant.location_id))
    locations = {location.id: location.name for location in locations_of(db, invitation.organisation_id)}
    audit.record(
        db,
        "member:invitation_accepted",
        actor_id=user.id,
        organisation_id=invitation.organisation_id,
        subject_user_id=user.id,
        ip=ip,
        user_agent=user_agent,
        invitee=user.email,
        roles=describe_grants(grants, locations),
    )
    return membership


def decline_invitation(db: Session, invitation: Invitation, user: User, *, ip: str = "", user_agent: str = "") -> None:
    problem = invitation_problem(invitation, user)
    if problem:
        raise RuleBroken(problem)
    invitation.status = "declined"
    invitation.decided_at = utcnow()
    audit.record(
        db,
        "member:invitation_declined",
        actor_id=user.id,
        organisation_id=invitation.organisation_id,
        subject_user_id=user.id,
        ip=ip,
        user_agent=user_agent,
        invitee=user.email,
    )


def pending_invitations_for(db: Session, email: str) -> list[Invitation]:
    return list(
        db.scalars(
            select(Invitation)
            .options(joinedload(Invitation.organisation))
            .where(
                Invitation.email == normalise_email(email),
                Invitation.status == "pending",
                Invitation.expires_at > utcnow(),
            )
        )
    )
