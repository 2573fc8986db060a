"""Server-side sessions: who is signed in, in which organisation, holding which roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from ..db import rows_matched
from ..models import Membership, Organisation, RoleGrant, User, UserSession, utcnow
from ..permissions import NOT_IN_PRACTICE, Permission
from ..regulator_scope import practice_organisation_ids
from ..roles import permissions_at
from ..tokens import new_token, token_hash

SESSION_COOKIE = "portal_session"
# Writing last_seen_at on every request would turn every page view into a write.
TOUCH_EVERY = timedelta(seconds=60)


# Ended for these reasons, a session's person may get back what they posted after it ended: time ran out
# while the page stayed open in their browser. A session ended any other way (signed out, signed in again,
# signed out everywhere, ended by support) had its cookie taken from that browser, so a request still
# carrying it is a copy: what it posts is never offered to the person as their own words.
KEEPS_INPUT_AFTER = frozenset({"idle", "expired"})


@dataclass(frozen=True)
class EndedSession:
    """A session the browser still presents after it ended: why, and whose it was.

    reason is the word the signed-out page knows ("idle", "expired" or "ended"); user_id and signed_out_at
    are set only when that person may get back what the browser posted after the end (KEEPS_INPUT_AFTER).
    """

    reason: str
    user_id: int | None = None
    signed_out_at: datetime | None = None


NO_SESSION = EndedSession(reason="")


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
        pairs.extend((permission, grant.location_id) for permission in permissions_at(grant.role, grant.location_id))
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
        # A sign-in starts in a real organisation: practice is entered from inside one, on purpose.
        real = select(Membership.organisation_id).where(
            Membership.user_id == user.id, Membership.organisation_id.not_in(practice_organisation_ids())
        )
        organisation_id = db.scalar(real.order_by(Membership.id).limit(1))
        count = db.scalar(real.order_by(Membership.id).offset(1).limit(1))
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
) -> tuple[Auth | None, EndedSession]:
    """The signed-in person, or None with the session that ended (NO_SESSION when there was none at all)."""
    if not token:
        return None, NO_SESSION
    now = now or utcnow()
    row = db.scalar(
        select(UserSession).options(joinedload(UserSession.user)).where(UserSession.token_hash == token_hash(token))
    )
    if row is None:
        return None, NO_SESSION
    if row.ended_at is not None:
        return None, _ended(row, "ended", idle=idle, absolute=absolute)
    if not row.user.active:
        end_session(row, "deactivated", now)
        return None, _ended(row, "ended", idle=idle, absolute=absolute)
    if now - row.last_seen_at > idle:
        end_session(row, "idle", now)
        return None, _ended(row, "idle", idle=idle, absolute=absolute)
    if now - row.created_at > absolute:
        end_session(row, "expired", now)
        return None, _ended(row, "expired", idle=idle, absolute=absolute)
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
            if membership.organisation.practice_of_id is not None:
                # In a practice copy nobody asks support, invites or manages: see NOT_IN_PRACTICE.
                auth.grants = [pair for pair in auth.grants if pair[0] not in NOT_IN_PRACTICE]
    return auth, NO_SESSION


def _ended(row: UserSession, reason: str, *, idle: timedelta, absolute: timedelta) -> EndedSession:
    if row.ended_reason not in KEEPS_INPUT_AFTER or not row.user.active or row.ended_at is None:
        return EndedSession(reason=reason)
    # An idle session is only found ended at the next request, which may be hours later: the person was
    # signed out when the idle time ran out, and that is the time they will recognise.
    if row.ended_reason == "idle":
        signed_out_at = min(row.ended_at, row.last_seen_at + idle)
    elif row.ended_reason == "expired":
        signed_out_at = min(row.ended_at, row.created_at + absolute)
    else:
        signed_out_at = row.ended_at
    return EndedSession(reason=reason, user_id=row.user_id, signed_out_at=signed_out_at)


def limits(idle_minutes: int, absolute_hours: int) -> tuple[timedelta, timedelta]:
    """The idle and absolute limits, from the settings' numbers."""
    return timedelta(minutes=idle_minutes), timedelta(hours=absolute_hours)


def seconds_left(row: UserSession, *, idle: timedelta, absolute: timedelta, now: datetime | None = None) -> int:
    """How long the session lasts if nothing more happens: what the page's timeout warning counts down from.

    The server decides; the page only counts. Whichever limit comes first ends the session.
    """
    now = now or utcnow()
    ends = min(row.last_seen_at + idle, row.created_at + absolute)
    return max(0, int((ends - now).total_seconds()))


def keep_alive(row: UserSession, *, idle: timedelta, absolute: timedelta, now: datetime | None = None) -> int:
    """ "Stay signed in": the idle clock starts again now, however recently the session was last touched.

    Returns the seconds now left. The absolute limit is not moved: staying signed in is for a pause, not
    for keeping a session for ever.
    """
    now = now or utcnow()
    row.last_seen_at = now
    return seconds_left(row, idle=idle, absolute=absolute, now=now)


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
    """Into a real organisation only: a practice copy is entered and left by portal/organisation/practice.py,
    which records it."""
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == auth.user.id,
            Membership.organisation_id == organisation_id,
            Membership.organisation_id.not_in(practice_organisation_ids()),
        )
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
            .where(Membership.user_id == user_id, Membership.organisation_id.not_in(practice_organisation_ids()))
            .order_by(Membership.id)
        )
    )
