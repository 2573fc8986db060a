"""Server-side sessions: who is signed in, in which organisation, holding which roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from ..db import rows_matched
from ..models import Membership, Organisation, RoleGrant, User, UserSession, utcnow
from ..permissions import Permission
from ..roles import ROLES
from ..tokens import new_token, token_hash

SESSION_COOKIE = "portal_session"
# Writing last_seen_at on every request would turn every page view into a write.
TOUCH_EVERY = timedelta(seconds=60)


class NoOrganisation(RuntimeError):
    """Organisation-scoped code ran for someone who is not working in an organisation."""


@dataclass
class Auth:
    user: User
    session: UserSession
    organisation: Organisation | None = None
    membership: Membership | None = None
    # (permission, location_id or None for the whole organisation)
    grants: list[tuple[Permission, int | None]] = field(default_factory=list)

    def has(self, permission: Permission, location_id: int | None = None) -> bool:
        """With no location: held anywhere in the organisation. With one: held there or organisation-wide."""
        if not isinstance(permission, Permission):
            # A bare string or a misspelt template name (P.TYPO is undefined) would otherwise mean "no".
            raise TypeError(f"has() takes a Permission, not {permission!r}")
        for granted, where in self.grants:
            if granted != permission:
                continue
            if location_id is None or where is None or where == location_id:
                return True
        return False

    def locations_with(self, permission: Permission) -> set[int] | None:
        """None means every location of the organisation."""
        if not isinstance(permission, Permission):
            raise TypeError(f"locations_with() takes a Permission, not {permission!r}")
        places: set[int] = set()
        for granted, where in self.grants:
            if granted == permission:
                if where is None:
                    return None
                places.add(where)
        return places

    def require_organisation(self) -> Organisation:
        """The organisation the person is working in, for code that only has a meaning inside one.

        check_permission sends anyone without one to /organisations before a handler of an organisation
        permission runs, so getting here without one is a mistake in the calling code, not a person's doing.
        """
        if self.organisation is None:
            raise NoOrganisation(f"user {self.user.id} has not chosen an organisation")
        return self.organisation

    @property
    def is_regulator(self) -> bool:
        return self.organisation is not None and self.organisation.kind == "regulator"


def grants_of(membership: Membership) -> list[tuple[Permission, int | None]]:
    pairs: list[tuple[Permission, int | None]] = []
    for grant in membership.grants:
        role = ROLES.get(grant.role)
        if role is None:
            continue
        pairs.extend((permission, grant.location_id) for permission in role.permissions)
    return pairs


def start_session(
    db: Session,
    user: User,
    *,
    method: str,
    ip: str,
    user_agent: str,
    id_token: str = "",
    organisation_id: int | None = None,
) -> str:
    """A new session id on every sign-in, so a planted cookie never becomes a signed-in one."""
    token = new_token()
    if organisation_id is None:
        organisation_id = db.scalar(
            select(Membership.organisation_id).where(Membership.user_id == user.id).order_by(Membership.id).limit(1)
        )
        count = db.scalar(select(Membership.id).where(Membership.user_id == user.id).offset(1).limit(1))
        if count is not None:
            organisation_id = None  # more than one: the person chooses
    db.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            method=method,
            ip_address=ip,
            user_agent=user_agent[:400],
            id_token=id_token,
            organisation_id=organisation_id,
        )
    )
    return token


def load_auth(
    db: Session, token: str | None, *, idle: timedelta, absolute: timedelta, now: datetime | None = None
) -> tuple[Auth | None, str]:
    """Returns the signed-in person, or None with why ('' when there was no session at all)."""
    if not token:
        return None, ""
    now = now or utcnow()
    row = db.scalar(
        select(UserSession).options(joinedload(UserSession.user)).where(UserSession.token_hash == token_hash(token))
    )
    if row is None or row.ended_at is not None:
        return None, "ended" if row is not None else ""
    if not row.user.active:
        end_session(row, "deactivated", now)
        return None, "ended"
    if now - row.last_seen_at > idle:
        end_session(row, "idle", now)
        return None, "idle"
    if now - row.created_at > absolute:
        end_session(row, "expired", now)
        return None, "expired"
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    auth = Auth(user=row.user, session=row)
    if row.organisation_id is not None:
        membership = db.scalar(
            select(Membership)
            .options(joinedload(Membership.organisation), selectinload(Membership.grants))
            .where(Membership.user_id == row.user_id, Membership.organisation_id == row.organisation_id)
        )
        if membership is not None:
            auth.membership = membership
            auth.organisation = membership.organisation
            auth.grants = grants_of(membership)
    return auth, ""


def end_session(row: UserSession, reason: str, now: datetime | None = None) -> None:
    row.ended_at = now or utcnow()
    row.ended_reason = reason


def end_all_sessions(db: Session, user_id: int, reason: str) -> int:
    return rows_matched(
        db,
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason),
    )


def switch_organisation(db: Session, auth: Auth, organisation_id: int) -> bool:
    membership = db.scalar(
        select(Membership).where(Membership.user_id == auth.user.id, Membership.organisation_id == organisation_id)
    )
    if membership is None:
        return False
    auth.session.organisation_id = organisation_id
    return True


def memberships_of(db: Session, user_id: int) -> list[Membership]:
    return list(
        db.scalars(
            select(Membership)
            .options(
                joinedload(Membership.organisation), selectinload(Membership.grants).joinedload(RoleGrant.location)
            )
            .where(Membership.user_id == user_id)
            .order_by(Membership.id)
        )
    )
